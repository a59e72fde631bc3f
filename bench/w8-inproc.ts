/**
 * W8 without sockets: a durable broker with the telemetry schema (`broker({ dataDir, schema })`,
 * port null) fed PUB frames through an in-memory link, so that everything the broker's main
 * thread does per row except the WebSocket reader — wire meter, frame head, publish path,
 * routing, message log and its LMDB records, the schema stage and its DuckDB appends — is
 * measured in one process, and under `valgrind --tool=callgrind` (instruction counts do not
 * depend on the shared box's load: run two sizes and subtract, the setup cancels out).
 *
 * Usage: `npx tsx bench/w8-inproc.ts [--rows 200000] [--chunk 500] [--topics 100] [--schema on|off]
 * [--batch N] [--interval MS] [--threads N]`; prints main-thread CPU per row (`/proc`), process CPU per row and the event loop's
 * longest stalls. `--topics 1` publishes on W9's one topic; `--schema off` is W9's durable phase
 * (the log alone); `--batch` and `--interval` set `schemaWrites.batchSize` and `flushInterval`, `--threads` DuckDB's (`schemaWrites.threads`).
 *   valgrind --tool=callgrind --separate-threads=yes node --import tsx bench/w8-inproc.ts --rows 20000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { broker } from '../src/broker/index.js';
import { encodeCbor } from '../src/codec/index.js';
import { memoryLinkPair } from '../src/transport/memory-link.js';
import { mainThreadCpuUs, num, threadCpuUs, parseArgs, schemaTelemetry, schemaTopic, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs(process.argv.slice(2));
const N = num(args, 'rows', 200_000);
const CHUNK = num(args, 'chunk', 500);
/** Distinct frames sent in rotation (their bytes differ as the publisher's would). */
const DISTINCT = 1_000;
/** `--topics 1`: every frame on `schemaTopic(0)`, as W9 publishes; default 100 topics, as W8. */
const TOPICS = num(args, 'topics', 100);
/** `--schema off`: the durable log alone (W9's "durable" phase), rows counted by the broker's stats. */
const SCHEMA = args['schema'] !== 'off';

const dir = mkdtempSync(join(tmpdir(), 'rembus-inproc-'));
const b = await broker({ port: null, dataDir: dir, ...(SCHEMA ? { schema: TELEMETRY_SCHEMA } : {}),
  schemaWrites: {
    ...(args['batch'] === undefined ? {} : { batchSize: num(args, 'batch', 20_000) }),
    ...(args['interval'] === undefined ? {} : { flushInterval: num(args, 'interval', 200) }),
    ...(args['threads'] === undefined ? {} : { threads: num(args, 'threads', 1) }),
  } });
try {
  const frames = Array.from({ length: DISTINCT }, (_, i) =>
    Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: schemaTopic(i % TOPICS), args: [schemaTelemetry(i)] })));
  const [client, server] = memoryLinkPair();
  b.handle(server);
  const persisted = (): number => {
    const st = b.stats();
    if (st.logBuffered > 0) return 0;
    const s = st.schema;
    return s === undefined ? (SCHEMA ? 0 : N) : s.persisted + s.dropped + s.rejected;
  };
  // How long the event loop is held at a time (a publish turn of CHUNK frames, a schema write):
  // what another process waiting on this broker (W9's subscriber) sees as a stall.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const threads0 = threadCpuUs();
  const main0 = mainThreadCpuUs() ?? 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      const end = Math.min(N, sent + CHUNK);
      for (; sent < end; sent++) client.send(frames[sent % DISTINCT]!);
      if (sent < N) setImmediate(turn);
      else {
        const poll = setInterval(() => {
          if (persisted() < N) return;
          clearInterval(poll);
          resolve();
        }, 5);
      }
    };
    turn();
  });
  const wall = performance.now() - t0;
  const main = (mainThreadCpuUs() ?? 0) - main0;
  const cpu = process.cpuUsage(cpu0);
  const threads = [...threadCpuUs()].map(([name, us]) => [name, us - (threads0.get(name) ?? 0)] as const).filter(([, us]) => us > 0);
  delay.disable();
  const s = b.stats().schema ?? { persisted: 0, dropped: 0, rejected: 0 };
  process.stdout.write(`rows ${N} persisted ${s.persisted} dropped ${s.dropped} rejected ${s.rejected}: `
    + `${(N / wall * 1000).toFixed(0)} rows/s wall, main thread ${(main / N).toFixed(2)} µs/row, `
    + `process ${((cpu.user + cpu.system) / N).toFixed(2)} µs/row, `
    + `event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} max ${(delay.max / 1e6).toFixed(1)} ms\n`
    + `  µs/row by thread: ${threads.sort((a, b) => b[1] - a[1]).map(([name, us]) => `${name} ${(us / N).toFixed(2)}`).join(', ')}\n`);
  client.close();
} finally {
  await b.close();
  rmSync(dir, { recursive: true, force: true });
}
