/**
 * W9's log without sockets (issue 14): a broker in memory or durable (`dataDir`, the LMDB log,
 * no schema) fed W9's PUB frames (one topic, the telemetry payload) through an in-memory link,
 * so that what the durable log alone adds per message — packing the LMDB record, the commit,
 * the rows kept until it — is measured in one process, and under `valgrind --tool=callgrind`
 * (instruction counts do not depend on the shared box's load: run two sizes and subtract).
 * Frames are copied into fresh 64 KiB chunks as a socket reader's would be, not reused.
 *
 * Usage: `npx tsx bench/log-inproc.ts [--store memory|lmdb] [--rows 200000] [--chunk 500] [--interval 1000]`;
 * prints main-thread and process CPU per message (`/proc`, `process.cpuUsage`).
 *   valgrind --tool=callgrind --separate-threads=yes node dist/bench/log-inproc.js --store lmdb --rows 20000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broker } from '../src/broker/index.js';
import { encodeCbor } from '../src/codec/index.js';
import { memoryLinkPair } from '../src/transport/memory-link.js';
import { mainThreadCpuUs, num, parseArgs, schemaTelemetry, schemaTopic, str } from './common.js';

const args = parseArgs(process.argv.slice(2));
const N = num(args, 'rows', 200_000);
const CHUNK = num(args, 'chunk', 500);
const STORE = str(args, 'store', 'lmdb');
/**
 * `--interval MS`: the log's commit interval (the broker's default 1,000). Under valgrind a row
 * takes ~1 ms, so the interval, not the 4,096-row batch, would cut commits and their number would
 * follow the run's speed: `--interval 600000` commits by batch alone, and the run ends once fewer
 * than a batch of rows wait (the last ones are committed by close, outside the measure).
 */
const INTERVAL = num(args, 'interval', 1_000);
const DISTINCT = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'rembus-log-inproc-'));
const b = await broker({ port: null, archiverInterval: INTERVAL, ...(STORE === 'lmdb' ? { dataDir: dir } : {}) });
const settled = INTERVAL > 10_000 ? 4096 : 1;
try {
  const frames = Array.from({ length: DISTINCT }, (_, i) =>
    Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: schemaTopic(0), args: [schemaTelemetry(i)] })));
  const [client, server] = memoryLinkPair();
  b.handle(server);
  const main0 = mainThreadCpuUs() ?? 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let chunk = Buffer.allocUnsafe(65_536);
  let used = 0;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      const end = Math.min(N, sent + CHUNK);
      for (; sent < end; sent++) {
        const f = frames[sent % DISTINCT]!;
        if (used + f.length > chunk.length) { chunk = Buffer.allocUnsafe(65_536); used = 0; }
        f.copy(chunk, used);
        client.send(chunk.subarray(used, used + f.length));
        used += f.length;
      }
      if (sent < N) setImmediate(turn);
      else {
        const poll = setInterval(() => {
          if (b.stats().logBuffered >= settled) return;
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
  process.stdout.write(`${STORE} rows ${N}: ${(N / wall * 1000).toFixed(0)} msgs/s wall, main thread ${(main / N).toFixed(2)} µs/msg, `
    + `process ${((cpu.user + cpu.system) / N).toFixed(2)} µs/msg\n`);
  client.close();
} finally {
  await b.close();
  rmSync(dir, { recursive: true, force: true });
}
