/**
 * Benchmark role: a NATS core client (`@nats-io/transport-node`, TCP) against a native
 * `nats-server`. Same modes, pacing and payload as mqtt-client.ts: the telemetry object encoded
 * with cbor-x (plain maps), decoded by every subscriber.
 *
 * Modes (`--mode`):
 * - `sub --pattern P --expect N`, `pub --count N --chunk C [--topic T | --topics 1000]`
 * - `rpc-server`, `rpc-caller --count N [--concurrency K] [--warmup W]`
 *
 * Subjects: NATS separates tokens with `.`, so every topic and pattern that run.ts passes is
 * mapped `/` → `.` (`bench/telemetry` → `bench.telemetry`; W3 publishes on
 * `site1.type1.dn1.telemetry` and subscribes to `*.*.*.telemetry`). `*` is one token in both
 * rembus and NATS, so the match is the same.
 *
 * RPC is NATS's own request/reply: the server subscribes to `bench.rpc.add` and answers with
 * `msg.respond()`; the caller uses `nc.request()`, which gives each request a reply subject
 * under one shared inbox subscription and correlates by it, so the payloads carry only
 * `[a, b]` and `a + b` (CBOR), no envelope.
 *
 * QoS1 (W6): NATS core has no per-message ack (at-least-once is JetStream, a persistence layer
 * with its own streams and consumers, not the same product), so the publisher reports `n/a`.
 */
import { Decoder, Encoder } from 'cbor-x';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  Counter, die, num, onParent, peerArgs, rpcCaller, str, tell, telemetry, topicFor, unackedPublisher,
} from './common.js';

const { args, url, mode } = peerArgs();
const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

const REQUEST_SUBJECT = 'bench.rpc.add';
/**
 * nats.js rejects a request after 1 s by default; on a loaded 2-core box a call may take longer
 * without anything being wrong, and the run's own time limit already bounds a stuck run.
 */
const REQUEST_TIMEOUT_MS = 30_000;

const toSubject = (topic: string): string => topic.replaceAll('/', '.');

/** `topicFor` in NATS subjects; memoised so the mapping is not paid per publish. */
function subjectFor(): (i: number) => string {
  const topic = topicFor(args);
  const subjects = new Map<string, string>();
  return (i) => {
    const t = topic(i);
    let s = subjects.get(t);
    if (s === undefined) subjects.set(t, (s = toSubject(t)));
    return s;
  };
}

async function main(): Promise<void> {
  const nc: NatsConnection = await connect({ servers: url, reconnect: false, name: `bench-${mode}` });
  onParent({ exit: () => nc.close() });
  switch (mode) {
    case 'sub': {
      const counter = new Counter(num(args, 'expect'));
      nc.subscribe(toSubject(str(args, 'pattern')), {
        callback: (err, msg) => {
          if (err !== null) die(err);
          decoder.decode(msg.data);
          counter.hit();
        },
      });
      onParent({ stop: () => counter.report() });
      await nc.flush(); // PING/PONG: the server has processed the SUB once this returns
      tell({ type: 'ready' });
      return;
    }
    case 'pub': {
      const subject = subjectFor();
      unackedPublisher(args, 'n/a (NATS core has no per-message ack)', (i) => nc.publish(subject(i), encoder.encode(telemetry(i))));
      return;
    }
    case 'rpc-server': {
      nc.subscribe(REQUEST_SUBJECT, {
        callback: (err, msg) => {
          if (err !== null) die(err);
          const [a, b] = decoder.decode(msg.data) as [number, number];
          msg.respond(encoder.encode(a + b));
        },
      });
      await nc.flush();
      tell({ type: 'ready' });
      return;
    }
    case 'rpc-caller': {
      const call = async (i: number): Promise<unknown> => {
        const reply = await nc.request(REQUEST_SUBJECT, encoder.encode([i, 1]), { timeout: REQUEST_TIMEOUT_MS });
        return decoder.decode(reply.data);
      };
      rpcCaller(args, call);
      return;
    }
    default:
      throw new Error(`unknown --mode ${mode}`);
  }
}

main().catch(die);
