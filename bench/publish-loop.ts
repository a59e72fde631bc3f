/**
 * The component's send path alone, in one process: CPU per `publish` from the call to the bytes
 * handed to the link, with the W1 payload (`telemetry(i)` on one topic) or W8's (`--payload
 * schema`: `{temperature, pressure, ts}` on 100 topics built per publish), QoS0 or `--qos 1`
 * (`publish$`, acknowledged by the loop itself). The component logs in to an in-process broker over
 * an in-memory link; from then on its PUB frames are counted and dropped at the link (QoS1:
 * answered with an ACK frame after each chunk, as a broker would a turn later), so neither the
 * broker nor a socket is in the figure. CPU is the process's user + system time over the loop,
 * which hardly depends on the load of a shared box (issue 20).
 *
 * Usage (after `npx tsc -p tsconfig.bench.json`):
 * `node dist/bench/publish-loop.js [--dist DIR] [--payload telemetry|schema] [--topics 1|1000] [--qos 0|1] [--count 300000] [--runs 5]`
 * `--dist`: the `dist` directory of the build to measure (default this checkout's), to compare builds A/B.
 */
import { join, resolve } from 'node:path';
import { Subject, merge, type Observable } from 'rxjs';
import { num, parseArgs, schemaTelemetry, schemaTopic, str, telemetry, w3Topic } from './common.js';

type Frame = Uint8Array | string;
interface Link { frames$: Observable<Frame>; send(f: Frame): void; close(): void; readonly isOpen: boolean; readonly remote: string; readonly bufferedAmount: number }

const args = parseArgs();
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..')));
const schema = str(args, 'payload', 'telemetry') === 'schema';
const qos = num(args, 'qos', 0);
const count = num(args, 'count', 300_000);
/** `--topics 1000`: W3's topic space (a new topic string per publish, as the W3 client builds it). */
const w3 = num(args, 'topics', 1) === 1000;
const runs = num(args, 'runs', 5);
const CHUNK = 500;

const { component } = await import(join(dist, 'src', 'index.js')) as typeof import('../src/index.js');
const { broker } = await import(join(dist, 'src', 'broker', 'index.js')) as typeof import('../src/broker/index.js');
const { memoryLinkPair } = await import(join(dist, 'src', 'testing', 'index.js')) as typeof import('../src/testing/index.js');

/** The component's side of the link: once `armed`, PUB frames stop here. */
class Tap implements Link {
  armed = false;
  published = 0;
  bytes = 0;
  private readonly acks = new Subject<Frame>();
  private pending: Uint8Array[] = [];
  readonly frames$: Observable<Frame>;
  constructor(private readonly inner: Link) {
    this.frames$ = merge(inner.frames$, this.acks);
  }
  get isOpen(): boolean { return this.inner.isOpen; }
  get remote(): string { return this.inner.remote; }
  get bufferedAmount(): number { return this.inner.bufferedAmount; }
  send(frame: Frame): void {
    if (!this.armed || typeof frame === 'string' || (frame[1]! & 0x0f) !== 1) return this.inner.send(frame);
    this.published++;
    this.bytes += frame.length;
    if (frame[0] !== 0x84) return;
    const ack = new Uint8Array(11); // [ACK, id]: 82 05 48 and the 8 id bytes of `84 11 48 …`
    ack[0] = 0x82;
    ack[1] = 5;
    ack.set(frame.subarray(2, 11), 2);
    this.pending.push(ack);
  }
  /** Hand the ACKs of this chunk's QoS1 publishes back, as a broker would a turn later. */
  ack(): void {
    const acks = this.pending;
    this.pending = [];
    for (const a of acks) this.acks.next(a);
  }
  close(): void { this.inner.close(); }
}

const server = await broker({ port: null, http: false });
const [client, brokerSide] = memoryLinkPair() as unknown as [Link, Link];
const tap = new Tap(client);
server.handle(brokerSide as never);
const node = component('loop', { dial: () => Promise.resolve(tap as never), inflightQueueCapacity: 1_000_000 });
await node.rpc('rid').catch(() => undefined); // logged in once a round trip returns (any answer)
tap.armed = true;

const topics = schema ? (i: number): string => schemaTopic(i) : w3 ? w3Topic : (): string => 'bench/telemetry';
const payload = schema ? schemaTelemetry : telemetry;
const turn = (): Promise<void> => new Promise((done) => setImmediate(done));

async function loop(n: number): Promise<void> {
  let acked = 0;
  for (let i = 0; i < n; i += CHUNK) {
    const end = Math.min(n, i + CHUNK);
    for (let j = i; j < end; j++) {
      if (qos === 1) node.publish$(topics(j), [payload(j)], { qos: 1 }).subscribe({ complete: () => { acked++; } });
      else node.publish(topics(j), payload(j));
    }
    await turn();
    tap.ack();
  }
  if (qos === 1 && acked !== n) throw new Error(`acked ${acked} of ${n}`);
}

await loop(num(args, 'warmup', 50_000)); // warm up the JIT
const results: number[] = [];
for (let r = 0; r < runs; r++) {
  const before = tap.published;
  const t0 = process.cpuUsage();
  await loop(count);
  const t = process.cpuUsage(t0);
  const us = (t.user + t.system) / count;
  if (tap.published - before !== count) throw new Error(`published ${tap.published - before} of ${count}`);
  results.push(us);
  console.log(`run ${r + 1}: ${us.toFixed(3)} µs CPU/publish (${(tap.bytes / tap.published).toFixed(1)} B/frame)`);
}
results.sort((a, b) => a - b);
console.log(`median ${results[Math.floor(results.length / 2)]!.toFixed(3)} µs CPU/publish  (${schema ? 'W8 payload' : 'W1 payload'}${w3 ? ', W3 topics' : ''}, QoS${qos}, ${dist})`);
await node.close();
await server.close();
