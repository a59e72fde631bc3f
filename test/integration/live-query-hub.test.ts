/**
 * The live-query hub on a schema stage (no broker): rows committed while a snapshot is on its
 * way are held up to `maxPending`, past which the query ends; `close()` ends every query; a
 * closed query holds and receives nothing; a where DuckDB refuses at run time rejects `open`.
 */
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveQueryEndedError } from '../../src/protocol/live-query.js';
import { attachSchema, parseSchema, type Published, type SchemaStage } from '../../src/schema/index.js';
import { LiveQueryHub, type LiveSink } from '../../src/schema/live-query.js';
import type { Row } from '../../src/schema/types.js';
import { openDatabase, type DuckDbHandle } from '../../src/store/duckdb/database.js';

const SCHEMA = parseSchema({ tables: [{ table: 'reading', topic: ':dev/reading',
  columns: [{ col: 'dev', type: 'TEXT' }, { col: 'seq', type: 'BIGINT' }] }] });
const TABLE = SCHEMA.tables[0]!;

describe('LiveQueryHub', () => {
  let db: DuckDbHandle;
  let stage: SchemaStage;
  let messages$: Subject<Published>;
  let recv = 1n;
  const publish = (dev: string, seq: number): void => messages$.next({ topic: `${dev}/reading`, args: [{ dev, seq }], flags: 0, recv: recv++, origin: 'w' });
  const hub = (maxPending?: number): LiveQueryHub => new LiveQueryHub({ db, commits: stage.commits, ready: stage.ready, flush: () => stage.flush() }, maxPending);
  function sink(): LiveSink & { rows$: Row[][]; ended: LiveQueryEndedError[] } {
    const rows$: Row[][] = [], ended: LiveQueryEndedError[] = [];
    return { rows$, ended, rows: (r) => rows$.push(r), end: (e) => ended.push(e) };
  }

  beforeEach(async () => {
    db = await openDatabase(':memory:');
    messages$ = new Subject();
    stage = attachSchema({ schema: SCHEMA, db, messages$, expose: () => () => undefined, batchSize: 1, flushInterval: 1 });
    await stage.ready;
  });
  afterEach(async () => {
    await stage.close();
    await db.close();
  });

  it('holds rows committed before go() and delivers them, in order, on go()', async () => {
    const h = hub();
    const s = sink();
    publish('a', 1);
    const q = await h.open(h.prepare(TABLE, undefined, true), s);
    expect(q.rows).toEqual([['a', 1n]]);
    publish('a', 2);
    publish('a', 3);
    await stage.flush();
    expect(s.rows$).toEqual([]); // held: the snapshot is not sent yet
    q.go();
    expect(s.rows$.flat()).toEqual([['a', 2n], ['a', 3n]]);
    publish('a', 4);
    await stage.flush();
    expect(s.rows$.flat()).toEqual([['a', 2n], ['a', 3n], ['a', 4n]]);
    q.close();
    publish('a', 5);
    await stage.flush();
    expect(s.rows$.flat()).toHaveLength(3);
    expect(h.size).toBe(0);
  });

  it('ends a query whose held rows pass maxPending, and releases it', async () => {
    const h = hub(2);
    const s = sink();
    const q = await h.open(h.prepare(TABLE, "dev = 'a'", true), s);
    for (let i = 0; i < 5; i++) publish(i === 1 ? 'b' : 'a', i); // 4 matching rows, one at a time
    await stage.flush();
    expect(s.ended).toHaveLength(1);
    expect(s.ended[0]).toBeInstanceOf(LiveQueryEndedError);
    expect(s.ended[0]!.message).toMatch(/more than 2 rows/);
    expect(h.size).toBe(0);
    q.go();
    expect(s.rows$).toEqual([]);
  });

  it('ends every running query on close() and refuses new ones', async () => {
    const h = hub();
    const [s1, s2] = [sink(), sink()];
    const q1 = await h.open(h.prepare(TABLE, undefined, true), s1);
    await h.open(h.prepare(TABLE, undefined, true), s2);
    q1.go();
    expect(h.size).toBe(2);
    h.close();
    h.close();
    expect([s1.ended.length, s2.ended.length]).toEqual([1, 1]);
    expect(s1.ended[0]!.reason).toBe('broker closing');
    expect(h.size).toBe(0);
    await expect(h.open(h.prepare(TABLE, undefined, true), sink())).rejects.toBeInstanceOf(LiveQueryEndedError);
  });

  it('rejects open() when DuckDB refuses the condition at run time, holding nothing', async () => {
    const h = hub();
    publish('a', 1);
    await expect(h.open(h.prepare(TABLE, "seq = 'not a number'", true), sink())).rejects.toThrow();
    expect(h.size).toBe(0);
  });
});
