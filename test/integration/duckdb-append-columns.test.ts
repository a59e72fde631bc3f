/**
 * appendColumns on a real DuckDB file: rows spread over many data chunks (a partial last one,
 * null masks that change from chunk to chunk, text that must not leak from one chunk into the
 * next), all or nothing inside a transaction, and the message log written through it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBVector } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ColumnBatch, ensureTable, parseSchema, TableWriter } from '../../src/schema/index.js';
import { appendColumns, type ColumnSource } from '../../src/store/duckdb/append-columns.js';
import { openDatabase, type DuckDbHandle } from '../../src/store/duckdb/database.js';
import { openDuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import type { StoredMessage } from '../../src/store/types.js';

let dir: string;
let db: DuckDbHandle | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rembus-append-columns-'));
});

afterEach(async () => {
  await db?.close();
  db = undefined;
  await rm(dir, { recursive: true, force: true });
});

const SIZE = DuckDBVector.standardSize();

/** Row i: x = i unless i is in a null run, s = `s<i>` (long enough not to be inlined) or null. */
function columns(n: number, nullX: (i: number) => boolean, nullS: (i: number) => boolean): ColumnSource {
  return {
    length: n,
    fill: (column, vector, from, count) => {
      for (let k = 0; k < count; k++) {
        const i = from + k;
        if (column === 0) (vector as DuckDBVector<number>).setItem(k, i);
        else if (column === 1) (vector as DuckDBVector<number>).setItem(k, nullX(i) ? null : i * 0.5);
        else (vector as DuckDBVector<string>).setItem(k, nullS(i) ? null : `string-number-${i}`);
      }
    },
  };
}

describe('appendColumns', () => {
  it('writes rows over many chunks, with null masks and text that change from chunk to chunk', async () => {
    db = await openDatabase(join(dir, 'a.duckdb'));
    await db.write((c) => c.run('CREATE TABLE t(i INTEGER, x DOUBLE, s VARCHAR)'));
    const n = SIZE * 20 + 123; // more chunks than one turn of the event loop takes, and a partial last one
    // Nulls only in the first chunk for x, only in the third for s.
    const source = columns(n, (i) => i < SIZE && i % 3 === 0, (i) => i >= 2 * SIZE && i < 3 * SIZE && i % 2 === 0);
    expect(await db.transaction((c) => appendColumns(c, 't', [source, columns(5, () => true, () => false)]))).toBe(n + 5);
    const [summary] = await db.read(`SELECT count(*)::INTEGER AS n, count(x)::INTEGER AS xs, count(s)::INTEGER AS ss,
      sum(x) AS total, count(DISTINCT s)::INTEGER AS distinct_s FROM t`);
    const nullX = Math.ceil(SIZE / 3) + 5;
    const nullS = SIZE / 2;
    expect(summary).toMatchObject({ n: n + 5, xs: n + 5 - nullX, ss: n + 5 - nullS });
    const wrong = await db.read(`SELECT i, x, s FROM t WHERE rowid < ${n} AND (
      (x IS NULL) <> (i < ${SIZE} AND i % 3 = 0) OR (x IS NOT NULL AND x <> i * 0.5)
      OR (s IS NULL) <> (i >= ${2 * SIZE} AND i < ${3 * SIZE} AND i % 2 = 0) OR (s IS NOT NULL AND s <> 'string-number-' || i))
      LIMIT 5`);
    expect(wrong).toEqual([]);
    // The second source starts a chunk of its own: its rows are 0…4 again.
    expect(await db.read(`SELECT i, x, s FROM t WHERE rowid >= ${n} ORDER BY rowid`)).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ i, x: null, s: `string-number-${i}` })));
  });

  it('appends nothing of a call whose fill throws, and the transaction rolls back', async () => {
    db = await openDatabase(join(dir, 'b.duckdb'));
    await db.write((c) => c.run('CREATE TABLE t(i INTEGER, x DOUBLE, s VARCHAR)'));
    const good = columns(SIZE * 3, () => false, () => false);
    const bad: ColumnSource = { length: 10, fill: () => { throw new Error('boom'); } };
    await expect(db.transaction((c) => appendColumns(c, 't', [good, bad]))).rejects.toThrow('boom');
    expect((await db.read('SELECT count(*)::INTEGER AS n FROM t'))[0]?.['n']).toBe(0);
  });
});

describe('appendColumns through RawVector (column batches)', () => {
  /** Texts at DuckDB's inline edge (12 bytes), past it, multi-byte, empty; null runs that move. */
  const TEXTS = ['', 'a', 'site7', 'exactly12byt', 'thirteen-byte', 'é', 'ééééééé', 'ab😀cdefgh', 'ab😀cdefghi',
    '日本語', '日本語日本', 'null\u0000in', 'a longer text that is stored out of line'];
  const text = (i: number): string | null => (i % 17 === 3 || (i >= SIZE && i < SIZE + 100) ? null : `${TEXTS[i % TEXTS.length]!}`);
  const num = (i: number): number | null => (i < SIZE && i % 5 === 0 ? null : i * 1.25);
  const big = (i: number): bigint | null => (i >= 2 * SIZE && i % 7 === 0 ? null : BigInt(i) * 3_000_000_000n - 2n ** 62n);
  const ubig = (i: number): bigint | null => (i % 11 === 0 && i < 3 * SIZE ? null : 2n ** 64n - 1n - BigInt(i));

  it('writes text (inline, out of line, multi-byte), doubles and 64-bit integers exactly, nulls changing by chunk', async () => {
    db = await openDatabase(join(dir, 'raw.duckdb'));
    const schema = parseSchema({ tables: [{ table: 't', topic: 't', columns: [
      { col: 'i', type: 'INTEGER' }, { col: 's', type: 'TEXT', nullable: true }, { col: 'x', type: 'DOUBLE', nullable: true },
      { col: 'b', type: 'BIGINT', nullable: true }, { col: 'u', type: 'UBIGINT', nullable: true }] }] });
    const table = schema.tables[0]!;
    const catalog = await db.write((c) => ensureTable(c, table, 0));
    const n = SIZE * 4 + 321;
    const rows = Array.from({ length: n }, (_, i) => [i, text(i), num(i), big(i), ubig(i)]);
    const writer = new TableWriter(table, catalog);
    // Two batches: the second starts a chunk of its own, after a partial one.
    expect(await db.transaction((c) => writer.write(c, [ColumnBatch.fromRows(table, rows.slice(0, SIZE + 50)),
      ColumnBatch.fromRows(table, rows.slice(SIZE + 50))]))).toBe(n);
    const back = await db.read('SELECT i, s, x, b, u FROM t ORDER BY i');
    expect(back.length).toBe(n);
    const wrong = back.filter((r, i) => r['i'] !== i || r['s'] !== text(i) || r['x'] !== num(i)
      || r['b'] !== big(i) || r['u'] !== ubig(i));
    expect(wrong.slice(0, 3)).toEqual([]);
    // DuckDB compares and hashes inline text by its bytes: padding must be zero for equality to hold.
    const [eq] = await db.read(`SELECT count(*)::INTEGER AS n FROM t WHERE s = 'site7'`);
    expect(eq!['n']).toBe(rows.filter((r) => r[1] === 'site7').length);
    const groups = await db.read('SELECT s, count(*)::INTEGER AS n FROM t WHERE s IS NOT NULL GROUP BY s');
    expect(groups.length).toBe(TEXTS.length);
  });
});

describe('duckdb store appendMessages', () => {
  it('logs a large batch exactly, nullable slot and uid included', async () => {
    const store = await openDuckDbStore({ path: join(dir, 'log.duckdb'), brokerName: 'b1' });
    try {
      const n = SIZE * 3 + 7;
      const batch: StoredMessage[] = Array.from({ length: n }, (_, i) => ({
        recv: 1_000n + BigInt(i), slot: i < SIZE ? null : i, qos: i % 2 === 0 ? 0 : 0x10,
        uid: i % 2 === 0 ? null : 2n ** 64n - 1n - BigInt(i), topic: `site${i % 10}/dn${i % 100}/telemetry`,
        data: Uint8Array.of(i & 255, 1, 2, 3),
      }));
      await store.appendMessages(batch);
      const back = await store.readMessages({ after: 0n, upTo: 2n ** 64n, limit: Infinity });
      expect(back).toEqual(batch);
    } finally {
      await store.close();
    }
  });
});
