/**
 * compileWhere: the `where` grammar of the per-table RPCs. Accepted conditions come back as
 * rebuilt SQL; anything that could reach other tables, run statements or call arbitrary
 * functions is refused with a WhereClauseError.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { compileWhere, WhereClauseError } from '../../src/schema/index.js';

const COLUMNS = ['sensor', 'loc', 'value', 'ts', 'double', 'type', 'date'];

describe('compileWhere', () => {
  it.each([
    ["loc = 'belluno'", `("loc" = 'belluno')`],
    ['double=3.0', '("double" = 3.0)'],
    ["sensor = 'it''s'", `("sensor" = 'it''s')`],
    ["value > 20 AND loc <> 'x' or NOT sensor IS NULL",
      `((("value" > 20) AND ("loc" <> 'x')) OR (NOT ("sensor" IS NULL)))`],
    ['value BETWEEN 1 AND 2.5e3', '("value" BETWEEN 1 AND 2.5e3)'],
    ["loc NOT IN ('a', 'b')", `("loc" NOT IN ('a', 'b'))`],
    ["lower(loc) LIKE 'bel%'", `(lower("loc") LIKE 'bel%')`],
    ["loc not ilike '%X'", `("loc" NOT ILIKE '%X')`],
    ['-value * 2 + 1 >= (value - 3) % 4', '((((-"value") * 2) + 1) >= (("value" - 3) % 4))'],
    ["ts > TIMESTAMP '2024-01-01 00:00:00'", `("ts" > TIMESTAMP '2024-01-01 00:00:00')`],
    ["CAST(ts AS timestamp) < now() - INTERVAL '1 hour'", `(CAST("ts" AS TIMESTAMP) < (now() - INTERVAL '1 hour'))`],
    ['Value == 1', '("value" = 1)'],
    ['sensor IS NOT NULL', '("sensor" IS NOT NULL)'],
    ["loc || sensor = 'ab'", `(("loc" || "sensor") = 'ab')`],
    ['coalesce(value, 0) > abs(-1)', '(coalesce("value", 0) > abs((-1)))'],
    ['type = date', '("type" = "date")'],
    ["date = DATE '2024-01-02'", `("date" = DATE '2024-01-02')`],
    ['TRUE', 'TRUE'],
  ])('accepts %s', (where, sql) => {
    expect(compileWhere(where, COLUMNS)).toBe(sql);
  });

  it.each([
    ['1=1; DROP TABLE x', "';' is not allowed"],
    ['value IN (SELECT 1)', 'subqueries are not allowed'],
    ['value IN (SELECT value FROM other)', 'subqueries are not allowed'],
    ['(SELECT 1) = 1', 'subqueries are not allowed'],
    ['EXISTS (SELECT 1)', "'EXISTS' is not allowed"],
    ['other_table.col = 1', 'qualified names'],
    ['value = 1 -- comment', 'comments are not allowed'],
    ['value = 1 /* c */', 'comments are not allowed'],
    ['read_csv(\'/etc/passwd\') = 1', "function 'read_csv' is not allowed"],
    ['getenv(\'HOME\') = 1', "function 'getenv' is not allowed"],
    ['secret = 1', "unknown column 'secret'"],
    ['"value" = 1', 'quoted identifiers'],
    ['value::VARCHAR = 1', "'::' casts"],
    ['value = $1', 'parameters'],
    ["loc = 'open", 'unterminated string'],
    ['value >', 'unexpected end'],
    ['value = 1 value', "unexpected 'value'"],
    ['value < 1 < 2', "unexpected '<'"],
    ['CAST(value AS TEXTT) = 1', "unknown type 'TEXTT'"],
    ['value = 1abc', 'malformed number'],
    ['(value = 1', "expected ')'"],
    ['value NOT 3', 'expected IN, BETWEEN, LIKE or ILIKE after NOT'],
    ['value IS 3', 'expected NULL, TRUE or FALSE after IS'],
    ['value = 1 UNION SELECT 1', "unexpected 'UNION'"],
    [`${'('.repeat(100)}1${')'.repeat(100)}`, 'nested deeper than 64'],
    [`${'NOT '.repeat(100)}TRUE`, 'nested deeper than 64'],
    [`loc = '${'x'.repeat(5000)}'`, 'longer than 4096'],
  ])('rejects %s', (where, reason) => {
    let error: unknown;
    try { compileWhere(where, COLUMNS); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(WhereClauseError);
    expect((error as WhereClauseError).code).toBe('WHERE_CLAUSE');
    expect((error as Error).message).toContain(reason);
  });

  describe('output runs on DuckDB', () => {
    let instance: DuckDBInstance;
    let c: DuckDBConnection;
    beforeAll(async () => {
      instance = await DuckDBInstance.create(':memory:');
      c = await instance.connect();
      await c.run(`CREATE TABLE t (sensor VARCHAR, loc VARCHAR, value DOUBLE, ts TIMESTAMP, "double" DOUBLE, "type" VARCHAR, "date" DATE)`);
      await c.run(`INSERT INTO t VALUES ('s1', 'belluno', 21.5, '2024-05-01 10:00:00', 3.0, 'a', '2024-01-02'),
        ('s2', 'agordo', NULL, NULL, 4.0, 'b', NULL)`);
    });
    afterAll(() => { c.closeSync(); instance.closeSync(); });

    it.each([
      ["loc = 'belluno'", 1], ['double=3.0', 1], ['value IS NULL', 1], ["lower(loc) LIKE 'b%' OR double > 3.5", 2],
      ["ts > TIMESTAMP '2024-01-01' AND ts < now() - INTERVAL '1 day'", 1], ["date = DATE '2024-01-02'", 1],
      ["type IN ('a', 'b') AND NOT value BETWEEN 0 AND 10", 1], ["CAST(value AS INTEGER) = 22", 1],
    ])('%s selects %i row(s)', async (where, count) => {
      const reader = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM t WHERE ${compileWhere(where, COLUMNS)}`);
      expect(reader.getRowObjects()[0]?.['n']).toBe(count);
    });
  });
});
