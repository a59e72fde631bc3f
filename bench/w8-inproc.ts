/**
 * W8 without sockets: a durable broker with the telemetry schema (`broker({ dataDir, schema })`,
 * port null) fed PUB frames through an in-memory link, so that everything the broker's main
 * thread does per row except the WebSocket reader — wire meter, frame head, publish path,
 * routing, message log and its LMDB records, the schema stage and its DuckDB appends — is
 * measured in one process, and under `valgrind --tool=callgrind` (instruction counts do not
 * depend on the shared box's load: run two sizes and subtract, the setup cancels out).
 *
 * Usage: `npx tsx bench/w8-inproc.ts [--rows 200000] [--chunk 500]`; prints main-thread CPU
 * per row (`/proc`) and process CPU per row.
 *   valgrind --tool=callgrind --separate-threads=yes node --import tsx bench/w8-inproc.ts --rows 20000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broker } from '../src/broker/index.js';
import { encodeCbor } from '../src/codec/index.js';
import { memoryLinkPair } from '../src/transport/memory-link.js';
import { mainThreadCpuUs, num, parseArgs, schemaTelemetry, schemaTopic, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs(process.argv.slice(2));
const N = num(args, 'rows', 200_000);
const CHUNK = num(args, 'chunk', 500);
/** Distinct frames sent in rotation (their bytes differ as the publisher's would). */
const DISTINCT = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'rembus-inproc-'));
const b = await broker({ port: null, dataDir: dir, schema: TELEMETRY_SCHEMA });
try {
  const frames = Array.from({ length: DISTINCT }, (_, i) =>
    Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: schemaTopic(i), args: [schemaTelemetry(i)] })));
  const [client, server] = memoryLinkPair();
  b.handle(server);
  const persisted = (): number => {
    const s = b.stats().schema;
    return s === undefined ? 0 : s.persisted + s.dropped + s.rejected;
  };
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
  const s = b.stats().schema!;
  process.stdout.write(`rows ${N} persisted ${s.persisted} dropped ${s.dropped} rejected ${s.rejected}: `
    + `${(N / wall * 1000).toFixed(0)} rows/s wall, main thread ${(main / N).toFixed(2)} µs/row, `
    + `process ${((cpu.user + cpu.system) / N).toFixed(2)} µs/row\n`);
  client.close();
} finally {
  await b.close();
  rmSync(dir, { recursive: true, force: true });
}
