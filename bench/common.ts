/**
 * Shared pieces of the benchmark roles: argv parsing, the IPC protocol with `run.ts`, the
 * payload, the publish pacing policy (identical for every system), and the RPC driver.
 *
 * IPC (child ⇄ run.ts, over the `fork` channel):
 * - child → parent: `{ type: 'ready', port? }`, `{ type: 'result', … }`, `{ type: 'error', message }`
 * - parent → child: `{ type: 'go' }` (start measuring), `{ type: 'stop' }` (time limit reached:
 *   report what you have), `{ type: 'exit' }` (exit cleanly, so `--cpu-prof` is written)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Parsed `--key value` pairs of a role's argv. */
export type Args = Record<string, string>;

export function parseArgs(argv: string[] = process.argv.slice(2)): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!;
    if (!key.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key.slice(2)] = 'true';
    else { out[key.slice(2)] = next; i++; }
  }
  return out;
}

export function num(args: Args, key: string, fallback?: number): number {
  const raw = args[key];
  if (raw === undefined) {
    if (fallback === undefined) throw new Error(`missing --${key}`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${key} must be a number, got '${raw}'`);
  return n;
}

export function str(args: Args, key: string, fallback?: string): string {
  const raw = args[key] ?? fallback;
  if (raw === undefined) throw new Error(`missing --${key}`);
  return raw;
}

/** Absolute wall-clock time in ms with sub-ms resolution, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

// ---- IPC ----------------------------------------------------------------------------------

export type ToParent =
  | { type: 'ready'; port?: number }
  | { type: 'error'; message: string }
  | { type: 'na'; reason: string }
  | ({ type: 'result' } & Record<string, unknown>);

export type FromParent = { type: 'go' } | { type: 'stop' } | { type: 'stats' } | { type: 'exit' };

export function tell(msg: ToParent): void {
  if (process.send === undefined) {
    process.stdout.write(`${JSON.stringify(msg)}\n`);
    return;
  }
  process.send(msg);
}

type ParentHandlers = { go?: () => void; stop?: () => void; stats?: () => void; exit?: () => void | Promise<void> };
const parentHandlers: ParentHandlers = {};
let listening = false;

/**
 * Listen to the parent; later calls add or replace handlers. `exit` (after its handler) and a
 * lost parent always end the process.
 */
export function onParent(handlers: ParentHandlers): void {
  Object.assign(parentHandlers, handlers);
  if (listening) return;
  listening = true;
  process.on('message', (raw) => {
    const msg = raw as FromParent;
    if (msg.type === 'go') parentHandlers.go?.();
    else if (msg.type === 'stop') parentHandlers.stop?.();
    else if (msg.type === 'stats') parentHandlers.stats?.();
    else if (msg.type === 'exit') {
      const timer = setTimeout(() => process.exit(0), 2000);
      void Promise.resolve(parentHandlers.exit?.()).catch(() => undefined).finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** Report a fatal error to the parent and exit non-zero. */
export function die(err: unknown): never {
  tell({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  setTimeout(() => process.exit(1), 50).unref();
  throw err;
}

// ---- workload data ------------------------------------------------------------------------

/** The telemetry object every system publishes: ≈ 100 bytes as CBOR (cbor-x, plain maps). */
export interface Telemetry { dn: string; temperature: number; pressure: number; ts: number }

export function telemetry(i: number): Telemetry {
  return {
    dn: `dn${String(i % 10_000).padStart(4, '0')}-site${i % 10}-type${i % 5}-building-A-floor-1-east`,
    temperature: 20 + (i % 100) / 7,
    pressure: 1013.25 + (i % 50) / 3,
    ts: Date.now(),
  };
}

/** W3 topic space: 1,000 topics `site{i%10}/type{i%5}/dn{i}/telemetry`. */
export function w3Topic(i: number): string {
  const d = i % 1000;
  return `site${d % 10}/type${d % 5}/dn${d}/telemetry`;
}

/**
 * W8/W9 (rembus only): the telemetry schema (spec §8.2) the broker persists into DuckDB, its
 * topic space `site{i%10}/dn{i%100}/telemetry` and its payload `{temperature, pressure, ts}`.
 */
export const TELEMETRY_SCHEMA = {
  tables: [{
    table: 'telemetry',
    topic: ':site/:dn/telemetry',
    columns: [
      { col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' },
      { col: 'pressure', type: 'DOUBLE' }, { col: 'ts', type: 'UBIGINT' },
    ],
  }],
};

export function schemaTopic(i: number): string {
  return `site${i % 10}/dn${i % 100}/telemetry`;
}

export interface SchemaTelemetry { temperature: number; pressure: number; ts: number }

export function schemaTelemetry(i: number): SchemaTelemetry {
  return { temperature: 20 + (i % 100) / 7, pressure: 1013.25 + (i % 50) / 3, ts: Date.now() };
}

/** W8b: rows per DataFrame publish (a gateway forwarding a batch of readings). */
export const FRAME_ROWS = 1_000;

/**
 * W8b payload: a polars DataFrame of `rows` readings of the topic of message `i`, with every
 * column of the telemetry table (spec §8.3 step 5: topic variables do not fill DataFrame
 * columns). Built with the polars the component encodes; `ts` is the same for all its rows.
 */
export function schemaFrame(pl: typeof import('nodejs-polars'), i: number, rows: number): import('nodejs-polars').DataFrame {
  const at = BigInt(Date.now());
  return pl.DataFrame([
    pl.Series('site', Array.from({ length: rows }, () => `site${i % 10}`), pl.Utf8),
    pl.Series('dn', Array.from({ length: rows }, () => `dn${i % 100}`), pl.Utf8),
    pl.Series('temperature', Array.from({ length: rows }, (_, k) => 20 + ((i + k) % 100) / 7), pl.Float64),
    pl.Series('pressure', Array.from({ length: rows }, (_, k) => 1013.25 + ((i + k) % 50) / 3), pl.Float64),
    pl.Series('ts', Array.from({ length: rows }, () => at), pl.UInt64),
  ]);
}

/** Payload of message `i`: `telemetry(i)`, or `schemaTelemetry(i)` when `--payload schema`. */
export function payloadFor(args: Args): (i: number) => Telemetry | SchemaTelemetry {
  return str(args, 'payload', 'telemetry') === 'schema' ? schemaTelemetry : telemetry;
}

/**
 * Topic of message `i`: one fixed topic, the W3 topic space when `--topics 1000`, or the
 * schema topic space when `--topics schema`.
 */
export function topicFor(args: Args): (i: number) => string {
  if (args['topics'] === 'schema') return schemaTopic;
  const topics = num(args, 'topics', 1);
  if (topics === 1) {
    const topic = str(args, 'topic', 'bench/telemetry');
    return () => topic;
  }
  return w3Topic;
}

// ---- pacing -------------------------------------------------------------------------------

/**
 * The publish pacing policy, the same for every system: write `chunk` messages back to back,
 * then yield to the event loop with `setImmediate` so the socket can drain and acks/replies
 * can be read, and repeat. Resolves after the last write.
 */
export async function paced(count: number, chunk: number, publish: (i: number) => void): Promise<void> {
  for (let i = 0; i < count;) {
    const end = Math.min(count, i + chunk);
    for (; i < end; i++) publish(i);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * The QoS0 publisher role of every client: on `go`, `count` publishes (`--count`, paced by
 * `--chunk`), then `{ published, first, last }` to the parent; `ready` at once.
 */
export function qos0Publisher(args: Args, publish: (i: number) => void): void {
  const count = num(args, 'count');
  const chunk = num(args, 'chunk');
  onParent({
    go: () => {
      const t0 = now();
      paced(count, chunk, publish).then(() => tell({ type: 'result', published: count, first: t0, last: now() }), die);
    },
  });
  tell({ type: 'ready' });
}

/**
 * The `pub` role of a peer without per-message acks (relay, NATS core, Redis pub/sub): the QoS0
 * publisher, and `n/a` with `why` when the run asks for QoS1.
 */
export function unackedPublisher(args: Args, why: string, publish: (i: number) => void): void {
  if (num(args, 'qos', 0) !== 0) tell({ type: 'na', reason: why });
  else qos0Publisher(args, publish);
}

/** The command line every peer client reads: its role (`--mode`) and broker URL (`--url`). */
export function peerArgs(): { args: Args; url: string; mode: string } {
  const args = parseArgs();
  return { args, url: str(args, 'url'), mode: str(args, 'mode') };
}

// ---- subscriber counting ------------------------------------------------------------------

/** Counts deliveries; reports once `expect` arrived, or on `stop` with what it has. */
export class Counter {
  count = 0;
  first = 0;
  last = 0;
  private reported = false;

  constructor(private readonly expect: number, private readonly extra: () => Record<string, unknown> = () => ({})) {}

  hit(): void {
    const t = now();
    if (this.count === 0) this.first = t;
    this.last = t;
    if (++this.count === this.expect) this.report();
  }

  report(): void {
    if (this.reported) return;
    this.reported = true;
    tell({ type: 'result', received: this.count, expected: this.expect, first: this.first, last: this.last,
      complete: this.count >= this.expect, ...this.extra() });
  }
}

// ---- RPC driver ---------------------------------------------------------------------------

/**
 * Run `count` calls with `concurrency` in flight (1 = sequential) and report latencies. Every
 * system goes through this same driver; `call(i)` is one request/reply of that system.
 */
export async function driveCalls(count: number, concurrency: number, call: (i: number) => Promise<unknown>,
  check?: (i: number, result: unknown) => void): Promise<Record<string, unknown>> {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        const result = await call(i);
        latencies[i] = performance.now() - t0;
        check?.(i, result);
      } catch {
        errors++;
        latencies[i] = performance.now() - t0;
      }
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const t1 = now();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? 0) * 1000;
  return { calls: count, errors, first: t0, last: t1, p50us: pct(0.5), p99us: pct(0.99) };
}

/**
 * The RPC caller role of every client: `ready` at once; on `go`, the warm-up then the measured
 * calls of `call(i)` (which must answer `i + 1`), as one `result` message.
 */
export function rpcCaller(args: Args, call: (i: number) => Promise<unknown>): void {
  onParent({ go: () => void rpcRole(args, call).catch(die) });
  tell({ type: 'ready' });
}

/** Warm-up then measured run, as one `result` message. */
async function rpcRole(args: Args, call: (i: number) => Promise<unknown>): Promise<void> {
  const count = num(args, 'count');
  const concurrency = num(args, 'concurrency', 1);
  const warmup = num(args, 'warmup', 0);
  const check = (i: number, result: unknown): void => {
    if (result !== i + 1) throw new Error(`add(${i}, 1) returned ${String(result)}`);
  };
  if (warmup > 0) await driveCalls(warmup, concurrency, call, check);
  tell({ type: 'result', ...(await driveCalls(count, concurrency, call, check)) });
}

/**
 * W10: the awaited publisher of every client: `ready` at once; on `go`, `warmup` then `count`
 * publishes, each awaited (its ACK, QoS2: its completion) before the next, as one `result`
 * message like an RPC caller's (calls, first, last, p50us, p99us, errors). On `stop` it
 * reports the publishes done so far (a slow mode, e.g. fsync always on a slow disk).
 */
export function awaitedPublisher(args: Args, publish: (i: number) => Promise<unknown>): void {
  let stopped = false;
  onParent({
    go: () => void (async () => {
      const warmup = num(args, 'warmup', 0);
      for (let i = 0; i < warmup && !stopped; i++) await publish(i);
      const count = num(args, 'count');
      const latencies: number[] = [];
      let errors = 0;
      const t0 = now();
      for (let i = 0; i < count && !stopped; i++) {
        const start = performance.now();
        try {
          await publish(warmup + i);
        } catch {
          errors++;
        }
        latencies.push(performance.now() - start);
      }
      const t1 = now();
      const sorted = latencies.sort((a, b) => a - b);
      const pct = (p: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? 0) * 1000;
      tell({ type: 'result', calls: latencies.length, errors, first: t0, last: t1, p50us: pct(0.5), p99us: pct(0.99) });
    })().catch(die),
    stop: () => { stopped = true; },
  });
  tell({ type: 'ready' });
}

/**
 * CPU time of this process's main thread, µs (Linux `/proc/self/task/<pid>/stat` utime + stime,
 * in clock ticks of 10 ms); undefined where /proc is not there. Node 20 has no per-thread CPU call.
 */
/**
 * CPU µs of each thread of this process (Linux `/proc/self/task`), keyed `main` or by the
 * thread's rank in creation order (`t1`, `t2`, … by tid: Node names every thread `node`, so
 * rank is what tells V8's platform workers, started first, from the libuv pool and DuckDB's
 * threads, started later). Threads that ended are not counted; empty off Linux.
 */
export function threadCpuUs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const tids = readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b);
    tids.forEach((tid, rank) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid === process.pid ? 'main' : `t${rank}`, (Number(fields[11]) + Number(fields[12])) * 10_000);
    });
  } catch { /* not Linux */ }
  return out;
}

export function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000; // fields 14 and 15 of stat(5)
  } catch {
    return undefined;
  }
}

/** Frames `from`..`from + n`: copies of `templates` (cycled), as views of 64 KiB chunks, as a socket delivers them. */
export function chunkedFrames(templates: readonly Uint8Array[], from: number, n: number): Buffer[] {
  const CHUNK = 64 * 1024;
  const out: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  for (let i = from; i < from + n; i++) {
    const bytes = templates[i % templates.length]!;
    if (at + bytes.length > CHUNK) { chunk = Buffer.allocUnsafe(CHUNK); at = 0; }
    chunk.set(bytes, at);
    out.push(chunk.subarray(at, at + bytes.length));
    at += bytes.length;
  }
  return out;
}

/**
 * CPU µs per message of feeding frames `from`..`from + n` of `templates` to `send`, `batch` per
 * event-loop turn, until `delivered()` has grown by `n`; the making of the frames is timed apart
 * and left out (the in-process benches: broker-inproc, slow-reader-inproc).
 */
export async function cpuPerFed(templates: readonly Uint8Array[], send: (frame: Buffer) => void,
  delivered: () => number, from: number, n: number, batch: number): Promise<number> {
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  const cpu = (): number => { const u = process.cpuUsage(); return u.user + u.system; };
  const start = delivered();
  let making = 0;
  const t0 = cpu();
  for (let i = 0; i < n; i += batch) {
    const m0 = cpu();
    const frames = chunkedFrames(templates, from + i, Math.min(batch, n - i));
    making += cpu() - m0;
    for (const f of frames) send(f);
    await turn();
  }
  while (delivered() - start < n) await turn();
  return (cpu() - t0 - making) / n;
}
