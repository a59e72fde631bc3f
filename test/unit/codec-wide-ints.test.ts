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

  it('writes both 32-bit halves exactly, at the edges of the safe range and of 32 bits', () => {
    const expected = (v: number): string => {
      const out = new DataView(new ArrayBuffer(9));
      out.setUint8(0, v >= 0 ? 0x1b : 0x3b);
      out.setBigUint64(1, BigInt(v >= 0 ? v : -1 - v));
      return Buffer.from(out.buffer).toString('hex');
    };
    for (const v of [2 ** 32, 2 ** 32 + 1, 2 ** 33 - 1, -(2 ** 32) - 1, -(2 ** 32) - 2, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
      2 ** 52 + 3, -(2 ** 52) - 3, 1_765_000_000_123, 0xffffffff * 0x10000 + 0xffff]) {
      expect(Buffer.from(encodeValue(v)).toString('hex')).toBe(expected(v));
      expect(decodeValue(encodeValue([v, 'x', v]))).toEqual([v, 'x', v]);
    }
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

/** A CBOR 8-byte integer head (0x1b unsigned, 0x3b negative) with its value n. */
function wide(head: 0x1b | 0x3b, n: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = head;
  new DataView(out.buffer).setBigUint64(1, n);
  return out;
}

/** `[a, b]` as a CBOR array of two items given as bytes. */
function pair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Uint8Array.of(0x82, ...a, ...b);
}

describe('decodeValue of 8-byte integers (fast path when all are safe)', () => {
  const MAX = BigInt(Number.MAX_SAFE_INTEGER);

  it('gives numbers for safe values and bigints for unsafe ones, in the same frame', () => {
    expect(decodeValue(pair(wide(0x1b, 1_796_606_252_632n), wide(0x1b, MAX + 1n)))).toEqual([1_796_606_252_632, MAX + 1n]);
    expect(decodeValue(pair(wide(0x3b, 1_796_606_252_631n), wide(0x3b, MAX)))).toEqual([-1_796_606_252_632, -MAX - 1n]);
  });

  it('is exact at the edges of the safe range', () => {
    expect(decodeValue(wide(0x1b, MAX))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeValue(wide(0x3b, MAX - 1n))).toBe(Number.MIN_SAFE_INTEGER);
    expect(decodeValue(wide(0x1b, MAX + 1n))).toBe(MAX + 1n);
    expect(decodeValue(wide(0x3b, MAX))).toBe(-MAX - 1n);
    expect(decodeValue(wide(0x1b, 2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
  });

  it('reads a 0x1b byte inside a string as data, not as a head', () => {
    // Text "\x1b\xff..." then a safe wide int: the decoy byte sends the frame the careful way.
    const text = Uint8Array.of(0x69, 0x1b, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f);
    expect(decodeValue(pair(text, wide(0x1b, 2n ** 40n)))).toEqual([`\x1b${'\x7f'.repeat(8)}`, 2 ** 40]);
  });

  it('still normalises a bignum (tag 2) that fits a number when the frame also has an 8-byte integer', () => {
    const bignumOne = Uint8Array.of(0xc2, 0x41, 0x01);
    expect(decodeValue(pair(bignumOne, wide(0x1b, 2n ** 40n)))).toEqual([1, 2 ** 40]);
  });

  it('agrees with the bigint decoding on any array of 64-bit integers', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), { maxLength: 6 }),
      (items) => {
        const bytes = Uint8Array.of(0x80 | items.length, ...items.flatMap(([neg, n]) => [...wide(neg ? 0x3b : 0x1b, n)]));
        const expected = items.map(([neg, n]) => {
          const v = neg ? -1n - n : n;
          return v <= MAX && v >= -MAX ? Number(v) : v;
        });
        expect(decodeValue(bytes)).toEqual(expected);
      }), { numRuns: 2_000 });
  });
});
