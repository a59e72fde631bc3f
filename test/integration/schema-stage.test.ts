/**
 * The schema storage stage end to end on a real DuckDB file (spec §8): the spec's example
 * temperature table (keys, extras) and an append-only telemetry table, fed by a Subject as
 * the broker's messages$, with the per-table RPCs called through a Map as the expose target.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import type { DataFrame } from 'nodejs-polars';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataFrameColumns, dataFrameToTag, EpochNs, isDataFrame } from '../../src/dataframe/index.js';
import {
  attachSchema, ColumnBatch, mapPublish, parseSchema, SchemaError, TableRpcError, type Published, type Schema, type SchemaStage,
} from '../../src/schema/index.js';
import { openDatabase, type DuckDbHandle } from '../../src/store/duckdb/database.js';
import type { Logger } from '../../src/types.js';

const TEMPERATURE = {
  table: 'temperature',
  topic: ':regione/:loc/temperature',
  columns: [
    { col: 'sensor', type: 'TEXT', nullable: false },
    { col: 'regione', type: 'TEXT', nullable: false },
    { col: 'loc', type: 'TEXT' },
    { col: 'value', type: 'DOUBLE', default: 0 },
  ],
  keys: ['sensor'],
  extras: { recv_ts: 'ts', slot: 'rop' },
};
const TELEMETRY = {
  table: 'telemetry',
  topic: ':site/:dn/telemetry',
  columns: [
    { col: 'site', type: 'TEXT', nullable: false },
    { col: 'dn', type: 'TEXT', nullable: false },
    { col: 'temperature', type: 'DOUBLE' },
    { col: 'pressure', type: 'DOUBLE' },
  ],
  extras: { recv_ts: 'ts' },
};
const SCHEMA = parseSchema({ tables: [TEMPERATURE, TELEMETRY] });

interface Rig {
  readonly db: DuckDbHandle;
  readonly stage: SchemaStage;
  readonly messages$: Subject<Published>;
  readonly methods: Map<string, (...args: any[]) => unknown>;
  readonly warnings: unknown[];
}

let dir: string;
let file: string;
let open: Rig[] = [];
/** Gates of slow databases, opened before the rigs are closed. */
let releases: (() => void)[] = [];
let recv = 1_700_000_000_000_000_000n;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rembus-schema-stage-'));
  file = join(dir, 'broker.duckdb');
});

afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const rig of open) {
    await rig.stage.close();
    await rig.db.close();
  }
  open = [];
  await rm(dir, { recursive: true, force: true });
});

function logger(warnings: unknown[]): Logger {
  const noop = (): void => undefined;
  const log: Logger = { debug: noop, info: noop, error: noop, warn: (obj) => { warnings.push(obj); }, child: () => log };
  return log;
}

async function attach(schema: Schema = SCHEMA, options: { flushInterval?: number; db?: DuckDbHandle } = {}): Promise<Rig> {
  const db = options.db ?? await openDatabase(file);
  const messages$ = new Subject<Published>();
  const methods = new Map<string, (...args: any[]) => unknown>();
  const warnings: unknown[] = [];
  const stage = attachSchema({
    schema, db, messages$, logger: logger(warnings), flushInterval: options.flushInterval ?? 20,
    expose: (method, handler) => { methods.set(method, handler); return () => methods.delete(method); },
  });
  const rig = { db, stage, messages$, methods, warnings };
  open.push(rig);
  await stage.ready;
  return rig;
}

/** Close a rig's stage and database now (not in afterEach). */
async function detach(rig: Rig): Promise<void> {
  open = open.filter((r) => r !== rig);
  await rig.stage.close();
  await rig.db.close();
}

function publish(rig: Rig, topic: string, args: unknown[], slot?: number): void {
  recv += 1_000n;
  rig.messages$.next({ topic, args, flags: slot === undefined ? 0 : 0x40, recv, origin: 'pub', ...(slot === undefined ? {} : { slot }) });
}

async function call(rig: Rig, method: string, ...args: unknown[]): Promise<unknown> {
  const handler = rig.methods.get(method);
  if (handler === undefined) throw new Error(`${method} is not exposed`);
  return handler(...args);
}

async function query(rig: Rig, table: string, opts?: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const df = await call(rig, `query_${table}`, ...(opts === undefined ? [] : [opts]));
  expect(isDataFrame(df)).toBe(true);
  return (df as DataFrame).sort('ts').toRecords() as Record<string, unknown>[];
}

describe('attachSchema', () => {
  it('stores publishes and answers query_ with a where clause as a DataFrame', async () => {
    const rig = await attach();
    publish(rig, 'veneto/belluno/temperature', [{ sensor: 's1', value: 21.5 }], 7);
    publish(rig, 'veneto/agordo/temperature', [{ sensor: 's2', value: 18 }]);
    publish(rig, 'veneto/belluno/temperature', [{ sensor: 's3' }]);
    const df = await call(rig, 'query_temperature', { where: "loc = 'belluno' AND value > 20" }) as DataFrame;
    expect(df.columns).toEqual(['sensor', 'regione', 'loc', 'value', 'ts', 'rop']);
    expect(df.dtypes.map(String)).toEqual(['DataType(String)', 'DataType(String)', 'DataType(String)',
      'DataType(Float64)', 'DataType(UInt64)', 'DataType(UInt32)']);
    expect(df.toRecords()).toEqual([{ sensor: 's1', regione: 'veneto', loc: 'belluno', value: 21.5, ts: recv - 2_000n, rop: 7 }]);
    expect((await query(rig, 'temperature', { where: 'value = 0' })).map((r) => r['sensor'])).toEqual(['s3']);
    const cols = await call(rig, 'query_temperature', { cols: 'sensor, value', where: "sensor = 's2'" }) as DataFrame;
    expect(cols.toRecords()).toEqual([{ sensor: 's2', value: 18 }]);
    expect(rig.stage.stats()).toMatchObject({ persisted: 3, rejected: 0 });
  });

  it('updates keyed rows in place, by publish and by upsert_', async () => {
    const rig = await attach();
    publish(rig, 'veneto/belluno/temperature', [{ sensor: 's1', value: 10 }]);
    publish(rig, 'veneto/belluno/temperature', [{ sensor: 's1', value: 30 }]);
    expect((await query(rig, 'temperature')).map((r) => [r['sensor'], r['value']])).toEqual([['s1', 30]]);
    // A missing nullable column is null, and nulls do not overwrite (PY semantics).
    expect(await call(rig, 'upsert_temperature', { sensor: 's1', regione: 'veneto', value: 5 })).toBeNull();
    expect((await query(rig, 'temperature')).map((r) => [r['sensor'], r['loc'], r['value']])).toEqual([['s1', 'belluno', 5]]);
    await call(rig, 'upsert_temperature', { sensor: 's1', regione: 'veneto', value: 6 }, { nulls: true });
    expect((await query(rig, 'temperature')).map((r) => [r['loc'], r['value']])).toEqual([[null, 6]]);
    await call(rig, 'upsert_temperature', [{ sensor: 's2', regione: 'lazio' }, { sensor: 's3', regione: 'lazio', value: 1 }]);
    // One upsert call stamps one recv_ts: order by sensor.
    expect((await query(rig, 'temperature')).map((r) => r['sensor']).sort()).toEqual(['s1', 's2', 's3']);
    await expect(call(rig, 'upsert_temperature', 42)).rejects.toBeInstanceOf(TableRpcError);
    await expect(call(rig, 'upsert_temperature', { regione: 'x' })).rejects.toThrow("missing column 'sensor'");
  });

  it('upserts a DataFrame into an append-only table', async () => {
    const rig = await attach();
    const df = pl.DataFrame({ site: ['a', 'b'], dn: ['d1', 'd2'], temperature: [1.5, 2.5], pressure: [null, 3] });
    await call(rig, 'upsert_telemetry', df);
    const rows = await query(rig, 'telemetry');
    expect(rows.map((r) => [r['site'], r['dn'], r['temperature'], r['pressure']])).toEqual([['a', 'd1', 1.5, null], ['b', 'd2', 2.5, 3]]);
  });

  it('deletes the rows a where clause selects', async () => {
    const rig = await attach();
    for (const [loc, sensor] of [['belluno', 's1'], ['agordo', 's2'], ['belluno', 's3']]) {
      publish(rig, `veneto/${loc}/temperature`, [{ sensor, value: 1 }]);
    }
    expect(await call(rig, 'delete_temperature', { where: "loc = 'belluno'" })).toBeNull();
    expect((await query(rig, 'temperature')).map((r) => r['sensor'])).toEqual(['s2']);
    await call(rig, 'delete_temperature');
    expect(await query(rig, 'temperature')).toEqual([]);
  });

  it('refuses unsafe where clauses, unknown keys and columns, and time travel on plain DuckDB', async () => {
    const rig = await attach();
    await expect(call(rig, 'query_temperature', { where: '1=1; DROP TABLE telemetry' })).rejects.toThrow("';' is not allowed");
    await expect(call(rig, 'delete_temperature', { where: 'sensor IN (SELECT site FROM telemetry)' })).rejects.toThrow('subqueries');
    await expect(call(rig, 'query_temperature', { where: 'telemetry.site = 1' })).rejects.toBeInstanceOf(TableRpcError);
    await expect(call(rig, 'query_temperature', { no_where: 1 })).rejects.toThrow("unknown key 'no_where'");
    await expect(call(rig, 'delete_temperature', { cols: 'x' })).rejects.toThrow("unknown key 'cols'");
    await expect(call(rig, 'query_temperature', { cols: ['nope'] })).rejects.toThrow("unknown column 'nope'");
    await expect(call(rig, 'query_temperature', { when: '2024-01-01 00:00:00' })).rejects.toThrow(/DuckLake/);
    await expect(call(rig, 'query_temperature', 'x')).rejects.toBeInstanceOf(TableRpcError);
    expect((await rig.db.read('SELECT count(*)::INTEGER AS n FROM telemetry'))[0]?.['n']).toBe(0);
  });

  it('keeps the data across a close and reopen of the file', async () => {
    const first = await attach();
    publish(first, 'veneto/belluno/temperature', [{ sensor: 's1', value: 21.5 }], 3);
    publish(first, 'plant/d1/telemetry', [{ temperature: 20, pressure: 1013 }]);
    const before = await query(first, 'temperature');
    await detach(first);
    const second = await attach();
    expect(await query(second, 'temperature')).toEqual(before);
    expect((await query(second, 'telemetry')).map((r) => [r['site'], r['dn'], r['pressure']])).toEqual([['plant', 'd1', 1013]]);
    // Keys still upsert after the reopen (the merge table is per connection).
    publish(second, 'veneto/belluno/temperature', [{ sensor: 's1', value: 1 }]);
    expect((await query(second, 'temperature')).map((r) => r['value'])).toEqual([1]);
  });

  it('inserts the rows of a DataFrame payload, as a polars frame or a tag 80', async () => {
    const rig = await attach();
    const df = pl.DataFrame({ site: ['p', 'p', 'p'], dn: ['d1', 'd2', 'd3'], temperature: [1, 2, 3], pressure: [4, null, 6] });
    publish(rig, 'p/any/telemetry', [df]);
    publish(rig, 'p/any/telemetry', [dataFrameToTag(df)]);
    const rows = await query(rig, 'telemetry');
    expect(rows).toHaveLength(6);
    expect(rows.slice(0, 3).map((r) => [r['dn'], r['temperature'], r['pressure']])).toEqual([['d1', 1, 4], ['d2', 2, null], ['d3', 3, 6]]);
    publish(rig, 'p/any/telemetry', [pl.DataFrame({ site: ['p'], temperature: [1] })]);
    await rig.stage.flush();
    expect(rig.stage.stats()).toMatchObject({ persisted: 6, rejected: 1 });
  });

  it('counts and logs a publish that does not fit, and goes on storing good ones', async () => {
    const rig = await attach();
    publish(rig, 'veneto/belluno/temperature', [{ sensor: 's1', value: 'hot' }]);
    publish(rig, 'veneto/belluno/temperature', ['too', 'few']);
    publish(rig, 'plant/d1/telemetry', [{ temperature: 20, pressure: 1013 }]);
    publish(rig, 'unrelated/topic', [1]);
    await rig.stage.flush();
    expect(rig.stage.stats()).toMatchObject({ persisted: 1, rejected: 2 });
    expect(rig.warnings).toHaveLength(2);
    expect(rig.warnings[0]).toMatchObject({ topic: 'veneto/belluno/temperature', table: 'temperature' });
    expect(String((rig.warnings[0] as { reason: string }).reason)).toContain("column 'value'");
    expect(await query(rig, 'telemetry')).toHaveLength(1);
  });

  it('sees what was published just before a query, even with a long flush interval', async () => {
    const rig = await attach(SCHEMA, { flushInterval: 60_000 });
    publish(rig, 'plant/d1/telemetry', [{ temperature: 1, pressure: 2 }]);
    expect(await query(rig, 'telemetry')).toHaveLength(1);
  });

  it('migrates an existing table when the schema adds a column', async () => {
    const first = await attach();
    publish(first, 'plant/d1/telemetry', [{ temperature: 20, pressure: 1013 }]);
    await detach(first);
    const v2 = parseSchema({ tables: [TEMPERATURE, { ...TELEMETRY,
      columns: [...TELEMETRY.columns, { col: 'humidity', type: 'DOUBLE', default: 0.5 }] }] });
    const second = await attach(v2);
    publish(second, 'plant/d2/telemetry', [{ temperature: 21, pressure: 1000, humidity: 0.9 }]);
    const rows = await query(second, 'telemetry');
    expect(rows.map((r) => [r['dn'], r['humidity']])).toEqual([['d1', 0.5], ['d2', 0.9]]);
  });

  it('fails ready with a SchemaError when the schema changes a column type', async () => {
    await detach(await attach());
    const bad = parseSchema({ tables: [{ ...TELEMETRY, columns: [{ col: 'site', type: 'INTEGER', nullable: false }] }] });
    const db = await openDatabase(file);
    const rig = attachSchema({ schema: bad, db, messages$: new Subject<Published>(), expose: () => () => undefined });
    await expect(rig.ready).rejects.toBeInstanceOf(SchemaError);
    await expect(rig.ready).rejects.toThrow('tables[0].columns[0].type');
    await rig.close();
    await db.close();
  });

  it('persists all of 10,000 messages', async () => {
    const rig = await attach();
    for (let i = 0; i < 10_000; i++) publish(rig, `s${i % 10}/d${i % 100}/telemetry`, [{ temperature: i, pressure: i / 2 }]);
    await rig.stage.flush();
    const [row] = await rig.db.read('SELECT count(*)::INTEGER AS n, sum(temperature)::BIGINT AS total FROM telemetry');
    expect(row?.['n']).toBe(10_000);
    expect(row?.['total']).toBe(49_995_000n);
    expect(rig.stage.stats()).toMatchObject({ persisted: 10_000, rejected: 0, dropped: 0, pendingRows: 0, pendingBytes: 0 });
  });

  describe('on a slow database', () => {
    /** A database whose transactions wait for `release()`, counting them. */
    async function slowDb(): Promise<{ db: DuckDbHandle; slow: DuckDbHandle; release: () => void; transactions: () => number }> {
      const db = await openDatabase(file);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      let transactions = 0;
      const slow: DuckDbHandle = {
        path: db.path, get closed() { return db.closed; }, write: (w) => db.write(w), read: (...a) => db.read(...a),
        transaction: async (work) => { transactions++; await gate; return db.transaction(work); }, close: () => db.close(),
      };
      return { db, slow, release, transactions: () => transactions };
    }

    /** The estimated bytes of `n` rows of `p/d<i%10>/telemetry` publishes (all the same size). */
    function bytesOf(n: number): number {
      const batch = new ColumnBatch(SCHEMA.tables[1]!);
      for (let i = 0; i < n; i++) mapPublish(SCHEMA.tables[1]!, telemetryMsg(i), batch, { site: 'p', dn: `d${i % 10}` });
      return batch.bytes;
    }

    function telemetryMsg(i: number): Published {
      return { topic: `p/d${i % 10}/telemetry`, args: [{ temperature: i, pressure: 0 }], flags: 0, recv: BigInt(i), origin: 'x' };
    }

    /**
     * 100 publishes in batches of 10 to a stage whose database waits: the first batch is taken
     * (in flight, waiting) before the other 90 arrive. `batches`: batches maxPendingBytes holds.
     */
    async function slowStage(overflow: 'dropOldest' | 'dropNewest', batches: number) {
      const { db, slow, release, transactions } = await slowDb();
      releases.push(release);
      const messages$ = new Subject<Published>();
      const warnings: unknown[] = [];
      const stage = attachSchema({ schema: SCHEMA, db: slow, messages$, logger: logger(warnings), expose: () => () => undefined,
        batchSize: 10, maxPendingBytes: bytesOf(10) * batches, overflow });
      open.push({ db, stage, messages$, methods: new Map(), warnings });
      await stage.ready;
      for (let i = 0; i < 10; i++) messages$.next(telemetryMsg(i));
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 10; i < 100; i++) messages$.next(telemetryMsg(i));
      return { db, stage, warnings, release, transactions };
    }

    it('never blocks the publisher, keeps maxPendingBytes, and drops the oldest rows past it', async () => {
      const { db, stage, warnings, release } = await slowStage('dropOldest', 3);
      // Every next() returned while no write could finish: 10 batches of 10 rows, room for 3.
      const before = stage.stats();
      expect(before).toMatchObject({ persisted: 0, dropped: 70, pendingRows: 30, pendingBytes: bytesOf(30) });
      // Logged at the first drop and at each doubling of the episode's total, not per batch.
      expect(warnings.map((w) => (w as { dropped: number }).dropped)).toEqual([10, 20, 40, 70]);
      release();
      await stage.flush();
      expect(stage.stats()).toMatchObject({ persisted: 30, dropped: 70, pendingRows: 0, pendingBytes: 0 });
      expect(warnings.at(-1)).toMatchObject({ dropped: 70, droppedTotal: 70 }); // caught up
      const [row] = await db.read('SELECT count(*)::INTEGER AS n, min(temperature) AS low, max(temperature) AS top FROM telemetry');
      // The batch in flight when the overload began (0–9) and the newest two survive.
      expect(row).toEqual({ n: 30, low: 0, top: 99 });
      expect((await db.read('SELECT temperature FROM telemetry WHERE temperature >= 10 ORDER BY 1')).map((r) => r['temperature']))
        .toEqual(Array.from({ length: 20 }, (_, i) => 80 + i));
    });

    it('with dropNewest keeps what was queued first and drops what does not fit', async () => {
      const { db, stage, release } = await slowStage('dropNewest', 3);
      expect(stage.stats()).toMatchObject({ persisted: 0, dropped: 70, pendingRows: 30 });
      release();
      await stage.flush();
      const temps = (await db.read('SELECT temperature FROM telemetry ORDER BY 1')).map((r) => r['temperature']);
      expect(temps).toEqual(Array.from({ length: 30 }, (_, i) => i)); // a gap-free prefix
    });

    it('writes a backlog in fewer, larger transactions, without dropping under the default bound', async () => {
      const { db, stage, warnings, release, transactions } = await slowStage('dropOldest', 1_000);
      expect(stage.stats()).toMatchObject({ dropped: 0, pendingRows: 100 });
      release();
      await stage.flush();
      // The first batch was in flight alone; the 9 queued behind it went in one transaction.
      expect(transactions()).toBe(2);
      expect(stage.stats()).toMatchObject({ persisted: 100, dropped: 0, batches: 10, pendingRows: 0 });
      expect(warnings).toEqual([]);
      expect((await db.read('SELECT count(*)::INTEGER AS n FROM telemetry'))[0]?.['n']).toBe(100);
    });
  });

  it('gives columns the schema no longer lists their default, and upserts keyed rows in large batches', async () => {
    await detach(await attach());
    const db = await openDatabase(file);
    await db.write((c) => c.run("ALTER TABLE telemetry ADD COLUMN note VARCHAR DEFAULT 'n/a'"));
    const rig = await attach(SCHEMA, { db });
    for (let i = 0; i < 5_000; i++) {
      publish(rig, `p/d${i % 7}/telemetry`, [{ temperature: i, pressure: i % 3 === 0 ? null : i }]);
      publish(rig, `veneto/l${i % 5}/temperature`, [{ sensor: `s${i % 50}`, value: i % 100 < 50 ? i : null }]);
    }
    await rig.stage.flush();
    const [t] = await db.read(`SELECT count(*)::INTEGER AS n, count(pressure)::INTEGER AS p, min(note) AS lo, max(note) AS hi,
      sum(temperature) AS total FROM telemetry`);
    expect(t).toEqual({ n: 5_000, p: 3_333, lo: 'n/a', hi: 'n/a', total: 12_497_500 });
    // Last value per sensor; a null value keeps the one before (PY semantics), within a batch and across.
    const temps = await db.read('SELECT sensor, value FROM temperature ORDER BY sensor');
    expect(temps).toHaveLength(50);
    expect(temps.find((r) => r['sensor'] === 's1')).toEqual({ sensor: 's1', value: 4_901 });
    expect(temps.find((r) => r['sensor'] === 's49')).toEqual({ sensor: 's49', value: 4_949 });
  });

  it('stores and returns every column type exactly', async () => {
    const types = ['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
      'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'VARCHAR', 'BLOB', 'DATE', 'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS',
      'TIMESTAMP_NS', 'TIMESTAMPTZ'];
    const schema = parseSchema({ tables: [{ table: 'typed', columns: types.map((type) => ({ col: `c_${type.toLowerCase()}`, type })),
      extras: { recv_ts: 'ts', slot: 'rop' } }] });
    const rig = await attach(schema);
    const at = '2024-05-01T10:20:30.123456789Z';
    const values = [true, -128, -32768, -2147483648, -(2n ** 63n), 2n ** 100n, 255, 65535, 4294967295, 2n ** 64n - 1n, 7n,
      1.5, -2.25, 'zé', Uint8Array.of(1, 2, 255), '2024-05-01', at, at, at, at, new Date(Date.UTC(2024, 4, 1, 10, 20, 30, 123))];
    publish(rig, 'typed', values, 42);
    publish(rig, 'typed', types.map(() => null));
    const df = await call(rig, 'query_typed') as DataFrame;
    expect(df.dtypes.map(String)).toEqual(['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'Float64', 'UInt8', 'UInt16', 'UInt32',
      'UInt64', 'Float64', 'Float32', 'Float64', 'String', 'List(DataType(UInt8))', 'Date', 'Datetime(us,)', 'Datetime(ms,)',
      'Datetime(ms,)', 'Datetime(ns,)', 'Datetime(us,UTC)', 'UInt64', 'UInt32'].map((t) => `DataType(${t})`));
    const cols = dataFrameColumns(df.sort('ts'));
    const first = [...cols.values()].map((v) => v[0]);
    expect(first).toEqual([true, -128, -32768, -2147483648, -(2n ** 63n), 2 ** 100, 255, 65535, 4294967295, 2n ** 64n - 1n, 7,
      1.5, -2.25, 'zé', [1, 2, 255], new EpochNs(1_714_521_600_000_000_000n), new EpochNs(1_714_558_830_123_456_000n),
      new EpochNs(1_714_558_830_000_000_000n), new EpochNs(1_714_558_830_123_000_000n), new EpochNs(1_714_558_830_123_456_789n),
      new EpochNs(1_714_558_830_123_000_000n), recv - 1_000n, 42]);
    expect([...cols.values()].map((v) => v[1]).slice(0, types.length)).toEqual(types.map(() => null));
  });

  it('unexposes its RPCs on close and closes idempotently', async () => {
    const rig = await attach();
    expect([...rig.methods.keys()].sort()).toEqual(['delete_telemetry', 'delete_temperature', 'query_telemetry',
      'query_temperature', 'upsert_telemetry', 'upsert_temperature']);
    await Promise.all([rig.stage.close(), rig.stage.close()]);
    expect(rig.methods.size).toBe(0);
  });
});
