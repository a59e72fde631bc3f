/**
 * Numbers read from a publish's CBOR bytes go into a column batch unboxed (CborFields.numbers →
 * ColumnBatch.setNumber, 64-bit cells written as two words): the rows and the refusals must be
 * exactly those of the decoded path (rowsFor on decoded args, the coercers and their reasons),
 * at every edge — 64-bit negatives, unsafe integers, floats in integer columns, out-of-range
 * values, wrong CBOR types and missing fields in the middle of a batch, nulls before numbers in
 * a reused row slot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argsOf, decodeValue, encodeValue } from '../../src/codec/cbor.js';
import { ColumnBatch, mapPublish, parseSchema, rowsFor, type Published, type Row } from '../../src/schema/index.js';

const SCHEMA = parseSchema({
  tables: [{ table: 'cells', topic: ':site/cells', extras: { recv_ts: 'recv' }, columns: [
    { col: 'site', type: 'TEXT' }, { col: 'd', type: 'DOUBLE' }, { col: 'f', type: 'FLOAT' }, { col: 'i', type: 'INTEGER' },
    { col: 'ti', type: 'TINYINT' }, { col: 'ui', type: 'UINTEGER' }, { col: 'b', type: 'BIGINT' },
    { col: 'ub', type: 'UBIGINT' }, { col: 't', type: 'TEXT' }, { col: 'req', type: 'DOUBLE', nullable: false }] }],
});
const TABLE = SCHEMA.tables[0]!;
const COLS = ['d', 'f', 'i', 'ti', 'ui', 'b', 'ub', 't'];

const published = (args: unknown[], bytes?: Uint8Array): Published =>
  ({ topic: 's1/cells', args, flags: 0, recv: 1_700_000_000_000_000_000n, origin: 'o', ...(bytes === undefined ? {} : { argsBytes: bytes }) });

/** Map every payload into one batch from its bytes; the decoded path gives the expectation. */
function check(payloads: unknown[]): void {
  const batch = new ColumnBatch(TABLE, 2); // small: setNumber must grow it too
  const expected: Row[] = [];
  for (const payload of payloads) {
    const bytes = encodeValue([payload]);
    const decoded = rowsFor(TABLE, published(argsOf(decodeValue(bytes))), { site: 's1' });
    const got = mapPublish(TABLE, published(argsOf(decodeValue(bytes)), bytes), batch, { site: 's1' });
    if (typeof decoded === 'string') expect(got).toBe(decoded);
    else {
      expect(got).toBe(decoded.length);
      expected.push(...decoded);
    }
  }
  expect(batch.length).toBe(expected.length);
  expect(Array.from({ length: batch.length }, (_, r) => batch.row(r))).toEqual(expected);
}

describe('numbers into column cells', () => {
  it('stores 64-bit edges as the coercer would: negatives, ±(2^53 − 1), zero and −0', () => {
    const edges = [0, -0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1_733_526_000_123];
    check(edges.map((n) => ({ req: 1, b: n, ub: Math.abs(n), d: n, i: 0 })));
  });

  it('refuses, with the coercer\'s reason, what does not fit — in the middle of a batch, the rows around it kept', () => {
    check([
      { req: 1, b: 5, ub: 5 },
      { req: 2, ub: -1 },                          // negative into UBIGINT
      { req: 3, b: 1.5 },                          // a fraction into BIGINT
      { req: 4, b: 2 ** 53 },                      // beyond the safe range: a bigint, taken by the coercer
      { req: 5, b: -(2n ** 63n), ub: 2n ** 64n - 1n }, // 64-bit extremes (bigints)
      { req: 6, b: -(2n ** 63n) - 1n },            // below BIGINT
      { req: 7, i: 2 ** 31 },                      // INTEGER overflow
      { req: 8, ti: -129 },                        // TINYINT underflow
      { req: 9, ui: -1 },
      { req: 10, i: 2.5 },
      { req: 11, d: 'warm' },                      // wrong CBOR type (text) for a DOUBLE
      { req: 12, d: true },
      { req: 13, t: 42, f: 3.25 },                 // a number into TEXT: its text
      { req: 14, t: 'città ✓', d: 1e308, f: -0 },  // UTF-8 text (decoded path) next to numbers
      { d: 1 },                                    // a missing NOT NULL field
      { req: null },
      { req: 15, b: null, ub: null, d: null },     // nulls, then numbers in the same slots below
      { req: 16, b: -7, ub: 7, d: 0.5 },
      { req: 17, unknown: 1, i: -(2 ** 31), ti: 127, ui: 2 ** 32 - 1 },
    ]);
  });

  it('gives the decoded path\'s rows and reasons for any mix of values', () => {
    const value = fc.oneof(
      fc.integer(), fc.double(), fc.constantFrom(0, -0, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 2 ** 63, -(2 ** 31), 2 ** 32),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null));
    const row = fc.record({ req: fc.oneof(fc.double(), fc.constant(null)), ...Object.fromEntries(COLS.map((c) => [c, value])) },
      { requiredKeys: [] });
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 12 }), (payloads) => check(payloads)), { numRuns: 300 });
  });
});
