/**
 * Benchmark role: the rembus broker, exactly as an application starts it (`broker()` from the
 * public broker entry), on 127.0.0.1 and a free port.
 *
 * Usage (from run.ts): `tsx bench/rembus-broker.ts [--data-dir D --schema telemetry [--ingest N]]`
 *
 * - `--data-dir D [--fsync off|interval|always]`: a durable broker (LMDB log `D/broker.lmdb`).
 * - `--data-dir D --schema telemetry`: `broker({ …, dataDir: D, schema: TELEMETRY_SCHEMA })`, so
 *   matching publishes are persisted into DuckDB (`D/broker.duckdb`). run.ts creates and
 *   removes D. The `stats` IPC message answers `{ type: 'result', persisted, rejected, batches, dropped }`.
 * - `--ingest N` (W8, W8b; N rows): from the first publish the broker receives (`messages$`), poll
 *   `stats().schema` every 10 ms and report once every row is accounted for, `persisted +
 *   dropped + rejected` ≥ N (or on `stop`, with what it has): `{ type: 'result', persisted,
 *   expected, first, last, complete, rejected, dropped, batches, cpuUs }` (`cpuUs`: CPU time of the
 *   main thread — routing and the stage, not DuckDB's own threads — over the same span, read from
 *   /proc on Linux, absent elsewhere); `complete` means all N were
 *   persisted. A run that dropped rows thus reports its rate and its loss, instead of waiting for
 *   rows that will never come until the time limit.
 * - `--cluster nats://…`: a broker of a cluster (rembus-cluster, two of them per run).
 * - `--watch-slow` (W11): poll `stats().slowConsumers` every 5 ms and note when the first slow
 *   consumer was cut; the `stats` reply then also carries `slowConsumers`, `cutAt` (`now()`, 0
 *   while none was cut), `behindAt` (when a link was first behind, past `highWater`) and
 *   `cutBuffered` (the bytes the broker held for the link it cut, from its warn line).
 */
import { broker } from '../src/broker/index.js';
import type { Logger } from '../src/index.js';
import { die, mainThreadCpuUs, now, num, onParent, parseArgs, str, tell, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs();

try {
  const dataDir = args['data-dir'];
  const schemaName = args['schema'];
  if (schemaName !== undefined && schemaName !== 'telemetry') throw new Error(`unknown --schema ${schemaName}`);
  // W11: what the broker held for the slow consumer when it cut it (from its warn line).
  let cutBuffered = 0;
  const watchSlow = args['watch-slow'] === 'true';
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, error: () => undefined, child: () => logger,
    warn: (obj: unknown, msg?: string) => {
      if (msg?.startsWith('slow consumer cut') === true) cutBuffered = Number((obj as { buffered?: number }).buffered ?? 0);
    },
  };
  const b = await broker({
    port: 0, host: '127.0.0.1', ...(watchSlow ? { logger } : {}),
    ...(args['tcp'] === undefined ? {} : { tcp: { port: 0 } }),
    ...(dataDir === undefined ? {} : { dataDir: str(args, 'data-dir') }),
    ...(args['fsync'] === undefined ? {} : { fsync: str(args, 'fsync') as 'off' | 'interval' | 'always' }),
    ...(schemaName === undefined ? {} : { schema: TELEMETRY_SCHEMA }),
    // rembus-cluster: a broker of the cluster `bench` over this NATS server (README "Cluster").
    ...(args['cluster'] === undefined ? {} : { cluster: { servers: str(args, 'cluster'), name: 'bench' } }),
    // A/B of issue 16's metering cost: REMBUS_BENCH_HTTP=off serves no HTTP and meters nothing.
    ...(process.env['REMBUS_BENCH_HTTP'] === 'off' ? { http: false as const } : {}),
    // W11 experiments: REMBUS_BENCH_FLOW='{"flowControl":{"stallTimeout":500},"maxBufferedBytes":8388608}'.
    ...(process.env['REMBUS_BENCH_FLOW'] === undefined ? {} : JSON.parse(process.env['REMBUS_BENCH_FLOW']) as object),
    // Issue 20, W7: what flow control's per-link highWater costs in W2's peak RSS (bytes; default 1 MiB).
    ...(process.env['REMBUS_BENCH_HIGHWATER'] === undefined ? {}
      : { flowControl: { highWater: Number(process.env['REMBUS_BENCH_HIGHWATER']) } }),
  });
  // REMBUS_BENCH_SCRAPE=<ms>: scrape /metrics and build a stats snapshot that often, as Prometheus would.
  const scrapeMs = Number(process.env['REMBUS_BENCH_SCRAPE'] ?? 0);
  if (scrapeMs > 0) {
    setInterval(() => void fetch(`http://127.0.0.1:${b.port!}/metrics`).then((r) => r.text()).catch(() => undefined),
      scrapeMs).unref();
  }
  const schemaStats = (): { persisted: number; rejected: number; batches: number; dropped: number } =>
    b.stats().schema ?? { persisted: 0, rejected: 0, batches: 0, dropped: 0 };
  let cutAt = 0;
  let behindAt = 0;
  if (watchSlow) {
    const watch = setInterval(() => {
      const stats = b.stats();
      if (behindAt === 0 && stats.congested > 0) behindAt = now();
      if (stats.slowConsumers === 0) return;
      cutAt = now();
      clearInterval(watch);
    }, 5);
  }
  onParent({
    exit: () => b.close(),
    stats: () => tell({ type: 'result', ...schemaStats(), slowConsumers: b.stats().slowConsumers, cutAt, behindAt, cutBuffered }),
  });
  const expected = num(args, 'ingest', 0);
  if (expected > 0) {
    let first = 0;
    let last = 0;
    let reported = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const report = (): void => {
      if (reported) return;
      reported = true;
      if (timer !== undefined) clearInterval(timer);
      const s = schemaStats();
      const main = mainThreadCpuUs();
      tell({ type: 'result', ...s, expected, first, last: last || now(), complete: s.persisted >= expected,
        ...(main === undefined || main0 === undefined ? {} : { cpuUs: main - main0 }) });
    };
    let main0: number | undefined;
    // No operator from the root `rxjs` here: in Node it loads all of rxjs, which W7 would count.
    const firstPublish = b.messages$.subscribe(() => {
      firstPublish.unsubscribe();
      first = now();
      main0 = mainThreadCpuUs();
      timer = setInterval(() => {
        const s = schemaStats();
        if (s.persisted + s.dropped + s.rejected >= expected) {
          last = now();
          report();
        }
      }, 10);
    });
    onParent({ stop: report });
  }
  // `--tcp 1`: clients dial tcp:// (spec §1.4), the port reported is the TCP one.
  tell({ type: 'ready', port: b.tcpUrl === undefined ? b.port! : Number(new URL(b.tcpUrl).port) });
} catch (err) {
  die(err);
}

