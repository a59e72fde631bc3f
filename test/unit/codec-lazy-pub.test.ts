import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeValue, encodeCbor, encodeValue } from '../../src/codec/index.js';
import { decodeLazyPub, topicText } from '../../src/codec/lazy-pub.js';
import { DecodeError } from '../../src/errors.js';
import { cborWellFormed } from '../../src/codec/well-formed.js';
import { wildcardFrame, wildcardParts } from '../../src/codec/wildcard-frame.js';
import { WireCodec } from '../../src/codec/wire.js';
import type { PubMsg } from '../../src/protocol/messages.js';
import { pubFlags, topicName, unsignedValue } from './cbor-arbitraries.js';

const value = unsignedValue;
const args = fc.array(value, { maxLength: 5 });
const flags = pubFlags;
const topic = topicName;

const whole = (b: Uint8Array): boolean => cborWellFormed(b, 0, b.length, 500);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('cborWellFormed', () => {
  it('accepts every encoded value and refuses every strict prefix of it', () => {
    fc.assert(fc.property(value, (v) => {
      const b = encodeValue(v);
      expect(whole(b)).toBe(true);
      for (let n = 0; n < b.length; n++) expect(cborWellFormed(b, 0, n, 500)).toBe(false);
    }), { numRuns: 300 });
  });

  it('refuses trailing bytes after the item', () => {
    expect(whole(Uint8Array.of(0x01, 0x02))).toBe(false);
    expect(whole(Uint8Array.of(0x80, 0x80))).toBe(false);
  });

  it('follows RFC 8949 on indefinite lengths, breaks, reserved heads and simple values', () => {
    const ok = (...b: number[]): boolean => whole(Uint8Array.from(b));
    expect(ok(0x9f, 0x01, 0x02, 0xff)).toBe(true);                 // [_ 1, 2]
    expect(ok(0xbf, 0x61, 0x61, 0x01, 0xff)).toBe(true);           // {_ "a": 1}
    expect(ok(0x7f, 0x61, 0x61, 0x62, 0x62, 0x63, 0xff)).toBe(true); // (_ "a", "bc")
    expect(ok(0x5f, 0x41, 0x00, 0xff)).toBe(true);                 // (_ h'00')
    expect(ok(0x7f, 0x41, 0x00, 0xff)).toBe(false);                // a byte chunk in a text string
    expect(ok(0x7f, 0x7f, 0xff, 0xff)).toBe(false);                // nested indefinite chunk
    expect(ok(0xff)).toBe(false);                                   // a break with nothing open
    expect(ok(0x82, 0x01, 0xff)).toBe(false);                      // a break in a definite array
    expect(ok(0x1c)).toBe(false);                                   // reserved additional info
    expect(ok(0x1f)).toBe(false);                                   // indefinite unsigned integer
    expect(ok(0xdf, 0x01)).toBe(false);                             // indefinite tag
    expect(ok(0xf8, 0x10)).toBe(false);                             // two-byte simple value < 32
    expect(ok(0xf8, 0x20)).toBe(true);
    expect(ok(0xc1, 0x1a, 0, 0, 0, 1)).toBe(true);                  // tag 1 (epoch time)
    expect(ok(0xc1)).toBe(false);                                    // a tag without content
  });

  it('refuses nesting deeper than the limit', () => {
    const deep = (n: number): Uint8Array => Uint8Array.from([...Array<number>(n).fill(0x81), 0x00]);
    expect(cborWellFormed(deep(10), 0, 11, 10)).toBe(true);
    expect(cborWellFormed(deep(11), 0, 12, 10)).toBe(false);
  });

  // cbor-x gives some well-formed items meanings it then refuses (simple values as packed-value
  // references, typed-array and record tags with other content, map keys that are not property
  // names): the broker forwards those as sent, so only structural errors count against the check.
  const structural = /end of|Unexpected|Unknown token|Unknown CBOR token|Invalid major type|^\d+$/;

  it('calls nothing well formed that cbor-x finds structurally broken', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (b) => {
      let error: string | undefined;
      try {
        decodeValue(b);
      } catch (err) {
        error = (err as Error).message;
      }
      // One way only: what the check refuses goes to the full decoder, which may still read it
      // (cbor-x takes `f8 14`, a simple value RFC 8949 says must be written `f4`).
      if (whole(b)) expect(error ?? '').not.toMatch(structural);
    }), { numRuns: 20_000 });
  });
});

describe('decodeLazyPub', () => {
  it('reads every canonical PUB frame as decodeCbor does', () => {
    fc.assert(fc.property(flags, topic, args, (f, t, a) => {
      const msg: PubMsg = { type: 'pub', flags: f, ...(f === 0 ? {} : { id: 0x0102030405060708n }), topic: t, args: a };
      const frame = encodeCbor(msg);
      const lazy = decodeLazyPub(frame);
      expect(lazy).toBeDefined();
      const full = decodeCbor(frame) as PubMsg;
      expect({ type: lazy!.type, flags: lazy!.flags, id: lazy!.id, topic: lazy!.topic, args: lazy!.args })
        .toEqual({ type: full.type, flags: full.flags, id: full.id, topic: full.topic, args: full.args });
      expect(hex(lazy!.argsBytes)).toBe(hex(encodeValue(a)));
    }), { numRuns: 500 });
  });

  it('throws DecodeError from args that are well formed but that cbor-x refuses', () => {
    for (const argsItem of [[0x81, 0xe0], [0x81, 0xd8, 0x1d, 0x00]]) { // simple(0); tag 29 around 0
      const lazy = decodeLazyPub(Uint8Array.from([0x83, 0x01, 0x61, 0x74, ...argsItem]))!;
      expect(() => lazy.args).toThrow(DecodeError);
    }
  });

  it('reads the topic alike from a Buffer and a plain Uint8Array: ASCII, UTF-8, bytes ≥ 0x80 that are not UTF-8', () => {
    const raw = (topicBytes: number[]): Uint8Array => Uint8Array.of(0x83, 0x01, 0x60 + topicBytes.length, ...topicBytes, 0x80);
    const topics = ['site1/dn7/telemetry', 'città/è', '𝄞/x', 'a'.repeat(23)];
    for (const t of topics) {
      const frame = encodeCbor({ type: 'pub', flags: 0, topic: t, args: [1] });
      expect(decodeLazyPub(Buffer.from(frame))!.topic).toBe(t);
      expect(decodeLazyPub(Uint8Array.from(frame))!.topic).toBe(t);
    }
    // Latin-1 would read 0xe9 as 'é': the topic is UTF-8, so an invalid byte is U+FFFD either way.
    const invalid = raw([0x61, 0xe9, 0x62]);
    expect(decodeLazyPub(Buffer.from(invalid))!.topic).toBe('a\ufffdb');
    expect(decodeLazyPub(Uint8Array.from(invalid))!.topic).toBe('a\ufffdb');
    // A topic in the middle of a larger buffer (ws hands out views of its read buffer).
    const pool = Buffer.alloc(64, 0x7a);
    const at = 17;
    Buffer.from(raw([0x78, 0x2f, 0x79])).copy(pool, at);
    expect(decodeLazyPub(pool.subarray(at, at + 7))!.topic).toBe('x/y');
  });

  it('leaves every other frame to the full decoder', () => {
    expect(decodeLazyPub(encodeCbor({ type: 'ack', id: 1n }))).toBeUndefined();
    expect(decodeLazyPub(Uint8Array.of(0x83, 0x01, 0x61, 0x74))).toBeUndefined();          // no args
    expect(decodeLazyPub(Uint8Array.of(0x83, 0x01, 0x61, 0x74, 0x82, 0x01))).toBeUndefined(); // truncated args
    expect(decodeLazyPub(Uint8Array.of(0x83, 0x01, 0x61, 0x74, 0x80, 0x00))).toBeUndefined(); // trailing byte
    expect(decodeLazyPub(Uint8Array.of(0x84, 0x01, 0x61, 0x74, 0x80, 0x00))).toBeUndefined(); // 4 elements, QoS0
    expect(decodeLazyPub(Uint8Array.of(0x9f, 0x01, 0x61, 0x74, 0x80, 0xff))).toBeUndefined(); // indefinite frame
  });
});

describe('WireCodec.decodeLazy topics', () => {
  it('reads each frame\'s own topic while reusing the last one: repeats, alternations, a buffer changed in place, non-ASCII', () => {
    const codec = new WireCodec();
    const frame = (t: string): Uint8Array => encodeCbor({ type: 'pub', flags: 0, topic: t, args: [1] });
    const reused = frame('room/1');
    const topics = ['a/b', 'a/b', 'a/c', 'a/b', 'café/é', 'cafe/e', 'café/é'].map((t) => (codec.decodeLazy(frame(t)) as PubMsg).topic);
    expect(topics).toEqual(['a/b', 'a/b', 'a/c', 'a/b', 'café/é', 'cafe/e', 'café/é']);
    expect((codec.decodeLazy(reused) as PubMsg).topic).toBe('room/1');
    reused[reused.indexOf(0x31)] = 0x32; // a receive buffer reused for the next frame
    expect((codec.decodeLazy(reused) as PubMsg).topic).toBe('room/2');
  });
});

describe('wildcardFrame', () => {
  it('is the frame [1, pattern, [topic, ...args]] encodeCbor writes for the decoded values', () => {
    fc.assert(fc.property(flags, topic, args, fc.string({ minLength: 1, maxLength: 40 }), (f, t, a, pattern) => {
      const lazy = decodeLazyPub(encodeCbor({ type: 'pub', flags: f, ...(f === 0 ? {} : { id: 7n }), topic: t, args: a }))!;
      // Both decoded from Buffers: cbor-x hands out byte strings in the type of its input.
      const spliced = decodeCbor(Buffer.from(wildcardFrame(pattern, lazy)));
      const reencoded = Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: pattern, args: [t, ...lazy.args] }));
      expect(spliced).toEqual(decodeCbor(reencoded));
    }), { numRuns: 500 });
  });

  it('spreads an indefinite args array, a single value and a null payload as spec §2.1 reads them', () => {
    const frameWith = (argsItem: number[]): Uint8Array => Uint8Array.from([0x83, 0x01, 0x61, 0x74, ...argsItem]);
    const check = (argsItem: number[], expected: unknown[]): void => {
      const lazy = decodeLazyPub(frameWith(argsItem))!;
      expect(decodeCbor(wildcardFrame('*', lazy))).toEqual({ type: 'pub', flags: 0, topic: '*', args: ['t', ...expected] });
    };
    check([0x9f, 0x01, 0x02, 0xff], [1, 2]);
    check([0x05], [5]);
    check([0xf6], []);
    check([0x98, 0x18, ...Array<number>(24).fill(0x00)], Array<number>(24).fill(0));
  });

  it('gives every frame bytes of its own: thousands kept at once (slabs refilled), small and large, stay intact', () => {
    const made: [Uint8Array, Buffer][] = [];
    for (let i = 0; i < 3_000; i++) {
      const a = i % 500 === 0 ? ['x'.repeat(2_000 + i)] : [i, 'v'.repeat(i % 90)];
      const lazy = decodeLazyPub(encodeCbor({ type: 'pub', flags: 0, topic: `t/${i}`, args: a }))!;
      const frame = wildcardFrame('t/*', lazy);
      made.push([frame, Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: 't/*', args: [`t/${i}`, ...a] }))]);
    }
    for (const [frame, expected] of made) expect(Buffer.from(frame).equals(expected)).toBe(true);
  });

  it('writes its parts at any offset from a frame inside a larger socket chunk, for tails on both sides of the byte-by-byte copy', () => {
    const out = new Uint8Array(4096).fill(0xee);
    let at = 3;
    const expected: Buffer[] = [];
    // Args tails of 0 (a null), 63, 64, 65 and 300 bytes: up to 64 copied byte by byte, past it through a view.
    for (const a of [null, ['a'.repeat(61)], ['a'.repeat(62)], ['a'.repeat(63)], ['b'.repeat(297)]]) {
      const encoded = encodeCbor({ type: 'pub', flags: 0, topic: 'plant/7', args: a as unknown[] });
      const chunk = Buffer.alloc(encoded.length + 20, 0xaa);
      chunk.set(encoded, 11);
      const parts = wildcardParts('**', decodeLazyPub(chunk.subarray(11, 11 + encoded.length))!);
      const end = parts.writeTo(out, at);
      expect(end - at).toBe(parts.length);
      expected.push(Buffer.from(encodeCbor({ type: 'pub', flags: 0, topic: '**', args: ['plant/7', ...(a ?? [])] })));
      at = end;
    }
    expect(Buffer.from(out.subarray(3, at)).equals(Buffer.concat(expected))).toBe(true);
    expect(out[2]).toBe(0xee);
    expect(out[at]).toBe(0xee);
  });

  it('writes the args head in its shortest form where the added topic makes it grow (23, 255, 65535 elements)', () => {
    for (const n of [22, 23, 254, 255, 65_534, 65_535]) {
      const a = Array<number>(n).fill(1);
      const lazy = decodeLazyPub(encodeCbor({ type: 'pub', flags: 0, topic: 'x/y', args: a }))!;
      const spliced = wildcardFrame('x/*', lazy);
      const reencoded = encodeCbor({ type: 'pub', flags: 0, topic: 'x/*', args: ['x/y', ...a] });
      expect(Buffer.from(spliced).equals(Buffer.from(reencoded))).toBe(true);
    }
  });
});

describe('topicText at the edges of a truncated frame', () => {
  it('reads what is there, like subarray, instead of throwing past the end', () => {
    const b = Buffer.from('plant/1');
    expect(topicText(b, 0, 20)).toBe('plant/1');
    expect(topicText(b, 6, 20)).toBe('1');
    expect(topicText(b, 9, 20)).toBe('');
    expect(topicText(new Uint8Array(b), 6, 20)).toBe('1');
  });
});
