/**
 * Benchmark role: a Redis client (`redis`, the official node-redis, RESP over TCP) against a native
 * `redis-server`. Same modes, pacing and payload as mqtt-client.ts and nats-client.ts: the
 * telemetry object encoded with cbor-x (plain maps), decoded by every subscriber.
 *
 * Modes (`--mode`):
 * - `sub --pattern P --expect N`, `pub --count N --chunk C [--topic T | --topics 1000]`
 * - `rpc-server`, `rpc-caller --count N [--concurrency K] [--warmup W]`
 *
 * Pub/sub is Redis's own: `PUBLISH` on the topic as channel name (Redis channels are flat names,
 * `/` is an ordinary character), `SUBSCRIBE` for an exact topic and `PSUBSCRIBE` for W3's
 * `*\/*\/*\/telemetry` (a Redis glob: `*` also matches `/`, so it is wider than one segment, but
 * matches the same W3 topics). Subscriptions are in buffer mode: the payload arrives as bytes.
 *
 * RPC is the usual Redis work queue: the caller `LPUSH`es `[correlationId, replyKey, a, b]`
 * (CBOR) on the list `bench:rpc:add`; the server pops requests with `BLMPOP … RIGHT COUNT 100`
 * on its own connection (a blocking pop holds its connection) and `LPUSH`es `[correlationId,
 * a + b]` on the caller's reply list, which the caller pops the same way and correlates by id.
 * Pipelining is node-redis's own: commands issued in one turn leave in one write.
 *
 * QoS1 (W6): Redis pub/sub is at-most-once (no per-message ack), so the publisher reports `n/a`.
 */
import { randomUUID } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { createClient, RESP_TYPES } from 'redis';
import {
  Counter, die, num, onParent, peerArgs, rpcCaller, str, tell, telemetry, topicFor, unackedPublisher,
} from './common.js';

const { args, url, mode } = peerArgs();
const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

const REQUEST_LIST = 'bench:rpc:add';
/** Requests or replies taken per blocking pop. */
const POP_COUNT = 100;

/** A client whose bulk strings come back as Buffers (the CBOR payloads are bytes). */
async function connectBytes(): Promise<ReturnType<typeof bytesClient>> {
  const client = bytesClient();
  client.on('error', (err: unknown) => die(err));
  await client.connect();
  return client;
}

function bytesClient() {
  return createClient({ url, disableOfflineQueue: false }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

/** Pop up to POP_COUNT elements of `key` forever (until the connection closes), oldest first. */
async function popLoop(key: string, each: (bytes: Buffer) => void): Promise<void> {
  const blocking = await connectBytes();
  onParent({ exit: () => blocking.destroy() });
  for (;;) {
    const reply = await blocking.blmPop(0, key, 'RIGHT', { COUNT: POP_COUNT }).catch(() => null);
    if (reply === null) {
      if (!blocking.isOpen) return;
      continue;
    }
    for (const element of reply[1] as unknown as Buffer[]) each(element);
  }
}

async function main(): Promise<void> {
  const client = await connectBytes();
  onParent({ exit: () => client.destroy() });
  switch (mode) {
    case 'sub': {
      const counter = new Counter(num(args, 'expect'));
      const pattern = str(args, 'pattern');
      const listener = (message: Buffer): void => {
        decoder.decode(message);
        counter.hit();
      };
      // The promise resolves once Redis has confirmed the subscription.
      if (pattern.includes('*')) await client.pSubscribe(pattern, listener, true);
      else await client.subscribe(pattern, listener, true);
      onParent({ stop: () => counter.report() });
      tell({ type: 'ready' });
      return;
    }
    case 'pub': {
      const topic = topicFor(args);
      const fail = (err: unknown): void => die(err);
      unackedPublisher(args, 'n/a (Redis pub/sub has no per-message ack)', (i) => void client.publish(topic(i), encoder.encode(telemetry(i))).catch(fail));
      return;
    }
    case 'rpc-server': {
      await client.del(REQUEST_LIST);
      void popLoop(REQUEST_LIST, (bytes) => {
        const [corr, replyKey, a, b] = decoder.decode(bytes) as [number, string, number, number];
        void client.lPush(replyKey, encoder.encode([corr, a + b])).catch(die);
      }).catch(die);
      tell({ type: 'ready' });
      return;
    }
    case 'rpc-caller': {
      const replyKey = `bench:rpc:reply:${randomUUID()}`;
      const pending = new Map<number, (value: unknown) => void>();
      void popLoop(replyKey, (bytes) => {
        const [corr, result] = decoder.decode(bytes) as [number, unknown];
        const resolve = pending.get(corr);
        pending.delete(corr);
        resolve?.(result);
      }).catch(die);
      let next = 0;
      const call = (i: number): Promise<unknown> => new Promise((resolve, reject) => {
        const corr = next++;
        pending.set(corr, resolve);
        client.lPush(REQUEST_LIST, encoder.encode([corr, replyKey, i, 1])).catch(reject);
      });
      rpcCaller(args, call);
      return;
    }
    default:
      throw new Error(`unknown --mode ${mode}`);
  }
}

main().catch(die);
