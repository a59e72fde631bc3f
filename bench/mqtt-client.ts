/**
 * Benchmark role: an mqtt.js client (MQTT 3.1.1, clean session, TCP) against Aedes or
 * Mosquitto. Payloads are the same telemetry object as every other system, encoded with
 * cbor-x (plain maps) so that the codec is the same on every side; subscribers decode them.
 *
 * Modes (`--mode`), as in rembus-client.ts:
 * - `sub --pattern P --expect N [--qos 1]`, `pub --count N --chunk C [--topic T | --topics 1000] [--qos 1]`
 * - `rpc-server`, `rpc-caller --count N [--concurrency K] [--warmup W]`
 *
 * RPC over MQTT (Aedes speaks MQTT 3.1.1 only, so no MQTT 5 `responseTopic`/`correlationData`):
 * the usual request/response envelope. The caller subscribes to its own reply topic
 * `bench/rpc/reply/<clientId>` once, then publishes QoS0 requests on `bench/rpc/add` with the
 * CBOR payload `[correlationId, replyTopic, a, b]`; the server answers on `replyTopic` with
 * `[correlationId, a + b]`; the caller resolves the pending call of that correlation id.
 */
import { randomUUID } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  awaitedPublisher, Counter, die, now, num, onParent, paced, parseArgs, qos0Publisher, rpcCaller, str, tell, telemetry, topicFor,
} from './common.js';

const args = parseArgs();
const url = str(args, 'url');
const mode = str(args, 'mode');
const qos = num(args, 'qos', 0) === 1 ? 1 : 0;
const awaitedQos = num(args, 'qos', 0) === 2 ? 2 : 1;
const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

const REQUEST_TOPIC = 'bench/rpc/add';

async function main(): Promise<void> {
  const clientId = `bench-${mode}-${randomUUID().slice(0, 8)}`;
  const client: MqttClient = await connectAsync(url, {
    clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, keepalive: 60,
  });
  onParent({ exit: () => client.endAsync(true) });
  switch (mode) {
    case 'sub': {
      let qos1 = 0;
      const counter = new Counter(num(args, 'expect'), () => ({ qos1 }));
      client.on('message', (_topic, payload, packet) => {
        decoder.decode(payload);
        if (packet.qos === 1) qos1++;
        counter.hit();
      });
      onParent({ stop: () => counter.report() });
      await client.subscribeAsync(str(args, 'pattern'), { qos }); // resolves on SUBACK
      tell({ type: 'ready' });
      return;
    }
    case 'pub': {
      const count = num(args, 'count');
      const chunk = num(args, 'chunk');
      const topic = topicFor(args);
      if (qos === 1) {
        let acked = 0;
        let failed = 0;
        let lastAck = 0;
        let t0 = 0;
        const report = (): void => tell({ type: 'result', acked, failed, first: t0, last: lastAck });
        const onDone = (err?: Error): void => {
          if (err) failed++;
          else { acked++; lastAck = now(); }
          if (acked + failed === count) report();
        };
        onParent({
          go: () => {
            t0 = now();
            void paced(count, chunk, (i) => client.publish(topic(i), encoder.encode(telemetry(i)), { qos: 1 }, onDone));
          },
          stop: report,
        });
        tell({ type: 'ready' });
        return;
      }
      qos0Publisher(args, (i) => client.publish(topic(i), encoder.encode(telemetry(i)), { qos: 0 }));
      return;
    }
    case 'rpc-server': {
      client.on('message', (_topic, payload) => {
        const [id, replyTo, a, b] = decoder.decode(payload) as [number, string, number, number];
        client.publish(replyTo, encoder.encode([id, a + b]), { qos: 0 });
      });
      await client.subscribeAsync(REQUEST_TOPIC, { qos: 0 });
      tell({ type: 'ready' });
      return;
    }
    case 'awaited': {
      // W10: publishAsync resolves on PUBACK (QoS1) or PUBCOMP (QoS2).
      awaitedPublisher(args, (i) => client.publishAsync('bench/telemetry', encoder.encode(telemetry(i)), { qos: awaitedQos }));
      return;
    }
    case 'rpc-caller': {
      const replyTo = `bench/rpc/reply/${clientId}`;
      const pending = new Map<number, (result: unknown) => void>();
      let nextId = 0;
      client.on('message', (_topic, payload) => {
        const [id, result] = decoder.decode(payload) as [number, unknown];
        const resolve = pending.get(id);
        if (resolve === undefined) return;
        pending.delete(id);
        resolve(result);
      });
      await client.subscribeAsync(replyTo, { qos: 0 });
      const call = (i: number): Promise<unknown> => new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        client.publish(REQUEST_TOPIC, encoder.encode([id, replyTo, i, 1]), { qos: 0 });
      });
      rpcCaller(args, call);
      return;
    }
    default:
      throw new Error(`unknown --mode ${mode}`);
  }
}

main().catch(die);
