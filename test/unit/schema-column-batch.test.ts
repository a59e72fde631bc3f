/**
 * Column batches (cells of every kind, growth, rollback, the byte estimate) filled by
 * mapPublish, and the bounded topic cache of matchTable.
 */
import { describe, expect, it } from 'vitest';
import { EpochNs } from '../../src/dataframe/index.js';
import { ColumnBatch, mapPublish, matchTable, MAX_CACHED_TOPICS, parseSchema, type Published } from '../../src/schema/index.js';

const SCHEMA = parseSchema({ tables: [
  { table: 'telemetry', topic: ':site/:dn/telemetry', extras: { recv_ts: 'ts' }, columns: [
    { col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' },
    { col: 'count', type: 'BIGINT' }, { col: 'at', type: 'TIMESTAMP' }] },
  { table: 'alarm', topic: ':site/alarm', columns: [{ col: 'site', type: 'TEXT' }, { col: 'level', type: 'INTEGER', nullable: false }] },
] });
const TELEMETRY = SCHEMA.tables[0]!;

function pub(topic: string, args: unknown[], recv = 1n): Published {
  return { topic, args, flags: 0, recv, origin: 'test' };
}

describe('ColumnBatch', () => {
  it('keeps committed cells of every kind, growing past its first capacity', () => {
    const batch = new ColumnBatch(TELEMETRY, 2);
    const at = new EpochNs(1_714_558_830_123_456_000n);
    for (let i = 0; i < 5; i++) {
      expect(mapPublish(TELEMETRY, pub(`s/d${i}/telemetry`, [{ temperature: i === 2 ? null : i / 2, count: i, at }], BigInt(i)),
        batch, { site: 's', dn: `d${i}` })).toBe(1);
    }
    expect(batch.length).toBe(5);
    expect(batch.row(2)).toEqual(['s', 'd2', null, 2n, at, 2n]);
    expect(batch.row(4)).toEqual(['s', 'd4', 2, 4n, at, 4n]);
    expect(batch.get(3, 2)).toBe(1.5);
    // With an expected size, the first growth goes there (and a batch of it never grows again).
    const sized = new ColumnBatch(TELEMETRY, 2, 5);
    for (let i = 0; i < 7; i++) mapPublish(TELEMETRY, pub('s/d/telemetry', [{ count: i }]), sized, { site: 's', dn: 'd' });
    expect([0, 4, 5, 6].map((r) => sized.get(r, 3))).toEqual([0n, 4n, 5n, 6n]);
  });

  it('keeps every cell across the growths of the intake\'s batch (16, 1,024, then its expected size)', () => {
    // The stage's intake starts a batch at 16 rows so that growing happens while its code is
    // still cold; a busy table then grows to 1,024 and on to the batch size, and past it.
    const batch = new ColumnBatch(TELEMETRY, 16, 3_000);
    const n = 3_500;
    for (let i = 0; i < n; i++) {
      expect(mapPublish(TELEMETRY, pub(`s${i % 3}/d${i}/telemetry`, [{ temperature: i % 7 === 0 ? null : i / 4, count: i }], BigInt(i)),
        batch, { site: `s${i % 3}`, dn: `d${i}` })).toBe(1);
    }
    expect(batch.length).toBe(n);
    for (const r of [0, 15, 16, 17, 1_023, 1_024, 1_025, 2_999, 3_000, n - 1]) {
      expect(batch.row(r)).toEqual([`s${r % 3}`, `d${r}`, r % 7 === 0 ? null : r / 4, BigInt(r), null, BigInt(r)]);
    }
  });

  it('rolls back a publish that does not fit, rows and bytes', () => {
    const alarm = SCHEMA.tables[1]!;
    const batch = new ColumnBatch(alarm);
    expect(mapPublish(alarm, pub('a/alarm', [{ level: 1 }]), batch)).toBe(1);
    const bytes = batch.bytes;
    expect(bytes).toBeGreaterThan(0);
    expect(mapPublish(alarm, pub('b/alarm', [{ level: 'high' }]), batch)).toMatch(/does not fit INTEGER/);
    expect(mapPublish(alarm, pub('b/alarm', [{}]), batch)).toBe("missing column 'level'");
    expect({ length: batch.length, bytes: batch.bytes }).toEqual({ length: 1, bytes });
    expect(mapPublish(alarm, pub('c/alarm', [{ level: 3 }]), batch)).toBe(1);
    expect([batch.row(0), batch.row(1)]).toEqual([['a', 1], ['c', 3]]);
  });

  it('estimates bytes from numbers and text lengths', () => {
    const alarm = SCHEMA.tables[1]!;
    const short = ColumnBatch.fromRows(alarm, [['a', 1]]);
    const long = ColumnBatch.fromRows(alarm, [['a'.repeat(1_001), 1]]);
    expect(long.bytes - short.bytes).toBe(1_000);
    expect(ColumnBatch.fromRows(alarm, [['a', 1], ['a', 1]]).bytes).toBe(2 * short.bytes);
  });
});

describe('matchTable topic cache', () => {
  it('answers the same way past its bound, for matches and misses', () => {
    const schema = parseSchema({ tables: [{ table: 'telemetry', topic: ':site/:dn/telemetry', columns: [{ col: 'site', type: 'TEXT' }] }] });
    const first = matchTable(schema, 's0/d0/telemetry');
    expect(matchTable(schema, 's0/d0/telemetry')).toBe(first); // cached
    expect(Object.isFrozen(first) && Object.isFrozen(first?.vars)).toBe(true);
    for (let i = 0; i < MAX_CACHED_TOPICS + 10; i++) {
      expect(matchTable(schema, `s${i}/d${i}/telemetry`)?.vars).toEqual({ site: `s${i}`, dn: `d${i}` });
      expect(matchTable(schema, `s${i}/d${i}/other`)).toBeUndefined();
    }
    expect(matchTable(schema, 's0/d0/telemetry')).toEqual(first); // evicted, resolved again
  });
});
