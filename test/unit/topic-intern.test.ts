import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internTopic, lastInternedBytes, MAX_BYTES, SLOTS, topicText, WAYS } from '../../src/codec/topic-intern.js';

const utf8 = new TextEncoder();
/** `text`'s bytes placed inside a larger frame, as the codec and the meter read them. */
function framed(text: string | Uint8Array, before = 3, after = 5): { b: Uint8Array; from: number; to: number } {
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  const b = new Uint8Array(before + bytes.length + after).fill(0x41);
  b.set(bytes, before);
  return { b, from: before, to: before + bytes.length };
}
const read = (text: string | Uint8Array, buffer = false): string => {
  const { b, from, to } = framed(text);
  return internTopic(buffer ? Buffer.from(b) : b, from, to);
};

describe('internTopic', () => {
  it('gives what topicText gives, for any bytes, whether interned before or not, Buffer or Uint8Array', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.string({ maxLength: 120 }), fc.uint8Array({ maxLength: 120 })), { maxLength: 20 }), fc.boolean(), (texts, buffer) => {
      for (const t of [...texts, ...texts]) {
        const { b, from, to } = framed(t);
        expect(read(t, buffer)).toBe(topicText(b, from, to));
      }
    }));
  });

  it('keeps every topic right when far more topics than slots collide and evict each other', () => {
    const topics = Array.from({ length: SLOTS * 4 }, (_, i) => `site${i % 10}/dn${i}/telemetry`);
    for (let round = 0; round < 3; round++) for (const t of topics) expect(read(t)).toBe(t);
  });

  it('does not keep a frame: a receive buffer changed in place reads its new topic', () => {
    const { b, from, to } = framed('room/1');
    expect(internTopic(b, from, to)).toBe('room/1');
    b[to - 1] = 0x32;
    expect(internTopic(b, from, to)).toBe('room/2');
    b[to - 1] = 0x31;
    expect(internTopic(b, from, to)).toBe('room/1');
  });

  it('reads long, non-ASCII, invalid UTF-8, empty and truncated topics as topicText does', () => {
    const long = 'x'.repeat(MAX_BYTES + 1);
    for (const t of [long, long, 'é'.repeat(MAX_BYTES), 'café/€', 'emoji/😀', Uint8Array.of(0xff, 0xfe, 0x61), Uint8Array.of(0xc3)]) {
      const { b, from, to } = framed(t);
      expect(internTopic(b, from, to)).toBe(topicText(b, from, to));
    }
    const b = utf8.encode('abc');
    expect(internTopic(b, 1, 1)).toBe('');
    expect(internTopic(b, 1, 10)).toBe('bc'); // past the end: what is there, as subarray
    expect(internTopic(b, 5, 10)).toBe('');
  });

  it('tells apart topics of equal length and equal hash slots by their bytes', () => {
    // Same length, one byte apart, in every position: none may come back as another.
    const base = 'abcdefghijklmnop';
    const variants = [...base].map((_, i) => base.slice(0, i) + 'Z' + base.slice(i + 1));
    for (let round = 0; round < 2; round++) for (const t of [base, ...variants]) expect(read(t)).toBe(t);
  });

  it('tells apart topics that differ only in trailing zero bytes or in the bytes past their last whole word', () => {
    // Topics are hashed and compared four bytes at a time, the last word zero-padded: its length must tell these apart.
    const zeros = [Uint8Array.of(0x61, 0x62, 0x63, 0x64), Uint8Array.of(0x61, 0x62, 0x63, 0x64, 0), Uint8Array.of(0x61, 0x62, 0x63, 0x64, 0, 0),
      Uint8Array.of(0x61, 0x62, 0x63, 0x64, 0, 0, 0), Uint8Array.of(0x61, 0x62, 0x63), Uint8Array.of(0x61, 0x62, 0x63, 0)];
    for (let round = 0; round < 3; round++) {
      for (const z of zeros) {
        const { b, from, to } = framed(z, 1, 0); // nothing after it: the word reads must stop at `to`
        expect(internTopic(b, from, to)).toBe(topicText(b, from, to));
      }
    }
    for (let len = 1; len <= 13; len++) {
      const base = 'q'.repeat(len);
      for (let i = 0; i < len; i++) expect(read(base.slice(0, i) + 'R' + base.slice(i + 1))).toBe(base.slice(0, i) + 'R' + base.slice(i + 1));
      expect(read(base)).toBe(base);
    }
  });

  /** Was `text` found in the table (the table's copy of its bytes is the one it kept before)? */
  function hits(texts: string[]): number {
    const kept = texts.map((t) => {
      read(t);
      return lastInternedBytes();
    });
    return texts.filter((t, i) => {
      read(t);
      return kept[i] !== undefined && lastInternedBytes() === kept[i];
    }).length;
  }

  it('keeps W3\'s 1,000 topics, read in turn, all at once (no set thrashing)', () => {
    const w3 = Array.from({ length: 1000 }, (_, d) => `site${d % 10}/type${d % 5}/dn${d}/telemetry`);
    read('warm'); // whatever other tests left in the table
    hits(w3);
    expect(hits(w3)).toBe(1000);
    // Topics that differ only in their last byte, long and non-ASCII ones as well.
    const alike = Array.from({ length: 200 }, (_, i) => `${'é'.repeat(60)}/${'x'.repeat(50)}${String.fromCharCode(0x100 + i)}`);
    hits(alike);
    expect(hits(alike)).toBe(200);
  });

  it('at its limit (more topics than slots, read in turn) evicts but reads each topic right, then fits again', () => {
    const many = Array.from({ length: SLOTS + WAYS * 64 }, (_, i) => `limit/${i}/ü`);
    for (let round = 0; round < 2; round++) for (const t of many) expect(read(t)).toBe(t);
    expect(hits(many)).toBeLessThan(many.length); // least recently used first: a cycle over capacity misses
    const few = many.slice(0, 500);
    hits(few);
    expect(hits(few)).toBe(500);
  });

  it('does not intern topics longer than MAX_BYTES (each read builds its string)', () => {
    const long = `a/${'z'.repeat(MAX_BYTES)}`;
    expect(read(long)).toBe(long);
    expect(lastInternedBytes()).toBeUndefined();
  });
});
