/**
 * Benchmark role: the rembus broker, exactly as an application starts it (`broker()` from the
 * public broker entry), on 127.0.0.1 and a free port.
 *
 * Usage (from run.ts): `tsx bench/rembus-broker.ts [--data-dir D --schema telemetry [--ingest N]]`
 *
 * - `--data-dir D --schema telemetry`: `broker({ …, dataDir: D, schema: TELEMETRY_SCHEMA })`, so
 *   matching publishes are persisted into DuckDB (`D/broker.duckdb`). run.ts creates and
 *   removes D. The `stats` IPC message answers `{ type: 'result', persisted, rejected, batches, dropped }`.
 * - `--ingest N` (W8, W8b; N rows): from the first publish the broker receives (`messages$`), poll
 *   `stats().schema` every 10 ms and report once every row is accounted for, `persisted +
 *   dropped + rejected` ≥ N (or on `stop`, with what it has): `{ type: 'result', persisted,
 *   expected, first, last, complete, rejected, dropped, batches }`; `complete` means all N were
 *   persisted. A run that dropped rows thus reports its rate and its loss, instead of waiting for
 *   rows that will never come until the time limit.
 */
import { take } from 'rxjs';
import { broker } from '../src/broker/index.js';
import { die, now, num, onParent, parseArgs, str, tell, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs();

try {
  const dataDir = args['data-dir'];
  const schemaName = args['schema'];
  if (schemaName !== undefined && schemaName !== 'telemetry') throw new Error(`unknown --schema ${schemaName}`);
  const b = await broker({
    port: 0, host: '127.0.0.1',
    ...(args['tcp'] === undefined ? {} : { tcp: { port: 0 } }),
    ...(dataDir === undefined ? {} : { dataDir: str(args, 'data-dir') }),
    ...(schemaName === undefined ? {} : { schema: TELEMETRY_SCHEMA }),
  });
  const schemaStats = (): { persisted: number; rejected: number; batches: number; dropped: number } =>
    b.stats().schema ?? { persisted: 0, rejected: 0, batches: 0, dropped: 0 };
  onParent({
    exit: () => b.close(),
    stats: () => tell({ type: 'result', ...schemaStats() }),
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
      tell({ type: 'result', ...s, expected, first, last: last || now(), complete: s.persisted >= expected });
    };
    b.messages$.pipe(take(1)).subscribe(() => {
      first = now();
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
