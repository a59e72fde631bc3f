import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor, encodeValue, pubArgsBytes } from '../../src/codec/index.js';

const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

describe('pubArgsBytes', () => {
  it('finds the args element of every PUB layout (QoS0, QoS1/2 with id, slot, long topics)', () => {
    fc.assert(fc.property(
      fc.constantFrom(0, 0x10, 0x30, 0x40, 0x50, 0x70), fc.string({ minLength: 1, maxLength: 300 }),
      fc.array(fc.oneof(fc.integer(), fc.string(), fc.double({ noNaN: true }), fc.constant(null)), { maxLength: 6 }),
      (flags, topic, args) => {
        const frame = encodeCbor({ type: 'pub', flags, ...(flags === 0 ? {} : { id: 0x1122334455667788n }), topic, args });
        expect(hex(pubArgsBytes(frame))).toBe(hex(encodeValue(args)));
      }), { numRuns: 500 });
  });

  it('declines anything that is not a canonical PUB frame', () => {
    expect(pubArgsBytes(encodeCbor({ type: 'ack', id: 1n }))).toBeUndefined();
    expect(pubArgsBytes(Uint8Array.of(0x83, 0x01))).toBeUndefined();
    expect(pubArgsBytes(Uint8Array.of(0x9f, 0x01, 0x61, 0x74, 0x80, 0xff))).toBeUndefined();
  });
});
