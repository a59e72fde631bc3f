/**
 * `cborCheck` (src/codec/well-formed.ts) keeps its open containers in a reused typed array
 * instead of a JS array per call (issue 20: the broker runs it on every forwarded publish).
 * Here it must answer exactly as the plain reference below — the previous implementation, one
 * JS array per call — on encoded values, on every prefix and single-byte mutation of them, on
 * hand-made indefinite-length and deep input, and on random bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/codec/index.js';
import { cborCheck, type CborCheck } from '../../src/codec/well-formed.js';
import { leaf, nested } from './cbor-arbitraries.js';

function reference(src: Uint8Array, start: number, end: number, maxDepth: number): CborCheck {
  const open: number[] = [];
  let chunksOf = -1;
  let pos = start;
  while (pos < end) {
    const byte = src[pos++]!;
    if (byte === 0xff) {
      if (chunksOf !== -1) chunksOf = -1;
      else if (open.length === 0 || open[open.length - 1] !== -1) return 'malformed';
      else open.pop();
    } else {
      const major = byte >> 5;
      const info = byte & 0x1f;
      let arg = info;
      if (info >= 28 && info <= 30) return 'malformed';
      if (info === 31) {
        if (major < 2 || major === 6 || major === 7 || chunksOf !== -1) return 'malformed';
        arg = -1;
      } else if (info >= 24) {
        const size = 1 << (info - 24);
        if (pos + size > end) return 'malformed';
        arg = 0;
        for (let i = 0; i < size; i++) arg = arg * 256 + src[pos++]!;
        if (major === 7 && info === 24 && arg < 32) return 'malformed';
      }
      if (chunksOf !== -1 && major !== chunksOf) return 'malformed';
      if (major === 2 || major === 3) {
        if (arg === -1) { chunksOf = major; continue; }
        if (pos + arg > end) return 'malformed';
        pos += arg;
        if (chunksOf !== -1) continue;
      } else if (major === 4 || major === 5) {
        if (arg !== 0) {
          open.push(arg === -1 ? -1 : major === 5 ? arg * 2 : arg);
          if (open.length > maxDepth) return 'too-deep';
          continue;
        }
      } else if (major === 6) {
        open.push(1);
        if (open.length > maxDepth) return 'too-deep';
        continue;
      }
    }
    if (chunksOf !== -1) continue;
    while (open.length > 0) {
      const top = open.length - 1;
      if (open[top] === -1) break;
      if (--open[top]! > 0) break;
      open.pop();
    }
    if (open.length === 0) return pos === end ? 'ok' : 'malformed';
  }
  return 'malformed';
}

const same = (b: Uint8Array, start = 0, end = b.length, max = 500): void => {
  expect(cborCheck(b, start, end, max)).toBe(reference(b, start, end, max));
};

/** Values with tags (dates, bigints) besides the common leaves. */
const value = nested(leaf(fc.bigInt(), fc.date({ noInvalidDate: true })));

describe('cborCheck', () => {
  it('answers as the reference on encoded values, their prefixes and their one-byte mutations', () => {
    fc.assert(fc.property(value, fc.nat(), fc.nat(255), (v, at, byte) => {
      const b = encodeValue(v);
      same(b);
      for (let n = 0; n < b.length; n++) same(b, 0, n);
      const mutated = b.slice();
      mutated[at % b.length] = byte;
      same(mutated);
      same(mutated, 0, mutated.length, 2);
    }), { numRuns: 500 });
  });

  it('answers as the reference on random bytes, any window and depth limit', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), fc.nat(8), fc.nat(6), (b, from, cut, max) => {
      const start = Math.min(from, b.length);
      same(b, start, Math.max(start, b.length - cut), max);
    }), { numRuns: 5_000 });
  });

  it('reads indefinite-length strings and containers, breaks and their misuse as the reference does', () => {
    const cases = [
      [0x9f, 0x01, 0x9f, 0xff, 0xff], [0x82, 0x9f, 0xff, 0x01], [0x82, 0x9f, 0xff], [0xa1, 0x7f, 0xff, 0x9f, 0xff],
      [0x9f, 0x7f, 0x61, 0x61, 0xff, 0xff], [0x81, 0x5f, 0x41, 0x00, 0x41, 0x01, 0xff], [0x5f, 0xff], [0x5f, 0x5f],
      [0x9f, 0xff, 0xff], [0xc1, 0x9f, 0xff], [0xc1, 0xc2, 0x80], [0xbf, 0x01, 0xff], [0x9f, 0x82, 0x01, 0xff],
      [0xfb, 0, 0, 0, 0, 0, 0, 0], [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      [0x9a, 0x80, 0, 0, 0, 0x01], [0x19, 0x01], [0x59, 0x00, 0x02, 0x01], [0xf8, 0x1f], [0xf8, 0x20, 0x00],
    ];
    for (const c of cases) { same(Uint8Array.from(c)); same(Uint8Array.from(c), 0, c.length, 1); }
  });

  it('nests past its reusable stack like the reference, and is left whole for the next call', () => {
    for (const depth of [63, 64, 65, 200, 600]) {
      const deep = Uint8Array.from([...Array<number>(depth).fill(0x81), 0x00]);
      same(deep);
      same(deep, 0, deep.length, 10_000);
      const indefinite = Uint8Array.from([...Array<number>(depth).fill(0x9f), ...Array<number>(depth).fill(0xff)]);
      same(indefinite, 0, indefinite.length, 10_000);
    }
    expect(cborCheck(Uint8Array.of(0x82, 0x01, 0x02), 0, 3, 500)).toBe('ok');
  });
});
