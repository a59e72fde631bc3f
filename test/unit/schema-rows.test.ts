/**
 * matchTable and rowsFor (spec §8.3): table resolution with topic variables, and the payload
 * mapping cases of the PY tests (test_schema, test_schema_df, test_hierarchy) and JL test_format.
 */
import pl from 'nodejs-polars';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataFrameToTag, EpochNs, int64Series } from '../../src/dataframe/index.js';
import { argsOf, decodeValue, encodeValue } from '../../src/codec/cbor.js';
import { matchTable, parseSchema, rowsFor, rowsForUpsert, type Published, type Row, type TableDef } from '../../src/schema/index.js';

const RECV = 1_700_000_000_123_456_789n;

/** The PY test schema (tests/db/schema.json) plus the hierarchy tables. */
const SCHEMA = parseSchema({
  tables: [
    { table: 'topic1', format: 'sequence', extras: { recv_ts: 'ts', slot: 'rop' }, columns: [
      { col: 'name', type: 'TEXT', nullable: false }, { col: 'type', type: 'TEXT', nullable: false },
      { col: 'tinyint', type: 'TINYINT' }, { col: 'smallint', type: 'SMALLINT' },
      { col: 'integer', type: 'INTEGER' }, { col: 'bigint', type: 'BIGINT' }] },
    { table: 'topic3', format: 'key_value', extras: { recv_ts: 'ts', slot: 'rop' }, columns: [
      { col: 'name', type: 'TEXT', nullable: false }, { col: 'type', type: 'TEXT', default: 'type_default' },
      { col: 'float', type: 'FLOAT', nullable: true }, { col: 'double', type: 'DOUBLE' }] },
    { table: 'topic4', keys: ['name', 'type'], extras: { recv_ts: 'ts', slot: 'rop' }, columns: [
      { col: 'name', type: 'TEXT', nullable: false }, { col: 'type', type: 'TEXT' },
      { col: 'value', type: 'TEXT', default: 'default_value' }, { col: 'opt_value', type: 'TEXT' }] },
    { table: 'table_without_columns', columns: [], extras: { recv_ts: 'ts', slot: 'rop' } },
    { table: 'pressure', topic: ':regione/:loc/pressure', columns: [
      { col: 'sensor', type: 'TEXT', nullable: false }, { col: 'regione', type: 'TEXT', nullable: false },
      { col: 'loc', type: 'TEXT' }, { col: 'value', type: 'DOUBLE' }] },
    { table: 'temperature', topic: ':regione/:loc/temperature', keys: ['sensor'], extras: { recv_ts: 'ts', slot: 'rop' },
      columns: [
        { col: 'sensor', type: 'TEXT', nullable: false }, { col: 'regione', type: 'TEXT', nullable: false },
        { col: 'loc', type: 'TEXT' }, { col: 'value', type: 'DOUBLE', default: 0 }] },
    { table: 'device', topic: ':site/:type/:dn/device', keys: ['dn'], columns: [
      { col: 'site', type: 'TEXT', nullable: false }, { col: 'type', type: 'TEXT', nullable: false }, { col: 'dn', type: 'TEXT' }] },
    { table: 'shadow', topic: ':a/:b/temperature', columns: [{ col: 'a', type: 'TEXT' }] },
    { table: 'counter', topic: 'plant/:line/count', columns: [{ col: 'line', type: 'INTEGER' }, { col: 'on', type: 'BOOLEAN' }] },
  ],
});

function tableOf(name: string): TableDef {
  const t = SCHEMA.tables.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no table ${name}`);
  return t;
}

function pub(topic: string, args: unknown[], extra: Partial<Published> = {}): Published {
  return { topic, args, flags: 0, recv: RECV, origin: 'test', ...extra };
}

/**
 * How rowsOf hands the args over: decoded, or as the broker does for a frame read in place —
 * the publisher's CBOR bytes (mapped without decoding when their shape allows) with `args`
 * decoded from those same bytes.
 */
let viaBytes = false;

function encodedPub(topic: string, args: unknown[], extra: Partial<Published>): Published {
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(args);
  } catch {
    return pub(topic, args, extra); // a polars DataFrame object: not a wire payload
  }
  return { ...pub(topic, argsOf(decodeValue(bytes)), extra), argsBytes: bytes };
}

/** rowsFor through matchTable, as the stage does it. */
function rowsOf(topic: string, args: unknown[], extra: Partial<Published> = {}): Row[] | string {
  const m = matchTable(SCHEMA, topic);
  if (m === undefined) throw new Error(`${topic} matches no table`);
  return rowsFor(m.table, viaBytes ? encodedPub(topic, args, extra) : pub(topic, args, extra), m.vars);
}

describe('matchTable', () => {
  it.each([
    ['topic1', 'topic1', {}],
    ['veneto/agordo/temperature', 'temperature', { regione: 'veneto', loc: 'agordo' }],
    ['veneto/agordo/pressure', 'pressure', { regione: 'veneto', loc: 'agordo' }],
    ['mysite/type_1/myname/device', 'device', { site: 'mysite', type: 'type_1', dn: 'myname' }],
    ['plant/7/count', 'counter', { line: '7' }],
  ])('maps %s to %s with its variables', (topic, table, vars) => {
    const m = matchTable(SCHEMA, topic);
    expect(m?.table.name).toBe(table);
    expect(m?.vars).toEqual(vars);
  });

  it.each([
    ['veneto/temperature'], ['veneto/agordo/not_exists'], ['topic1/x'], ['nothing'], ['a/b/c/d/e'], ['plant/7/other'],
  ])('matches nothing for %s', (topic) => {
    expect(matchTable(SCHEMA, topic)).toBeUndefined();
  });

  it('lets the first table in file order win', () => {
    // `shadow` (:a/:b/temperature) comes after `temperature` and never wins.
    expect(matchTable(SCHEMA, 'x/y/temperature')?.table.name).toBe('temperature');
    const reversed = parseSchema({ tables: [
      { table: 'generic', topic: ':x/count', columns: [] },
      { table: 'specific', topic: 'plant/count', columns: [] },
    ] });
    expect(matchTable(reversed, 'plant/count')?.table.name).toBe('generic');
  });
});

describe.each([['decoded args', false], ['CBOR bytes', true]] as const)('rowsFor (%s)', (_, bytes) => {
  beforeEach(() => { viaBytes = bytes; });
  afterEach(() => { viaBytes = false; });

  it('fills only the non-topic columns from a positional payload: it never overrides topic variables (issue 13 item 12)', () => {
    // pressure: sensor, regione (topic), loc (topic), value — positional values go to sensor, value.
    expect(rowsOf('veneto/agordo/pressure', ['s1', 1013.5])).toEqual([['s1', 'veneto', 'agordo', 1013.5]]);
    expect(rowsOf('veneto/agordo/temperature', ['s1', 21.5])).toEqual([['s1', 'veneto', 'agordo', 21.5, RECV, null]]);
    expect(rowsOf('plant/7/count', [true])).toEqual([[7, true]]);
  });

  it('refuses a positional payload with more (or fewer) values than the non-topic columns', () => {
    // The old mapping stored these four values over all four columns: regione 'x', loc 'y'.
    expect(rowsOf('veneto/agordo/pressure', ['s1', 'x', 'y', 1013.5]))
      .toBe('expected 2 positional value(s), got 4 (the topic gives regione, loc)');
    expect(rowsOf('veneto/agordo/pressure', ['s1', 1013.5, 3])).toMatch(/^expected 2 positional value\(s\), got 3/);
    expect(rowsOf('veneto/agordo/pressure', ['s1'])).toMatch(/^expected 2 positional value\(s\), got 1/);
    expect(rowsOf('plant/7/count', [8, true])).toBe('expected 1 positional value(s), got 2 (the topic gives line)');
    expect(rowsOf('mysite/type_1/myname/device', ['other'])).toBe('expected 0 positional value(s), got 1 (the topic gives site, type, dn)');
  });

  it('refuses a positional payload whose topic variable does not fit its column', () => {
    expect(rowsOf('plant/x7/count', [true])).toBe(`column 'line': "x7" does not fit INTEGER`);
  });

  it('maps a positional publish with slot (PY topic1 with slot 1234, QoS2) to one row', () => {
    const rows = rowsOf('topic1', ['name_a', 'type_a', 1, 16, 32, 64], { slot: 1234, flags: 0x70 });
    expect(rows).toEqual([['name_a', 'type_a', 1, 16, 32, 64n, RECV, 1234]]);
  });

  it('rejects a positional publish with the wrong number of fields', () => {
    expect(rowsOf('topic1', ['foo'])).toBe('expected 6 positional value(s), got 1');
    expect(rowsOf('topic3', ['name_a', -1])).toMatch(/expected 4 positional/);
  });

  it('fills key_value defaults and nulls (PY topic3) and leaves the slot null without one', () => {
    expect(rowsOf('topic3', [{ name: 'name_a', double: 3.0 }])).toEqual([['name_a', 'type_default', null, 3, RECV, null]]);
    expect(rowsOf('topic3', [{ name: 'name_a', double: 4.0, ignored: 'x' }])).toEqual([['name_a', 'type_default', null, 4, RECV, null]]);
  });

  it('rejects a key_value payload missing a mandatory field (PY topic3/topic4)', () => {
    expect(rowsOf('topic3', [{ field_not_in_schema: 'x', unknown_field: 'y' }])).toBe("missing column 'name'");
    expect(rowsOf('topic4', [{ name: 'bar' }])).toBe("missing column 'type'");
    expect(rowsOf('topic4', [{ name: 'name_a', type: 'type_a', value: 'value_a' }]))
      .toEqual([['name_a', 'type_a', 'value_a', null, RECV, null]]);
  });

  it('fills columns from topic variables with zero args (PY test_hierarchy, JL test_format)', () => {
    expect(rowsOf('mysite/type_1/myname/device', [])).toEqual([['mysite', 'type_1', 'myname']]);
    expect(rowsOf('belluno/mysensor/xx/device', [])).toEqual([['belluno', 'mysensor', 'xx']]);
  });

  it('prefers a map value over the topic variable and converts variables to the column type', () => {
    expect(rowsOf('veneto/agordo/temperature', [{ value: 99, sensor: 'xyz', loc: 'mine' }]))
      .toEqual([['xyz', 'veneto', 'mine', 99, RECV, null]]);
    expect(rowsOf('plant/7/count', [{ on: true }])).toEqual([[7, true]]);
  });

  it('gives a table without columns one row of extras', () => {
    expect(rowsOf('table_without_columns', [], { slot: 5 })).toEqual([[RECV, 5]]);
  });

  it('rejects values that do not fit their column, and nulls in NOT NULL columns', () => {
    expect(rowsOf('topic1', ['n', 't', 300, 1, 1, 1])).toBe("column 'tinyint': 300 does not fit TINYINT");
    expect(rowsOf('topic1', ['n', 't', 1.5, 1, 1, 1])).toMatch(/does not fit TINYINT/);
    expect(rowsOf('topic1', [null, 't', 1, 1, 1, 1])).toBe("column 'name' may not be null");
    expect(rowsOf('topic3', [{ name: 'a', double: 'x' }])).toMatch(/column 'double': "x" does not fit DOUBLE/);
    expect(rowsOf('topic1', ['n', 't', 1, 1, 1, 2n ** 63n])).toMatch(/does not fit BIGINT/);
  });

  it('maps a DataFrame payload to its rows, adding missing extras (PY test_schema_df)', () => {
    const df = pl.DataFrame([
      pl.Series('name', ['a', 'b', 'c']), pl.Series('type', ['x', 'y', 'z']),
      pl.Series('tinyint', [1, 2, 3], pl.Int8), pl.Series('smallint', [1, null, 3], pl.Int16),
      pl.Series('integer', [1, 2, 3], pl.Int32), int64Series('bigint', [2n ** 62n, null, -5n]),
      pl.Series('extra_col', [1, 2, 3]),
    ]);
    for (const payload of [df, dataFrameToTag(df)]) {
      expect(rowsOf('topic1', [payload], { slot: 9 })).toEqual([
        ['a', 'x', 1, 1, 1, 2n ** 62n, RECV, 9], ['b', 'y', 2, null, 2, null, RECV, 9], ['c', 'z', 3, 3, 3, -5n, RECV, 9]]);
    }
  });

  it('keeps extra columns a DataFrame brings and reads datetimes exactly', () => {
    const t = parseSchema({ tables: [{ table: 'ev', columns: [{ col: 'at', type: 'TIMESTAMP_NS' }],
      extras: { recv_ts: 'ts' } }] }).tables[0]!;
    const df = pl.DataFrame([int64Series('at', [1n, null]).cast(pl.Datetime('ns')), pl.Series('ts', [5n, null], pl.UInt64)]);
    expect(rowsFor(t, pub('ev', [df]))).toEqual([[new EpochNs(1n), 5n], [null, RECV]]);
  });

  it('rejects a DataFrame missing a schema column', () => {
    const df = pl.DataFrame({ name: ['a'], type: ['x'] });
    expect(rowsOf('topic1', [df])).toBe("DataFrame lacks column 'tinyint'");
  });
});

describe('rowsForUpsert', () => {
  const t = tableOf('topic4');
  it('maps a map and a list of maps, stamping recv_ts and leaving missing nullable columns null', () => {
    expect(rowsForUpsert(t, { name: 'n', type: 'x' }, 7n)).toEqual([['n', 'x', null, null, 7n, null]]);
    expect(rowsForUpsert(t, [{ name: 'n', type: 'x', rop: 3 }, { name: 'm', type: 'y', value: 'v' }], 7n))
      .toEqual([['n', 'x', null, null, 7n, 3], ['m', 'y', 'v', null, 7n, null]]);
  });

  it('rejects an integer and a map missing a key', () => {
    expect(rowsForUpsert(t, 42, 7n)).toMatch(/expected a map/);
    expect(rowsForUpsert(t, { type: 'x' }, 7n)).toBe("missing column 'name'");
  });
});
