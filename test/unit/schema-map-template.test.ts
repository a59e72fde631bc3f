/**
 * The key-order template of map payloads (src/schema/map-template.ts) takes the publishes that
 * repeat the last key order, numbers only, straight into the column batch. It must store exactly
 * the rows, and give exactly the reasons, of the decoded path (rowsFor on decoded args) — when
 * it applies, when it stops applying half-way through a row (a text value, an unsafe integer, a
 * number that does not fit, a key in another order, a duplicate key, trailing bytes), and when
 * the payload arrives in place in a larger frame (argsFrame/argsAt).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argsOf, decodeValue, encodeValue } from '../../src/codec/cbor.js';
import { ColumnBatch, mapPublish, parseSchema, rowsFor, type Published, type Row, type TableDef } from '../../src/schema/index.js';
import { planOf } from '../../src/schema/plan.js';

/** A fresh table (plans, and so templates, are per table object). */
const table = (): TableDef => parseSchema({
  tables: [{ table: 'tpl', topic: ':site/:dn/tpl', extras: { recv_ts: 'recv' }, columns: [
    { col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' },
    { col: 'level', type: 'TINYINT' }, { col: 'ts', type: 'UBIGINT' }, { col: 'delta', type: 'BIGINT' },
    { col: 'note', type: 'TEXT', default: 'none' }, { col: 'req', type: 'DOUBLE', nullable: false }] }],
}).tables[0]!;

const VARS = { site: 's1', dn: 'd1' };
const decoded = (args: unknown[]): Published => ({ topic: 's1/d1/tpl', args, flags: 0, recv: 1_700_000_000_000_000_000n, origin: 'o' });

/** The args bytes of `payload` in place in a frame, behind a few bytes of head (as the broker hands them). */
function inFrame(payload: unknown, bare: boolean): Published {
  const args = encodeValue(bare ? payload : [payload]);
  const frame = new Uint8Array(7 + args.length);
  frame.set([0x84, 1, 0x60, 0, 0, 0, 0]);
  frame.set(args, 7);
  return { ...decoded(argsOf(decodeValue(args))), argsFrame: frame, argsAt: 7 };
}

/** Map every payload into one batch through the template path; the decoded path gives the expectation. */
function check(t: TableDef, payloads: readonly unknown[], bare = false): void {
  const batch = new ColumnBatch(t, 2);
  const expected: Row[] = [];
  for (const payload of payloads) {
    const want = rowsFor(t, decoded(argsOf(decodeValue(encodeValue(bare ? payload : [payload])))), VARS);
    const got = mapPublish(t, inFrame(payload, bare), batch, VARS);
    if (typeof want === 'string') expect(got).toBe(want);
    else {
      expect(got).toBe(want.length);
      expected.push(...want);
    }
  }
  expect(Array.from({ length: batch.length }, (_, r) => batch.row(r))).toEqual(expected);
}

const reading = (i: number): Record<string, number> => ({ temperature: 20 + i / 7, level: i % 100 - 50, ts: 1_733_526_000_000 + i, delta: -i, req: i });

describe('map payload template', () => {
  it('is learned from a repeated key order and then takes those publishes, rows equal to the decoded path', () => {
    const t = table();
    check(t, Array.from({ length: 50 }, (_, i) => reading(i)));
    expect(planOf(t).template).toBeDefined();
    expect(planOf(t).templateMisses).toBe(0);
  });

  it('takes bare maps ({…}) as well as [{…}]', () => {
    check(table(), Array.from({ length: 10 }, (_, i) => reading(i)), true);
  });

  it('falls back half-way through a row without leaving a cell behind, and gives the same reasons', () => {
    const t = table();
    const base = reading(1);
    check(t, [
      base, base,                                         // learned
      { ...base, level: 200 },                            // TINYINT overflow: the coercer's reason
      { ...base, level: 2.5 },
      { ...base, temperature: 'warm' },                   // text where the template expects a number
      { ...base, ts: 2 ** 60 },                           // beyond 2^53: the general path's bigint
      { ...base, delta: -(2 ** 40) },                     // an 8-byte negative: the general path
      { ...base, ts: -1 },                                // negative into UBIGINT
      { ...base, req: null },                             // null where NOT NULL
      base,
      { req: 1, temperature: 2, level: 3, ts: 4, delta: 5 }, // another key order (relearned)
      { temperature: 9, level: 8, ts: 7, delta: 6 },      // a key fewer: 'req' is missing
      { ...base, extra: 1 },                              // a key more (not a column)
      { ...base, note: 'hi' },                            // a text field: not a template
      base,
    ]);
  });

  it('does not take a payload with trailing bytes or a duplicate key', () => {
    const t = table();
    check(t, [reading(1), reading(2)]);
    const batch = new ColumnBatch(t, 4);
    const args = encodeValue([reading(3)]);
    // Trailing garbage after the args item: not a well-formed payload for the template.
    const frame = new Uint8Array([...args, 0x00]);
    const trailing: Published = { ...decoded([reading(3)]), argsFrame: frame, argsAt: 0 };
    expect(mapPublish(t, trailing, batch, VARS)).toBe(1); // the general way decodes args
    // A duplicate key (the decoder keeps the last one): built by hand from the template's keys.
    const dup = new Uint8Array([0x81, 0xa2, 0x63, ...new TextEncoder().encode('req'), 0x01, 0x63, ...new TextEncoder().encode('req'), 0x02]);
    const dupMsg: Published = { ...decoded(argsOf(decodeValue(dup))), argsFrame: dup, argsAt: 0 };
    const want = rowsFor(t, decoded(argsOf(decodeValue(dup))), VARS);
    expect(mapPublish(t, dupMsg, batch, VARS)).toBe(typeof want === 'string' ? want : want.length);
    expect(batch.row(batch.length - 1)).toEqual((want as Row[])[0]);
  });

  it('never reads past the payload\'s view, even when its buffer goes on (frames of one socket chunk)', () => {
    const t = table();
    check(t, [reading(1), reading(2)]);
    const template = planOf(t).template!;
    const args = encodeValue([reading(3)]);
    // The whole payload, then more bytes in the same buffer, as the next frame of a chunk would be.
    const chunk = Buffer.concat([Buffer.from([0x84, 1, 0x60]), args, args]);
    const whole = chunk.subarray(3, 3 + args.length);
    expect(template.read(planOf(t), new ColumnBatch(t, 2), whole, 0)).toBe(true);
    // Every view cut short (the rest of the payload is still in the buffer, past the view's end): declined.
    for (let cut = 1; cut < args.length; cut++) {
      const short = chunk.subarray(3, 3 + args.length - cut);
      expect(template.read(planOf(t), new ColumnBatch(t, 2), short, 0)).toBe(false);
    }
    // The same payload at any offset of any buffer reads the same cells.
    for (let at = 0; at < 9; at++) {
      const buffer = new Uint8Array(at + args.length + 5).fill(0xfb);
      buffer.set(args, at);
      const batch = new ColumnBatch(t, 2);
      expect(template.read(planOf(t), batch, buffer.subarray(0, at + args.length), at)).toBe(true);
      batch.commit();
      expect(batch.row(0).slice(2, 6)).toEqual([reading(3).temperature, reading(3).level, BigInt(reading(3).ts!), BigInt(reading(3).delta!)]);
    }
  });

  it('stops relearning when key orders keep changing, and still maps every publish right', () => {
    const t = table();
    const orders = [reading(1), { req: 1, ts: 2, level: 3 }, { level: 3, req: 1 }, { ts: 5, req: 2, temperature: 1 }];
    check(t, Array.from({ length: 11 }, (_, i) => orders[i % orders.length]));
    // Eleven publishes, none in the order before it: relearning stopped after eight misses.
    expect(planOf(t).templateMisses).toBeGreaterThan(8);
    // The template kept is one of the orders: its publishes still take it, the others keep missing.
    const kept = planOf(t).template;
    check(t, Array.from({ length: 40 }, (_, i) => orders[i % orders.length]));
    expect(planOf(t).template).toBe(kept);
    expect(planOf(t).templateMisses).toBeGreaterThan(20);
    // A steady new order: learned again within 1,024 misses, then each hit takes a miss back.
    const before = planOf(t).templateMisses;
    check(t, Array.from({ length: 1_100 }, () => orders[2]));
    expect(planOf(t).template).not.toBe(kept);
    expect(planOf(t).templateMisses).toBeLessThan(before + 1_024 - 50);
  });

  it('gives the decoded path\'s rows and reasons for any numbers in a fixed key order (property)', () => {
    const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 127, -128, 128, 2 ** 32));
    const row = fc.record({ temperature: num, level: num, ts: num, delta: num, req: num });
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 20 }), fc.boolean(), (payloads, bare) => check(table(), payloads, bare)),
      { numRuns: 200 });
  });
});
