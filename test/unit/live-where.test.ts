/**
 * The live-query evaluator of `where` (where-eval.ts) against DuckDB itself: for every
 * condition, the rows the JS predicate accepts are exactly those `SELECT … WHERE` returns, nulls
 * and mixed number types included; constructs it cannot reproduce are refused by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochNs } from '../../src/dataframe/columns.js';
import { compileWhere } from '../../src/schema/where.js';
import { parseWhere } from '../../src/schema/where.js';
import { compileLivePredicate, UnsupportedConstruct } from '../../src/schema/where-eval.js';
import { openDatabase, type DuckDbHandle } from '../../src/store/duckdb/database.js';

const COLUMNS = ['id', 'name', 'v', 'n', 'ts', 'flag'];
const ts = (iso: string): EpochNs => new EpochNs(BigInt(Date.parse(`${iso}Z`)) * 1_000_000n);
/** Canonical rows (column-types.ts `coerce`): BIGINT as bigint, TIMESTAMP as EpochNs. */
const ROWS: unknown[][] = [
  [1, 'alpha', 1.5, 10n, ts('2026-01-01T00:00:00'), true],
  [2, 'Beta', -2, 9007199254740993n, ts('2026-06-01T12:30:00'), false],
  [3, null, null, null, null, null],
  [4, 'gamma_x%', 0, -5n, ts('2025-12-31T23:59:59'), true],
  [5, '', 20.25, 0n, ts('2026-01-01T00:00:00.5'), null],
  [6, 'ALPHA beta', 3, 3n, ts('2030-02-03T04:05:06'), false],
];

const CONDITIONS = [
  'v > 1', 'v >= 0 AND n < 10', 'v IS NULL', 'name IS NOT NULL AND flag', 'NOT flag', 'flag IS NOT TRUE',
  "name = 'alpha' OR v < 0", 'n = 9007199254740993', 'n > 9007199254740992', 'n BETWEEN -5 AND 3', 'v NOT BETWEEN 0 AND 2',
  'id IN (1, 3, 5)', 'id NOT IN (2, NULL)', 'v IN (1.5, NULL)', "name LIKE 'a%'", "name ILIKE 'a%'", "name LIKE 'gamma\\_%'",
  "name NOT LIKE '%beta%'", "name LIKE '_eta'", "ts > TIMESTAMP '2026-01-01 00:00:00'", "ts <= '2026-01-01 00:00:00.5'",
  "ts BETWEEN DATE '2026-01-01' AND DATE '2026-12-31'", 'v * 2 + 1 > 4', 'v / 0 > 1000', 'id / 0 > 1000', 'id % 0 IS NULL', 'id % 2 = 0', 'n % 4 = 1', '-v > 1',
  "name || 'x' = 'alphax'", 'abs(v) > 1.9', 'round(v) = 2', 'floor(v) = 1', 'ceil(v) = -2', "lower(name) = 'alpha beta'",
  "upper(name) LIKE 'ALPHA%'", 'length(name) = 5', "starts_with(name, 'al')", "contains(name, 'et')", "strpos(name, 'ph') = 3",
  "left(name, 2) = 'Be'", "right(name, 3) = 'eta'", "substr(name, 2, 3) = 'lph'", "replace(name, 'a', 'o') = 'olpho'",
  'coalesce(v, 99) = 99', 'nullif(id, 3) IS NULL', 'greatest(v, 2) = 2', 'least(id, v) < 1', "concat(name, NULL, 'z') = 'alphaz'",
  "trim(name) = ''", 'epoch_ms(ts) = 1767225600000', 'epoch(ts) > 1767225600', 'CAST(n AS DOUBLE) > 1e15', "CAST(id AS VARCHAR) = '4'",
  'v = 20.25 AND id = 5', 'power(v, 2) > 2', 'sqrt(id) = 2', 'sign(v) = -1', 'isnan(v)', 'v / 0 = v / 0', 'v / v < 0', '(v > 0) = flag', 'flag = TRUE OR v IS NULL',
];

describe('compileLivePredicate', () => {
  let db: DuckDbHandle;
  beforeAll(async () => {
    db = await openDatabase(':memory:');
    const lit = (v: unknown): string => v === null ? 'NULL' : v instanceof EpochNs ? `TIMESTAMP '${v.toDate().toISOString().replace('T', ' ').replace('Z', '')}'`
      : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
    await db.write(async (c) => {
      await c.run('CREATE TABLE t (id INTEGER, name VARCHAR, v DOUBLE, n BIGINT, ts TIMESTAMP, flag BOOLEAN)');
      await c.run(`INSERT INTO t VALUES ${ROWS.map((r) => `(${r.map(lit).join(', ')})`).join(', ')}`);
    });
  });
  afterAll(async () => { await db.close(); });

  it.each(CONDITIONS)('matches the rows DuckDB selects for %s', async (where) => {
    const expected = (await db.read(`SELECT id FROM t WHERE ${compileWhere(where, COLUMNS)} ORDER BY id`)).map((r) => r['id']);
    const matches = compileLivePredicate(parseWhere(where, COLUMNS), COLUMNS);
    expect(ROWS.filter(matches).map((r) => r[0])).toEqual(expected);
  });

  it.each([
    ["regexp_matches(name, 'a')", 'function regexp_matches()'], ["ts > now() - INTERVAL '1 day'", 'function now()'],
    ["year(ts) = 2026", 'function year()'], ["date_trunc('day', ts) = ts", 'function date_trunc()'],
    ['CAST(v AS INTEGER) = 2', 'CAST AS INTEGER'], ["ts + INTERVAL '1 day' > ts", 'INTERVAL literals'],
  ])('refuses %s naming %s', (where, construct) => {
    const compile = (): unknown => compileLivePredicate(parseWhere(where, COLUMNS), COLUMNS);
    expect(compile).toThrow(UnsupportedConstruct);
    expect(compile).toThrow(construct);
  });

  it('accepts every row without a condition', () => {
    expect(ROWS.filter(compileLivePredicate(undefined, COLUMNS))).toHaveLength(ROWS.length);
  });
});
