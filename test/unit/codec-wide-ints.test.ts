import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec/index.js';

/** 0xfb followed by the double 2^40: what a rewrite would target, hidden in bytes and text. */
const decoy = Uint8Array.of(0xfb, 0x42, 0x70, 0, 0, 0, 0, 0, 0);

describe('encodeValue integers beyond 32 bits', () => {
  it('writes Date.now()-sized integers as CBOR integers, not doubles', () => {
    expect(Buffer.from(encodeValue(2 ** 40)).toString('hex')).toBe('1b0000010000000000');
    expect(Buffer.from(encodeValue(-(2 ** 40))).toString('hex')).toBe('3b000000ffffffffff');
    expect(Buffer.from(encodeValue(1.5)).toString('hex')).toBe('fb3ff8000000000000');
  });

  it('leaves byte strings that merely contain a double head untouched', () => {
    const value = [decoy, 2 ** 40, { k: decoy }, 0.25];
    expect(decodeValue(encodeValue(value))).toEqual([Buffer.from(decoy), 2 ** 40, { k: Buffer.from(decoy) }, 0.25]);
  });

  it('round-trips arbitrary nested values with wide integers, floats, bytes and text', () => {
    const leaf = fc.oneof(
      // -0 is written by cbor-x as the integer 0 (JS cannot tell them apart in that path).
      fc.maxSafeInteger(), fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)), fc.string(), fc.boolean(), fc.constant(null),
      fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 5 }),
        fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      expect(decodeValue(encodeValue(v))).toEqual(v);
    }), { numRuns: 2_000 });
  });
});
