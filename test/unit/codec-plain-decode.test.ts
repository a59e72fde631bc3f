import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec/index.js';
import { decodePlain, NOT_PLAIN } from '../../src/codec/plain-decode.js';
import { leaf, nested } from './cbor-arbitraries.js';

/** The full path's reading (cbor-x, then integer normalisation), or its error. */
function full(bytes: Uint8Array): unknown {
  try {
    return decodeValue(bytes);
  } catch (err) {
    return err as Error;
  }
}

/** Deep equality that tells a bigint from a number, -0 from 0, and a Buffer from a Uint8Array. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (a === null || b === null || typeof a !== 'object') return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Uint8Array) return a.length === (b as Uint8Array).length && a.every((x, i) => x === (b as Uint8Array)[i]);
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]
    && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const h = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
const asciiText = fc.string({ maxLength: 40, unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) });
const wideInt = fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n });
/** Doubles whose bytes hold 0x1b, 0x3b, 0xc2 or 0xc3 (what the old byte scan took for integer heads). */
const trickyDouble = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.constantFrom(0x1b, 0x3b, 0xc2, 0xc3), fc.double({ noNaN: true }))
  .map(([at, byte, d]) => {
    const v = new DataView(new ArrayBuffer(8));
    v.setFloat64(0, d);
    v.setUint8(at === 0 ? 1 : at, byte);
    return v.getFloat64(0);
  }).filter((d) => !Number.isNaN(d));

describe('decodePlain', () => {
  it('gives what the full path gives for any value, or NOT_PLAIN', () => {
    const value = nested(leaf(wideInt, fc.maxSafeInteger(), trickyDouble, fc.constant(undefined), fc.float({ noNaN: true })));
    fc.assert(fc.property(value, (v) => {
      const bytes = encodeValue(v);
      const got = decodePlain(bytes);
      if (got !== NOT_PLAIN) expect(same(got, full(bytes))).toBe(true);
    }), { numRuns: 2_000 });
  });

  it('takes every value with ASCII text and text keys (no silent fallback for what payloads are)', () => {
    // cbor-x writes -(2^64) as a bignum tag (not plain): the one 64-bit value left out.
    const plainLeaf = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: 1n - 2n ** 64n, max: 2n ** 64n - 1n }), fc.double({ noNaN: true }), trickyDouble, asciiText,
      fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 20 }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, plainLeaf, fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(asciiText, tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      const bytes = encodeValue(v);
      const got = decodePlain(bytes);
      expect(got).not.toBe(NOT_PLAIN);
      expect(same(got, full(bytes))).toBe(true);
    }), { numRuns: 2_000 });
  });

  it('never answers for bytes the full path refuses, and agrees on those it reads (random and mutated input)', () => {
    const mutated = fc.tuple(nested(leaf(wideInt)), fc.nat(), fc.nat({ max: 255 })).map(([v, at, byte]) => {
      const bytes = encodeValue(v);
      bytes[at % bytes.length] = byte;
      return bytes;
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (bytes) => {
      const got = decodePlain(bytes);
      if (got === NOT_PLAIN) return;
      const want = full(bytes);
      expect(want).not.toBeInstanceOf(Error);
      expect(same(got, want)).toBe(true);
    }), { numRuns: 5_000 });
  });

  it('keeps the bigint/number rule at the edges of the safe range, in 9-byte and short heads', () => {
    const cases: [string, unknown][] = [
      ['1b0000000000000005', 5], // JL writes every integer in 9 bytes
      ['1b001fffffffffffff', Number.MAX_SAFE_INTEGER],
      ['1b0020000000000000', 2n ** 53n],
      ['1bffffffffffffffff', 2n ** 64n - 1n],
      ['3b0000000000000000', -1],
      ['3b001ffffffffffffe', Number.MIN_SAFE_INTEGER],
      ['3b001fffffffffffff', -(2n ** 53n)],
      ['3bffffffffffffffff', -(2n ** 64n)],
      ['1affffffff', 0xffffffff],
      ['3affffffff', -0x100000000],
      ['397fff', -0x8000],
      ['3817', -24],
      ['20', -1],
    ];
    for (const [hex, want] of cases) {
      const got = decodePlain(h(hex));
      expect(typeof got).toBe(typeof want);
      expect(got).toBe(want);
      expect(same(got, full(h(hex)))).toBe(true);
    }
  });

  it('reads doubles whose bytes look like integer heads as doubles (the old scan\'s false positive)', () => {
    const bytes = h('a26178fb3fc23b1b3bc2c3c36179fbc03b000000000000'); // {x: 0x3fc23b1b3bc2c3c3, y: 0xc03b0…}
    const got = decodePlain(bytes) as Record<string, number>;
    expect(same(got, full(bytes))).toBe(true);
    expect(got['y']).toBe(-27);
  });

  it('decodes singles as cbor-x does, and the simple values', () => {
    expect(decodePlain(h('fa3fc00000'))).toBe(1.5);
    expect(decodePlain(h('fa7f800000'))).toBe(Infinity);
    expect(decodePlain(h('84f4f5f6f7'))).toEqual([false, true, null, undefined]);
  });

  it('never sets a prototype: a "__proto__" key is renamed as cbor-x does', () => {
    const bytes = h('a1695f5f70726f746f5f5fa16178 01'.replace(/ /g, ''));
    const got = decodePlain(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(got['__proto_']).toEqual({ x: 1 });
    expect(same(got, full(bytes))).toBe(true);
  });

  it('reads remembered keys by their bytes: a reused buffer, keys of one slot, a key turned non-ASCII', () => {
    const buf = Buffer.from(encodeValue({ abc: 1, zzzz: 2 }));
    expect(decodePlain(buf)).toEqual({ abc: 1, zzzz: 2 });
    expect(buf[4]).toBe(0x63);
    buf[4] = 0x64; // the received buffer reused: "abc" becomes "abd"
    expect(decodePlain(buf)).toEqual({ abd: 1, zzzz: 2 });
    buf[4] = 0xe9; // not ASCII any more: the full path
    expect(decodePlain(buf)).toBe(NOT_PLAIN);
    // Many keys of the same length and ends: whichever shares a slot, each reads as itself.
    const keys = Array.from({ length: 600 }, (_, i) => `k${String(i).padStart(4, '0')}k`);
    const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
    for (let round = 0; round < 2; round++) expect(decodePlain(encodeValue(obj))).toEqual(obj);
  });

  it('answers NOT_PLAIN outside the subset: tags, half floats, indefinite items, non-ASCII, other keys, bad lengths', () => {
    const outside = [
      'c249010000000000000000', // bignum
      'd81b6161', // tag 27
      'f93c00', // half float
      '9f01ff', '5f4101ff', '7f6161ff', 'bf616101ff', // indefinite
      '62c3a9', // 'é'
      'a10102', // integer key
      'a1f402', // boolean key
      'f0', 'f818', 'ff', '1c', // other simple values, reserved heads, a lone break
      '83010203 04'.replace(/ /g, ''), // trailing byte
      '830102', '1b0000', 'fb3ff0', '6361', '4361', // truncated
      '9a00000100', 'a2616101', // lengths past the input
    ];
    for (const hex of outside) expect(decodePlain(h(hex)), hex).toBe(NOT_PLAIN);
  });

  it('answers NOT_PLAIN past 64 levels, and decodes 64', () => {
    const deep = (n: number): Uint8Array => Uint8Array.of(...new Array<number>(n).fill(0x81), 0x01);
    expect(decodePlain(deep(64))).not.toBe(NOT_PLAIN);
    expect(decodePlain(deep(65))).toBe(NOT_PLAIN);
  });

  it('decodes a range of a larger buffer, byte strings as views (plain ones on request)', () => {
    const payload = encodeValue({ b: Uint8Array.of(1, 2, 3), s: 'abcdefghijklmnopqrstuvwxyz' });
    const big = Buffer.alloc(payload.length + 10, 0xee);
    big.set(payload, 4);
    const asBuffer = decodePlain(big, 4, 4 + payload.length) as { b: Uint8Array; s: string };
    expect(asBuffer.b.constructor).toBe(Buffer);
    const plain = decodePlain(big, 4, 4 + payload.length, true) as { b: Uint8Array; s: string };
    expect(plain.b.constructor).toBe(Uint8Array);
    expect([...plain.b]).toEqual([1, 2, 3]);
    expect(plain.s).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(plain.b.buffer).toBe(big.buffer); // a view, not a copy
  });
});
