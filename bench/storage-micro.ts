/**
 * In-process micro-benchmark of the data-at-rest write path, without sockets: the steps a
 * broker with `dataDir` and the telemetry schema takes per publish, measured one by one on a
 * real DuckDB file. It separates main-thread time (what delays routing) from process CPU
 * (all threads, DuckDB's included), which matters as much on a 2-core box.
 *
 * Usage: `npx tsx bench/storage-micro.ts [--rows 200000] [--step map,schema,log,stage,frame] [--repeat 3] [--batch 20000 (the stage's default)]`
 *
 * - `map`: matchTable + mapPublish of N object publishes into column batches of 5,000 rows (no database).
 * - `schema`: TableWriter.write of those batches (one transaction each).
 * - `txn`: the same rows written in transactions of 1,000 … 200,000 rows (what the stage's
 *   `batchSize` and group commit choose): the fixed cost of a transaction, on the main thread
 *   and in DuckDB's threads.
 * - `record`: encodeRecord of N message-log rows in LMDB records of 4,096 (the durable broker's
 *   log, packed on the main thread).
 * - `log`: store.appendMessages of N message-log rows in batches of 90,000 (one per second at the W1 rate).
 * - `stage`: the whole schema stage (attachSchema) fed N publishes through a Subject, until flushed.
 * - `frame`: the stage fed N rows as DataFrame publishes of `--frame 1000` rows each (tag 80).
 * - `wire`: the stage fed N publishes as the broker hands them over: PUB frames read in place
 *   (decodeLazyPub → publishedOf), the rows mapped from the publisher's CBOR bytes; then
 *   `wire-decoded`, the same frames with the args decoded into objects first (the path before
 *   the byte mapping). Both include reading the frame's head.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pl from 'nodejs-polars';
import { Subject } from 'rxjs';
import { dataFrameToTag } from '../src/dataframe/index.js';
import { attachSchema, ColumnBatch, DEFAULT_BATCH_SIZE, ensureTable, mapPublish, matchTable, parseSchema, TableWriter, type Published } from '../src/schema/index.js';
import { openDuckDbStore } from '../src/store/duckdb/duckdb-store.js';
import { openDatabase } from '../src/store/duckdb/database.js';
import { encodeRecord } from '../src/store/lmdb/log-record.js';
import { RECORD_ROWS } from '../src/store/lmdb/lmdb-store.js';
import type { StoredMessage } from '../src/store/types.js';
import { encodeCbor, encodeValue } from '../src/codec/cbor.js';
import { decodeLazyPub } from '../src/codec/lazy-pub.js';
import { publishedOf } from '../src/broker/published.js';
import { mainThreadCpuUs, num, parseArgs, schemaFrame, schemaTelemetry, schemaTopic, str, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs();
const N = num(args, 'rows', 200_000);
const REPEAT = num(args, 'repeat', 3);
const FRAME = num(args, 'frame', 1_000);
const BATCH = num(args, 'batch', DEFAULT_BATCH_SIZE);
const STEPS = str(args, 'step', 'map,schema,log,stage,frame,wire').split(',');
const schema = parseSchema(TELEMETRY_SCHEMA);

function published(i: number): Published {
  return { topic: schemaTopic(i), args: [schemaTelemetry(i)], flags: 0, recv: 1_700_000_000_000_000_000n + BigInt(i), origin: 'pub' };
}

interface Sample { wall: number; cpu: number; main: number | undefined }

/** Wall ms, process CPU ms (every thread) and main-thread CPU ms (Linux, 10 ms ticks) of `work`. */
async function measure(work: () => Promise<void> | void): Promise<Sample> {
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuUs();
  const t0 = performance.now();
  await work();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const m1 = mainThreadCpuUs();
  return { wall, cpu: (c.user + c.system) / 1000, main: m0 === undefined || m1 === undefined ? undefined : (m1 - m0) / 1000 };
}

function line(step: string, rows: number, s: Sample, extra = ''): void {
  const rate = Math.round((rows * 1000) / s.wall).toLocaleString('en');
  process.stdout.write(`${step.padEnd(8)} ${rate.padStart(10)} rows/s wall  ${(s.wall * 1000 / rows).toFixed(2).padStart(6)} µs/row wall  `
    + `${(s.cpu * 1000 / rows).toFixed(2).padStart(6)} µs/row cpu  `
    + `${s.main === undefined ? '' : `${(s.main * 1000 / rows).toFixed(2).padStart(6)} µs/row main-thread cpu`}${extra}\n`);
}

const msgs = Array.from({ length: N }, (_, i) => published(i));
const dir = mkdtempSync(join(tmpdir(), 'rembus-micro-'));
try {
  for (let r = 0; r < REPEAT; r++) {
    if (STEPS.includes('map')) {
      let batches: ColumnBatch[] = [];
      const s = await measure(() => {
        batches = [];
        let batch: ColumnBatch | undefined;
        for (const m of msgs) {
          const match = matchTable(schema, m.topic)!;
          if (batch === undefined || batch.length >= 5_000) batches.push(batch = new ColumnBatch(match.table));
          mapPublish(match.table, m, batch, match.vars);
        }
      });
      line('map', N, s);
      if (STEPS.includes('schema')) {
        const db = await openDatabase(join(dir, `schema-${r}.duckdb`));
        const table = schema.tables[0]!;
        const catalog = await db.write((c) => ensureTable(c, table, 0));
        const writer = new TableWriter(table, catalog);
        let main = 0;
        const w = await measure(async () => {
          for (const batch of batches) {
            await db.transaction(async (c) => {
              const t0 = performance.now();
              await writer.write(c, [batch]);
              main += performance.now() - t0;
            });
          }
        });
        line('schema', N, w, `  (write ${(main * 1000 / N).toFixed(2)} µs/row of it)`);
        await db.close();
      }
    }
    if (STEPS.includes('txn')) {
      const table = schema.tables[0]!;
      for (const size of [1_000, 5_000, 20_000, 100_000, 200_000]) {
        const batches: ColumnBatch[] = [];
        for (let i = 0; i < msgs.length; i++) {
          const m = msgs[i]!;
          const match = matchTable(schema, m.topic)!;
          if (i % size === 0) batches.push(new ColumnBatch(match.table, size, size));
          mapPublish(match.table, m, batches.at(-1)!, match.vars);
        }
        const db = await openDatabase(join(dir, `txn-${r}-${size}.duckdb`));
        const writer = new TableWriter(table, await db.write((c) => ensureTable(c, table, 0)));
        const w = await measure(async () => {
          for (const batch of batches) await db.transaction((c) => writer.write(c, [batch]));
        });
        line(`txn ${size}`, N, w);
        await db.close();
      }
    }
    if (STEPS.includes('record')) {
      const log: StoredMessage[] = msgs.map((m) => ({ recv: m.recv, slot: null, qos: 0, uid: null, topic: m.topic, data: encodeValue(m.args) }));
      const s = await measure(() => {
        for (let i = 0; i < log.length; i += RECORD_ROWS) encodeRecord(log.slice(i, i + RECORD_ROWS));
      });
      line('record', N, s);
    }
    if (STEPS.includes('log')) {
      const store = await openDuckDbStore({ path: join(dir, `log-${r}.duckdb`) });
      const log: StoredMessage[] = msgs.map((m) => ({ recv: m.recv, slot: null, qos: 0, uid: null, topic: m.topic, data: encodeValue(m.args) }));
      const s = await measure(async () => {
        for (let i = 0; i < log.length; i += 90_000) await store.appendMessages(log.slice(i, i + 90_000));
      });
      line('log', N, s);
      await store.close();
    }
    if (STEPS.includes('wire')) {
      const frames = msgs.map((m) => encodeCbor({ type: 'pub', flags: 0, topic: m.topic, args: m.args }));
      for (const kind of ['wire', 'wire-decoded']) {
        const db = await openDatabase(join(dir, `${kind}-${r}.duckdb`));
        const messages$ = new Subject<Published>();
        const stage = attachSchema({ schema, db, messages$, expose: () => () => undefined, batchSize: BATCH });
        await stage.ready;
        let main = 0;
        const s = await measure(async () => {
          const t0 = performance.now();
          for (let i = 0; i < frames.length; i++) {
            const pub = decodeLazyPub(frames[i]!)!;
            const m = publishedOf(pub, undefined, msgs[i]!.recv, 'pub');
            messages$.next(kind === 'wire' ? m : { topic: m.topic, args: m.args, flags: m.flags, recv: m.recv, origin: m.origin });
          }
          main += performance.now() - t0;
          await stage.flush();
        });
        const st = stage.stats();
        line(kind, N, s, `  (persisted ${st.persisted}, rejected ${st.rejected}; next() ${(main * 1000 / N).toFixed(2)} µs/row)`);
        await stage.close();
        await db.close();
      }
    }
    if (STEPS.includes('stage') || STEPS.includes('frame')) {
      for (const kind of ['stage', 'frame'].filter((k) => STEPS.includes(k))) {
        const db = await openDatabase(join(dir, `${kind}-${r}.duckdb`));
        const messages$ = new Subject<Published>();
        const stage = attachSchema({ schema, db, messages$, expose: () => () => undefined, batchSize: BATCH });
        await stage.ready;
        let input: Published[];
        if (kind === 'stage') input = msgs;
        else {
          input = [];
          for (let i = 0; i < N; i += FRAME) {
            const n = Math.min(FRAME, N - i);
            input.push({ ...published(i / FRAME), args: [dataFrameToTag(schemaFrame(pl, i / FRAME, n))] });
          }
        }
        let main = 0;
        const s = await measure(async () => {
          const t0 = performance.now();
          for (const m of input) messages$.next(m);
          main += performance.now() - t0;
          await stage.flush();
        });
        const st = stage.stats();
        line(kind, N, s, `  (persisted ${st.persisted}, rejected ${st.rejected}, dropped ${st.dropped}, batches ${st.batches}; `
          + `next() ${(main * 1000 / N).toFixed(2)} µs/row)`);
        await stage.close();
        await db.close();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
