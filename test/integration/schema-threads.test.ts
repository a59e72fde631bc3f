/**
 * DuckDB's worker threads for the schema tables (`schemaWrites.threads`, default 1: README
 * "Durable at wire speed"): the setting reaches the database the stage writes, a store sharing
 * that database takes it too, rows are written either way, and a value that is not a positive
 * integer fails start-up before anything is opened, leaving the data directory usable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_DUCKDB_THREADS, openDataStage, type DataStage } from '../../src/broker/data-stage.js';
import { InvalidOptionError } from '../../src/errors.js';
import { silentLogger } from '../../src/internal/logger.js';
import type { Published } from '../../src/schema/index.js';
import { openDatabase, type DuckDbHandle } from '../../src/store/duckdb/database.js';
import type { Store } from '../../src/store/types.js';
import { roundTrip, useScope, waitFor } from './helpers.js';

const SCHEMA = {
  tables: [{
    table: 'telemetry', topic: ':site/:dn/telemetry',
    columns: [{ col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' }],
  }],
};

let dir: string;
let db: DuckDbHandle | undefined;
let stage: DataStage | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rembus-threads-'));
});

afterEach(async () => {
  await stage?.close();
  await db?.close();
  stage = undefined;
  db = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The stage on a database the test holds (as a DuckDB store shares its own). */
async function open(writes?: { threads?: number }): Promise<{ messages$: Subject<Published> }> {
  db = await openDatabase(join(dir, 'tables.duckdb'));
  const messages$ = new Subject<Published>();
  stage = await openDataStage({ schema: SCHEMA, store: { db } as unknown as Store, logger: silentLogger, writes },
    { messages$, expose: () => () => undefined, exposeAware: () => () => undefined, detached$: NEVER });
  return { messages$ };
}

const threadsOf = async (h: DuckDbHandle): Promise<number> =>
  Number((await h.read("SELECT current_setting('threads') AS t"))[0]!['t']);

function publish(messages$: Subject<Published>, i: number): void {
  messages$.next({ topic: `s${i % 3}/d${i}/telemetry`, args: [{ temperature: i }], flags: 0, id: undefined,
    slot: undefined, recv: BigInt(i), origin: 'pub' });
}

describe('schemaWrites.threads', () => {
  it('runs the tables\' database on one DuckDB thread by default, and writes its rows', async () => {
    const { messages$ } = await open();
    expect(DEFAULT_DUCKDB_THREADS).toBe(1);
    expect(await threadsOf(db!)).toBe(1);
    for (let i = 0; i < 5_000; i++) publish(messages$, i);
    await stage!.stage!.flush();
    const [row] = await db!.read('SELECT count(*)::INTEGER AS n, sum(temperature) AS s FROM telemetry');
    expect(row).toEqual({ n: 5_000, s: (4_999 * 5_000) / 2 });
  });

  it('takes another count, for the whole database a store shares', async () => {
    const { messages$ } = await open({ threads: 3 });
    expect(await threadsOf(db!)).toBe(3);
    publish(messages$, 7);
    await stage!.stage!.flush();
    expect(await db!.read('SELECT site, dn, temperature FROM telemetry')).toEqual([{ site: 's1', dn: 'd7', temperature: 7 }]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number])(
    'refuses threads %s before opening anything', async (threads) => {
      db = await openDatabase(join(dir, 'tables.duckdb'));
      const before = await threadsOf(db);
      const opening = openDataStage({ schema: SCHEMA, store: { db } as unknown as Store, logger: silentLogger, writes: { threads } },
        { messages$: new Subject<Published>(), expose: () => () => undefined, exposeAware: () => () => undefined, detached$: NEVER });
      await expect(opening).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(opening).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'schemaWrites.threads' });
      expect(await threadsOf(db)).toBe(before); // no SET ran
      expect(await db.read("SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'telemetry'"))
        .toEqual([{ n: 0 }]); // no table created
    });
});

describe('schemaWrites.threads through broker()', () => {
  const scope = useScope();

  it('a refused value fails start-up and leaves the data directory to the next broker', async () => {
    await expect(scope.broker({ dataDir: dir, schema: SCHEMA, schemaWrites: { threads: 0 } }))
      .rejects.toMatchObject({ code: 'INVALID_OPTION' });
    // The tables' file is closed again: a broker on the same directory opens it and stores rows.
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA, schemaWrites: { threads: 2 } });
    const pub = await scope.connect(b, 'pub');
    for (let i = 0; i < 10; i++) pub.publish(`s1/d${i}/telemetry`, { temperature: i });
    await roundTrip(pub);
    await waitFor(() => b.stats().schema?.persisted === 10, { what: 'the ten rows to be written' });
  });
});
