/**
 * W11's `**` reader in one process, without sockets: the broker's CPU per message of pair A
 * (one publisher → one subscriber on `bench/a`, in-memory links, metering on as in the bench)
 * with no other client (`none`), with an anonymous `**` subscriber whose link takes every
 * frame (`reading`: a link that writes frames and parts into a 64 KiB scratch buffer, as the
 * WebSocket link does, and never has anything unread), or with one whose link stays behind
 * (`parked`: 2 MiB unread, so every delivery to it is parked; its stall deadlines are set out
 * of reach so that it is not cut during the run). What socket writes and the kernel cost is
 * not in it (see `slow-reader-cpu.ts` for that): this is the broker's own work per delivery,
 * steady enough for `valgrind --tool=callgrind` instruction counts of two builds.
 *
 * Usage (after `tsc -p tsconfig.bench.json`):
 * `node dist/bench/slow-reader-inproc.js [--phases none,reading,parked] [--count 200000] [--runs 3] [--warmup 50000] [--dist DIR]`
 * Under callgrind, two counts (e.g. 20,000 and 120,000, `--runs 1`) give the instructions per
 * message as the difference of the totals over the difference of the counts.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Subject } from 'rxjs';
import { cpuPerFed, num, parseArgs, str, telemetry } from './common.js';

const args = parseArgs();
const count = num(args, 'count', 200_000);
const runs = num(args, 'runs', 3);
const phases = str(args, 'phases', 'none,reading,parked').split(',');
const warmup = num(args, 'warmup', 50_000);
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..')));
const load = (path: string): Promise<Record<string, any>> => import(pathToFileURL(join(dist, 'src', path)).href);

const { broker } = await load('broker/index.js');
const { memoryLinkPair } = await load('transport/memory-link.js');
const { encodeCbor } = await load('codec/cbor.js');

type Frame = Uint8Array | string;
interface Parts { readonly length: number; writeTo(out: Uint8Array, at: number): number; bytes(): Uint8Array }

/** A `**` reader's link: takes every frame into a scratch buffer; `behind`: always 2 MiB unread. */
class ReaderLink {
  readonly incoming = new Subject<Frame>();
  readonly frames$ = this.incoming.asObservable();
  readonly remote = 'reader';
  isOpen = true;
  private readonly scratch = new Uint8Array(64 * 1024);
  private used = 0;
  delivered = 0;
  /** Has 2 MiB unread from now on: every delivery to it is parked. */
  behind = false;
  get bufferedAmount(): number { return this.behind ? 2 * 1024 * 1024 : 0; }
  get writeQueueSize(): number { return 0; }
  send(frame: Frame): void {
    this.delivered++;
    if (typeof frame === 'string') return;
    if (this.used + frame.length > this.scratch.length) this.used = 0;
    this.scratch.set(frame, this.used);
    this.used += frame.length;
  }
  sendParts(frame: Parts): void {
    this.delivered++;
    if (this.used + frame.length > this.scratch.length) this.used = 0;
    this.used = frame.writeTo(this.scratch, this.used);
  }
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.incoming.complete();
  }
  abort(): void { this.close(); }
}

const BATCH = 500;
const templates = Array.from({ length: 1000 }, (_, i) =>
  encodeCbor({ type: 'pub', flags: 0, topic: 'bench/a', args: [telemetry(i)] }) as Uint8Array);


const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function subscribe(link: { send(f: Frame): void; frames$: { subscribe(f: (x: Frame) => void): unknown } }, pattern: string): Promise<void> {
  let answered = false;
  link.frames$.subscribe(() => { answered = true; });
  link.send(encodeCbor({ type: 'admin', id: 1n, topic: pattern, cmd: { cmd: 'subscribe', msg_from: 0 } }));
  for (let i = 0; i < 100 && !answered; i++) await turn();
  if (!answered) throw new Error(`no answer to subscribe ${pattern}`);
}

/** µs CPU per message of one phase (a broker of its own), after a warm-up of `count` messages. */
async function once(phase: string): Promise<{ us: number; delivered: number }> {
  const b = await broker({ port: 0, host: '127.0.0.1', maxBufferedBytes: 2 ** 31,
    flowControl: { stallTimeout: 3_600_000, stallBytes: 2 ** 31 } });
  const [subSide, subBroker] = memoryLinkPair(['sub', 'broker:sub']);
  const [pubSide, pubBroker] = memoryLinkPair(['pub', 'broker:pub']);
  let received = 0;
  b.handle(subBroker);
  b.handle(pubBroker);
  await subscribe(subSide, 'bench/a');
  subSide.frames$.subscribe(() => { received++; });
  let reader: ReaderLink | undefined;
  if (phase !== 'none') {
    // Subscribed while reading; behind (when parked) from the first publish on.
    reader = new ReaderLink();
    b.handle(reader);
    reader.incoming.next(encodeCbor({ type: 'admin', id: 1n, topic: '**', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    for (let i = 0; i < 100 && reader.delivered === 0; i++) await turn();
    if (reader.delivered === 0) throw new Error('no answer to subscribe **');
    reader.behind = phase === 'parked';
  }
  const feed = (from: number, n: number): Promise<number> =>
    cpuPerFed(templates, (f) => pubSide.send(f), () => received, from, n, BATCH);
  await feed(0, warmup);
  const us = await feed(count, count);
  const delivered = reader?.delivered ?? 0;
  await b.close();
  return { us, delivered };
}

/**
 * `--alloc-prof FILE`: a sampling profile of every allocation of the measured runs, collected
 * ones included (V8's sampling heap profiler), written as a `.heapprofile` to FILE.
 */
const allocProf = args['alloc-prof'];
const inspector = allocProf === undefined ? undefined : new (await import('node:inspector')).Session();
const post = (method: string, params?: object): Promise<any> =>
  new Promise((ok, fail) => inspector!.post(method, params ?? {}, (err, res) => (err ? fail(err) : ok(res))));
if (inspector !== undefined) {
  inspector.connect();
  await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const results = new Map<string, number[]>(phases.map((p) => [p, []]));
for (let r = 0; r < runs; r++) {
  for (const phase of r % 2 === 0 ? phases : [...phases].reverse()) {
    const { us, delivered } = await once(phase);
    results.get(phase)!.push(us);
    console.log(`run ${r + 1} ${phase.padEnd(8)} broker ${us.toFixed(2)} µs CPU/msg (reader link sent ${delivered})`);
  }
}
if (inspector !== undefined) {
  const { profile } = await post('HeapProfiler.stopSampling');
  (await import('node:fs')).writeFileSync(allocProf!, JSON.stringify(profile));
}
for (const [phase, rs] of results) {
  rs.sort((x, y) => x - y);
  console.log(`median ${phase.padEnd(8)} ${rs[rs.length >> 1]!.toFixed(2)} µs CPU/msg (${dist})`);
}
process.exit(0);
