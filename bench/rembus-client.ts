/**
 * Benchmark role: a rembus component using ONLY the public component API (`connect`,
 * `subscribe$`, `publish`, `rpc$`, `expose`, `close`).
 *
 * Modes (`--mode`):
 * - `sub --pattern P --expect N`: count deliveries on `subscribe$(P)`.
 * - `pub --count N --chunk C [--topic T | --topics 1000 | --topics schema] [--qos 1] [--payload schema|frame]`:
 *   paced publishes (`--payload schema`: `{temperature, pressure, ts}` for the W8/W9 schema;
 *   `--payload frame --frame-rows R`: W8b, a polars DataFrame of R readings per publish, one
 *   frame built per topic before `go`, each encoded by the component as it is published).
 * - `rpc-server`: `expose('add', (a, b) => a + b)`.
 * - `rpc-caller --count N [--concurrency K] [--warmup W]`: `rpc$('add', i, 1)` calls.
 * - `awaited --count N --qos 1|2 [--warmup W]` (W10): `publishAsync(topic, [payload], { qos })`,
 *   each awaited before the next.
 *
 * QoS1 (W6): `publish$(topic, args, { qos: 1 })`, which completes on the broker's ACK. Should the
 * component lack it (older src), the role reports "n/a (QoS1 API pending)" instead of a number;
 * the subscriber counts QoS1 deliveries so run.ts can check that they really are QoS1.
 */
import { firstValueFrom } from 'rxjs';
import { connect, type Component } from '../src/index.js';
import {
  awaitedPublisher, Counter, die, FRAME_ROWS, now, num, onParent, paced, parseArgs, payloadFor, qos0Publisher, rpcCaller, schemaFrame, str, tell, telemetry, topicFor,
} from './common.js';

const args = parseArgs();
const url = str(args, 'url');
const mode = str(args, 'mode');
const EXACT = 'bench/telemetry';

async function main(): Promise<void> {
  const qos = num(args, 'qos', 0);
  const node = await connect(url);
  onParent({ exit: () => node.close() });
  switch (mode) {
    case 'sub': {
      let qos1 = 0;
      const counter = new Counter(num(args, 'expect'), () => ({ qos1 }));
      node.subscribe$(str(args, 'pattern')).subscribe((m) => {
        if (m.qos === 1) qos1++;
        counter.hit();
      });
      onParent({ stop: () => counter.report() });
      await node.rpc('rid'); // the subscription is declared once this round trip returns
      tell({ type: 'ready' });
      return;
    }
    case 'pub': {
      const count = num(args, 'count');
      const chunk = num(args, 'chunk');
      const topic = topicFor(args);
      if (qos === 1) {
        if (typeof (node as Partial<Component>).publish$ !== 'function') {
          tell({ type: 'na', reason: 'n/a (QoS1 API pending)' });
          return;
        }
        let acked = 0;
        let lastAck = 0;
        let failed = 0;
        const onAck = (): void => {
          lastAck = now();
          if (++acked + failed === count) report();
        };
        const onFail = (): void => {
          if (acked + ++failed === count) report();
        };
        let t0 = 0;
        const report = (): void => tell({ type: 'result', acked, failed, first: t0, last: lastAck });
        onParent({
          go: () => {
            t0 = now();
            void paced(count, chunk, (i) => {
              node.publish$(topic(i), [telemetry(i)], { qos: 1 }).subscribe({ complete: onAck, error: onFail });
            });
          },
          stop: report,
        });
        tell({ type: 'ready' });
        return;
      }
      if (args['payload'] === 'frame') {
        const pl = (await import('nodejs-polars')).default;
        const rows = num(args, 'frame-rows', FRAME_ROWS);
        // 100 topics: one frame each, built before the clock starts.
        const frames = Array.from({ length: 100 }, (_, i) => schemaFrame(pl, i, rows));
        onParent({
          go: () => {
            const t0 = now();
            paced(count, chunk, (i) => node.publish(topic(i), frames[i % 100]!))
              .then(() => tell({ type: 'result', published: count, first: t0, last: now() }), die);
          },
        });
        tell({ type: 'ready' });
        return;
      }
      const payload = payloadFor(args);
      qos0Publisher(args, (i) => node.publish(topic(i), payload(i)));
      return;
    }
    case 'rpc-server': {
      node.expose('add', (a: number, b: number) => a + b);
      await node.rpc('rid'); // the exposure is declared once this round trip returns
      tell({ type: 'ready' });
      return;
    }
    case 'rpc-caller': {
      rpcCaller(args, (i) => firstValueFrom(node.rpc$('add', i, 1)));
      return;
    }
    case 'awaited': {
      const q = qos === 2 ? 2 : 1;
      awaitedPublisher(args, (i) => node.publishAsync(EXACT, [telemetry(i)], { qos: q }));
      return;
    }
    default:
      throw new Error(`unknown --mode ${mode}`);
  }
}

main().catch(die);
