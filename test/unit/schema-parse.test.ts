/**
 * parseSchema / loadSchemaFile (spec §8.2): the example schema parses, and every error names
 * the offending field path.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableSql, loadSchemaFile, parseSchema, SchemaError } from '../../src/schema/index.js';

const EXAMPLE = {
  tables: [{
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
  }],
};

/** A one-table schema with `patch` applied to the table. */
function table(patch: Record<string, unknown>): unknown {
  return { tables: [{ table: 't', columns: [{ col: 'a', type: 'INTEGER' }], ...patch }] };
}

/** The SchemaError `parseSchema(json)` throws. */
function errorOf(json: unknown): SchemaError {
  try {
    parseSchema(json);
  } catch (err) {
    if (err instanceof SchemaError) return err;
    throw err;
  }
  throw new Error('parseSchema accepted the schema');
}

describe('parseSchema', () => {
  it('parses the spec example with canonical types, keys and extras', () => {
    const schema = parseSchema(EXAMPLE);
    const [t] = schema.tables;
    expect(t?.name).toBe('temperature');
    expect(t?.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['sensor', 'VARCHAR', false], ['regione', 'VARCHAR', false], ['loc', 'VARCHAR', true], ['value', 'DOUBLE', true],
    ]);
    expect(t?.columns[3]?.default).toBe(0);
    expect(t?.keys).toEqual(['sensor']);
    expect(t?.layout.map((c) => [c.name, c.type, c.extra])).toContainEqual(['ts', 'UBIGINT', 'recv_ts']);
    expect(t?.layout.map((c) => [c.name, c.type, c.extra])).toContainEqual(['rop', 'UINTEGER', 'slot']);
    expect(createTableSql(t!)).toBe('CREATE TABLE IF NOT EXISTS "temperature" ("sensor" VARCHAR NOT NULL, '
      + '"regione" VARCHAR NOT NULL, "loc" VARCHAR, "value" DOUBLE DEFAULT 0, "ts" UBIGINT NOT NULL, "rop" UINTEGER, '
      + 'PRIMARY KEY ("sensor"))');
  });

  it('defaults the topic to the table name and accepts empty columns, delete_topic and format', () => {
    const schema = parseSchema({ tables: [{ table: 'bare', columns: [], format: 'key_value', delete_topic: 'x/delete' }] });
    expect(schema.tables[0]?.topic).toBe('bare');
    expect(schema.tables[0]?.keys).toEqual([]);
  });

  it('makes key columns NOT NULL and renders defaults as safe literals', () => {
    const t = parseSchema(table({ keys: ['k'], columns: [{ col: 'k', type: 'TEXT', default: "it's" },
      { col: 'b', type: 'BOOLEAN', default: true }, { col: 'n', type: 'TEXT', default: null }] })).tables[0]!;
    expect(t.columns[0]?.nullable).toBe(false);
    expect(createTableSql(t)).toContain(`"k" VARCHAR NOT NULL DEFAULT 'it''s'`);
    expect(createTableSql(t)).toContain('"b" BOOLEAN DEFAULT TRUE');
    expect(createTableSql(t)).toContain('"n" VARCHAR DEFAULT NULL');
  });

  it.each([
    ['a non-object document', 'x', '', 'expected an object'],
    ['a missing tables array', {}, 'tables', 'expected an array'],
    ['an unknown top-level field', { tables: [], extra: 1 }, 'extra', 'unknown field'],
    ['a table that is not an object', { tables: [1] }, 'tables[0]', 'expected an object'],
    ['a missing table name', { tables: [{ columns: [] }] }, 'tables[0].table', 'expected a string'],
    ['an unsafe table name', table({ table: 'x; DROP TABLE y' }), 'tables[0].table', 'not a safe identifier'],
    ['a reserved table name', table({ table: 'message' }), 'tables[0].table', 'reserved'],
    ['an unknown table field', table({ colums: [] }), 'tables[0].colums', 'unknown field'],
    ['missing columns', { tables: [{ table: 't' }] }, 'tables[0].columns', 'expected an array'],
    ['a column that is not an object', table({ columns: ['a'] }), 'tables[0].columns[0]', 'expected an object'],
    ['an unsafe column name', table({ columns: [{ col: 'a b', type: 'TEXT' }] }), 'tables[0].columns[0].col', 'not a safe identifier'],
    ['an unknown type', table({ columns: [{ col: 'a', type: 'TEXTT' }] }), 'tables[0].columns[0].type', "unknown type 'TEXTT'"],
    ['a missing type', table({ columns: [{ col: 'a' }] }), 'tables[0].columns[0].type', 'expected a string'],
    ['a non-boolean nullable', table({ columns: [{ col: 'a', type: 'TEXT', nullable: 'no' }] }), 'tables[0].columns[0].nullable', 'expected a boolean'],
    ['a nullable key', table({ keys: ['a'], columns: [{ col: 'a', type: 'TEXT', nullable: true }] }), 'tables[0].columns[0].nullable', 'cannot be nullable'],
    ['an unknown column field', table({ columns: [{ col: 'a', type: 'TEXT', size: 3 }] }), 'tables[0].columns[0].size', 'unknown field'],
    ['a default of the wrong type', table({ columns: [{ col: 'a', type: 'DOUBLE', default: 'abc' }] }), 'tables[0].columns[0].default', 'does not fit DOUBLE'],
    ['an out-of-range default', table({ columns: [{ col: 'a', type: 'TINYINT', default: 300 }] }), 'tables[0].columns[0].default', 'does not fit TINYINT'],
    ['an object default', table({ columns: [{ col: 'a', type: 'TEXT', default: {} }] }), 'tables[0].columns[0].default', 'expected a number'],
    ['a null default on NOT NULL', table({ columns: [{ col: 'a', type: 'TEXT', nullable: false, default: null }] }), 'tables[0].columns[0].default', 'does not fit'],
    ['a duplicate column', table({ columns: [{ col: 'a', type: 'TEXT' }, { col: 'A', type: 'TEXT' }] }), 'tables[0].columns[1].col', 'duplicate column'],
    ['keys that are not an array', table({ keys: 'a' }), 'tables[0].keys', 'expected an array'],
    ['a key that is not a column', table({ keys: ['zz'] }), 'tables[0].keys[0]', "'zz' is not a column"],
    ['a duplicate key', table({ keys: ['a', 'a'] }), 'tables[0].keys[1]', 'duplicate key'],
    ['an empty topic', table({ topic: '' }), 'tables[0].topic', 'non-empty string'],
    ['an empty topic segment', table({ topic: 'a//b' }), 'tables[0].topic', 'empty segment'],
    ['a wildcard topic', table({ topic: 'a/*' }), 'tables[0].topic', 'wildcard'],
    ['an unsafe variable', table({ topic: ':a-b/x' }), 'tables[0].topic', 'not a safe identifier'],
    ['a repeated variable', table({ topic: ':a/:a' }), 'tables[0].topic', 'appears twice'],
    ['extras that are not an object', table({ extras: [] }), 'tables[0].extras', 'expected an object'],
    ['an unknown extra', table({ extras: { recv: 'x' } }), 'tables[0].extras.recv', 'unknown field'],
    ['an unsafe extra column', table({ extras: { recv_ts: '1ts' } }), 'tables[0].extras.recv_ts', 'not a safe identifier'],
    ['an extra that is a column', table({ extras: { slot: 'a' } }), 'tables[0].extras.slot', 'also a column'],
    ['two extras with one name', table({ extras: { recv_ts: 'x', slot: 'x' } }), 'tables[0].extras.slot', 'also the recv_ts column'],
    ['a duplicate table', { tables: [{ table: 't', columns: [] }, { table: 'T', columns: [] }] }, 'tables[1].table', 'duplicate table'],
  ])('rejects %s naming the field', (_what, json, path, reason) => {
    const err = errorOf(json);
    expect(err.code).toBe('SCHEMA');
    expect(err.path).toBe(path);
    expect(err.message).toContain(reason);
    if (path !== '') expect(err.message.startsWith(`${path}: `)).toBe(true);
  });

  it('names the second table in the message', () => {
    const err = errorOf({ tables: [{ table: 'ok', columns: [] }, { table: 'x', columns: [{ col: 'a', type: 'TEXTT' }] }] });
    expect(err.message).toBe("tables[1].columns[0].type: unknown type 'TEXTT'");
  });
});

describe('loadSchemaFile', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-schema-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads and parses a schema file', async () => {
    const path = join(dir, 'good.json');
    await writeFile(path, JSON.stringify(EXAMPLE));
    expect((await loadSchemaFile(path)).tables[0]?.name).toBe('temperature');
  });

  it('names the file and the field of a bad schema', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify(table({ columns: [{ col: 'a', type: 'TEXTT' }] })));
    await expect(loadSchemaFile(path)).rejects.toThrow(`schema file ${path}: tables[0].columns[0].type: unknown type 'TEXTT'`);
  });

  it('names the file when it is not JSON or missing', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "tables": [');
    await expect(loadSchemaFile(path)).rejects.toThrow(`schema file ${path}: not valid JSON`);
    await expect(loadSchemaFile(join(dir, 'none.json'))).rejects.toBeInstanceOf(SchemaError);
  });
});
