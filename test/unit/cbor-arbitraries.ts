/**
 * fast-check arbitraries shared by the codec's property tests: CBOR values nested a few levels
 * (arrays and maps around a leaf), and the parts of a PUB frame.
 */
import fc from 'fast-check';

/** Arrays (≤ 4 items) and maps (≤ 3 keys) nested around `leaf`. */
export function nested(leaf: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.letrec((tie) => ({
    leaf,
    node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 3 })),
  })).node;
}

/** The common leaves (numbers without NaN, text, booleans, null, bytes) plus `more`. */
export function leaf(...more: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.string(), fc.boolean(), fc.constant(null),
    fc.uint8Array({ maxLength: 20 }), ...more);
}

/** A value with unsigned 64-bit integers. */
export const unsignedValue = nested(leaf(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })));
/** PUB flags: QoS0/1/2, with and without the ack/extension bits. */
export const pubFlags = fc.constantFrom(0, 0x10, 0x30, 0x40, 0x50, 0x70);
/** Topics up to 300 characters (every text head width). */
export const topicName = fc.string({ minLength: 1, maxLength: 300 });
