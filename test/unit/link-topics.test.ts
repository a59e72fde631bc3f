/**
 * Broker links and the component's PUB reader read topics through LastTopic
 * (src/codec/lazy-pub.ts): each link's last topic, then the process's table of topics by their
 * bytes (src/codec/topic-intern.ts). Whatever it returns must be
 * exactly what reading the bytes afresh gives (topicText), whichever link read them first, for
 * topics that collide in the table, outgrow it, are too long for it, or are not UTF-8, and
 * however the frames they came in are reused afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LastTopic, topicText } from '../../src/codec/lazy-pub.js';

/** `topic` at offset 5 of a frame-like buffer, with bytes around it. */
function framed(bytes: Uint8Array): { frame: Uint8Array; from: number; to: number } {
  const frame = new Uint8Array(bytes.length + 9).fill(0x41);
  frame.set(bytes, 5);
  return { frame, from: 5, to: 5 + bytes.length };
}

const read = (link: LastTopic, bytes: Uint8Array): string => {
  const { frame, from, to } = framed(bytes);
  const topic = link.read(frame, from, to);
  frame.fill(0); // the frame's buffer is reused by the next read
  return topic;
};

describe('LastTopic', () => {
  it('reads what topicText reads, on any link and in any order of any bytes', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(3), fc.uint8Array({ minLength: 1, maxLength: 300 })), { maxLength: 40 }),
      (reads) => {
        const links = [new LastTopic(), new LastTopic(), new LastTopic(), new LastTopic()];
        for (const [l, bytes] of reads) expect(read(links[l]!, bytes)).toBe(topicText(bytes, 0, bytes.length));
      }), { numRuns: 300 });
  });

  it('gives every link the string made the first time, and stays right past its capacity', () => {
    const a = new LastTopic();
    const b = new LastTopic();
    const bytes = (i: number): Uint8Array => new TextEncoder().encode(`site${i % 10}/type${i % 5}/dn${i}/telemetry`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) expect(read(i % 2 === 0 ? a : b, bytes(i))).toBe(`site${i % 10}/type${i % 5}/dn${i}/telemetry`);
    }
    // A topic another link read a moment ago, and odd bytes after it.
    const first = read(a, bytes(7));
    const again = read(b, bytes(7));
    expect(again).toBe(first);
    const strange = [Uint8Array.of(0x61, 0x80, 0xff), Uint8Array.of(0xc3, 0xa9), Uint8Array.of(0xe2, 0x82)];
    for (const s of strange) expect(read(b, s)).toBe(topicText(s, 0, s.length));
    const long = new Uint8Array(1000).fill(0x62);
    expect(read(a, long)).toBe('b'.repeat(1000));
    expect(read(a, long)).toBe('b'.repeat(1000));
  });
});
