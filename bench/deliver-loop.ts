/**
 * The component's receive path alone, in one process (issue 20, W3's subscriber): CPU per PUB
 * delivery from the frame handed over by the link to the `Message` emitted by `subscribe$`.
 * W3 (default): `subscribe$('*\/*\/*\/telemetry')` gets the broker's wildcard deliveries
 * `[1, pattern, [topic, telemetry]]` over 1,000 topics; `--workload W1`: `subscribe$('bench/telemetry')`
 * gets `[1, 'bench/telemetry', [telemetry]]`. The component logs in to an in-process broker over an
 * in-memory link; then 1,000 distinct frames (as Node Buffers, as `ws` hands them over) are pushed
 * in turns of 500, as if the broker had sent them, so neither the broker nor a socket is in the
 * figure. CPU is the process's user + system time over the loop.
 *
 * Usage (after `npx tsc -p tsconfig.bench.json`):
 * `node dist/bench/deliver-loop.js [--dist DIR] [--workload W3|W1] [--count 300000] [--runs 5]`
 * `--dist`: the `dist` directory of the build to measure (default this checkout's), to compare builds A/B.
 */
import { join, resolve } from 'node:path';
import { Subject, merge, type Observable } from 'rxjs';
import { num, parseArgs, str, telemetry, w3Topic } from './common.js';

type Frame = Uint8Array | string;
interface Link { frames$: Observable<Frame>; send(f: Frame): void; close(): void; readonly isOpen: boolean; readonly remote: string; readonly bufferedAmount: number }

const args = parseArgs();
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..')));
const w3 = str(args, 'workload', 'W3') === 'W3';
const count = num(args, 'count', 300_000);
const runs = num(args, 'runs', 5);
const CHUNK = 500;

const { component } = await import(join(dist, 'src', 'index.js')) as typeof import('../src/index.js');
const { broker } = await import(join(dist, 'src', 'broker', 'index.js')) as typeof import('../src/broker/index.js');
const { memoryLinkPair } = await import(join(dist, 'src', 'testing', 'index.js')) as typeof import('../src/testing/index.js');
const { encodeCbor } = await import(join(dist, 'src', 'codec', 'cbor.js')) as typeof import('../src/codec/cbor.js');

/** The component's side of the link, with frames injected as if the broker had sent them. */
class Tap implements Link {
  readonly injected = new Subject<Frame>();
  readonly frames$: Observable<Frame>;
  constructor(private readonly inner: Link) {
    this.frames$ = merge(inner.frames$, this.injected);
  }
  get isOpen(): boolean { return this.inner.isOpen; }
  get remote(): string { return this.inner.remote; }
  get bufferedAmount(): number { return this.inner.bufferedAmount; }
  send(frame: Frame): void { this.inner.send(frame); }
  close(): void { this.inner.close(); }
}

const pattern = w3 ? '*/*/*/telemetry' : 'bench/telemetry';
const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(encodeCbor(w3
  ? { type: 'pub', flags: 0, topic: pattern, args: [w3Topic(i), telemetry(i)] }
  : { type: 'pub', flags: 0, topic: pattern, args: [telemetry(i)] })));

const server = await broker({ port: null, http: false });
const [client, brokerSide] = memoryLinkPair() as unknown as [Link, Link];
const tap = new Tap(client);
server.handle(brokerSide as never);
const node = component('loop', { dial: () => Promise.resolve(tap as never) });
let received = 0;
let sink = 0;
node.subscribe$(pattern).subscribe((m) => {
  received++;
  sink += m.topic.length + m.args.length;
});
await node.rpc('rid').catch(() => undefined); // declared once a round trip returns (any answer)

const turn = (): Promise<void> => new Promise((done) => setImmediate(done));

async function loop(n: number): Promise<void> {
  const before = received;
  for (let i = 0; i < n; i += CHUNK) {
    const end = Math.min(n, i + CHUNK);
    for (let j = i; j < end; j++) tap.injected.next(frames[j % 1000]!);
    await turn();
  }
  if (received - before !== n) throw new Error(`received ${received - before} of ${n}`);
}

await loop(num(args, 'warmup', 50_000)); // warm up the JIT
const results: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = process.cpuUsage();
  await loop(count);
  const t = process.cpuUsage(t0);
  const us = (t.user + t.system) / count;
  results.push(us);
  console.log(`run ${r + 1}: ${us.toFixed(3)} µs CPU/delivery (${frames[0]!.length}-byte frames)`);
}
results.sort((a, b) => a - b);
console.log(`median ${results[Math.floor(results.length / 2)]!.toFixed(3)} µs CPU/delivery  (${w3 ? 'W3' : 'W1'}, sink ${sink % 10}, ${dist})`);
await node.close();
await server.close();
