/**
 * encodePubFrame (src/codec/pub-encode.ts) writes exactly the bytes of the generic encoder
 * `encodeCbor` for every PUB: random args of every plain kind (wide integers, -0, NaN, lone
 * surrogates, long and non-ASCII strings), every flag and id, metadata, the vectors of
 * /work/shared/rembus-vectors.md, values it hands to the generic path (tags, Maps, bignums,
 * class instances, deep nesting), frames larger than its slab; and the same errors.
 */
import { Tag } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/index.js';
import { encodeCheckedPub, encodePubFrame } from '../../src/codec/pub-encode.js';
import { validateTopic } from '../../src/topic/validate.js';
import { EncodeError } from '../../src/errors.js';
import type { PubMsg } from '../../src/protocol/messages.js';
import { leaf, nested, pubFlags, topicName } from './cbor-arbitraries.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const same = (msg: PubMsg): void => void expect(hex(encodePubFrame(msg))).toBe(hex(encodeCbor(msg)));

/** Numbers around every boundary cbor-x and the wide-integer rewrite choose between. */
const edgeNumber = fc.oneof(
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.constantFrom(0, -0, 23, 24, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -1, -24, -25,
    -256, -257, -65536, -65537, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 32), -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53) + 1,
    2 ** 53, -(2 ** 53), 2 ** 64, 1e300, -1e-300, 0.5, NaN, Infinity, -Infinity, Date.now(), -Date.now()),
  fc.maxSafeInteger().map((n) => n),
  fc.double(),
);
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ minLength: 60, maxLength: 300 }), fc.string({ unit: 'grapheme', minLength: 30, maxLength: 120 }));
const value = nested(leaf(edgeNumber, text, fc.constant(undefined), fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n })));
const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const meta = fc.option(fc.record({ retain: fc.option(fc.constant(true), { nil: undefined }), ttl: fc.option(fc.nat(), { nil: undefined }) },
  { requiredKeys: [] }), { nil: undefined });

function pub(flags: number, i: bigint, topic: string, args: unknown[], m?: PubMsg['meta']): PubMsg {
  const msg: PubMsg = (flags & 0x70) === 0 ? { type: 'pub', flags, topic, args } : { type: 'pub', flags, id: i, topic, args };
  if (m !== undefined) msg.meta = m;
  return msg;
}

describe('encodePubFrame', () => {
  it('writes the bytes encodeCbor writes for every PUB of plain values', () => {
    fc.assert(fc.property(pubFlags, id, fc.oneof(topicName, text.filter((t) => t.length > 0)), fc.array(value, { maxLength: 5 }), meta,
      (flags, i, topic, args, m) => { same(pub(flags, i, topic, args, m)); }), { numRuns: 2_000 });
  });

  it('writes the vectors of rembus-vectors.md §1–4', () => {
    const args = ['a', 1];
    expect(hex(encodePubFrame(pub(0, 0n, 'mytopic', args)))).toBe('8301676d79746f706963826161' + '01');
    expect(hex(encodePubFrame(pub(0x10, 0x1122334455667788n, 'mytopic', args))))
      .toBe('8411488877665544332211676d79746f70696382616101');
    expect(hex(encodePubFrame(pub(0x30, 0x1122334455667788n, 'mytopic', args))))
      .toBe('84183148887766554433221167' + '6d79746f70696382616101');
    expect(hex(encodePubFrame(pub(0x50, 0xa1b2c3d4000004d2n, 'mytopic', args))))
      .toBe('84185148d2040000d4c3b2a1676d79746f70696382616101');
  });

  it('writes lone surrogates as cbor-x does below and from 64 characters', () => {
    for (const n of [0, 1, 22, 23, 62, 63, 64, 65, 254, 255, 256]) {
      for (const c of ['\ud800', '\udc00', 'é', '€', '😀', '\ud83d']) {
        same(pub(0, 0n, `t${c}`, ['x'.repeat(n) + c, c + 'y'.repeat(n), { [c.repeat(2)]: n }]));
      }
    }
  });

  it('hands what it does not write to the generic encoder, with the same bytes', () => {
    class Point { constructor(readonly x: number) {} }
    const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
    const odd: unknown[] = [new Tag(Uint8Array.of(1, 2), 80), new Map([['a', 1]]), 2n ** 70n, -(2n ** 70n), new Point(3),
      new Date(0), Buffer.from('ab'), Object.create(null) as unknown, { constructor: 1 }, deep(100), new Float64Array([1.5])];
    for (const v of odd) {
      same(pub(0, 0n, 't', [v]));
      same(pub(0x10, 7n, 't', [{ k: v }]));
    }
  });

  it('writes frames larger than its slab, and many frames across slabs, each intact', () => {
    same(pub(0, 0n, 'big', ['x'.repeat(100_000), new Uint8Array(70_000).fill(7)]));
    same(pub(0x10, 1n, 't'.repeat(70_000), ['é'.repeat(30_000)]));
    const frames: [PubMsg, Uint8Array][] = [];
    for (let i = 0; i < 3_000; i++) {
      const msg = pub(i % 2 === 0 ? 0 : 0x10, BigInt(i), `t/${i}`, [{ n: i, s: 'y'.repeat(i % 97), ts: Date.now() + i }]);
      frames.push([msg, encodePubFrame(msg)]);
    }
    // Earlier frames are views of slabs that later ones must not overwrite.
    for (const [msg, frame] of frames) expect(hex(frame)).toBe(hex(encodeCbor(msg)));
  });

  it('writes a frame whole when a getter of its args publishes meanwhile (re-entrant call)', () => {
    let inner: Uint8Array | undefined;
    const args = { a: 1, get b(): string { inner = encodePubFrame(pub(0, 0n, 'inner', ['x'.repeat(30)])); return 'b'; }, c: [2, 3] };
    const outer = encodePubFrame(pub(0x10, 9n, 'outer', [args]));
    expect(hex(inner!)).toBe(hex(encodeCbor(pub(0, 0n, 'inner', ['x'.repeat(30)]))));
    expect(hex(outer)).toBe(hex(encodeCbor(pub(0x10, 9n, 'outer', [{ a: 1, b: 'b', c: [2, 3] }]))));
  });

  it('throws EncodeError as encodeCbor does, and keeps writing afterwards', () => {
    const fn = (): number => 1;
    for (const bad of [fn, Symbol('s'), { a: [1, fn] }]) {
      expect(() => encodePubFrame(pub(0, 0n, 't', [bad]))).toThrow(EncodeError);
    }
    expect(() => encodePubFrame({ type: 'pub', flags: 0x10, topic: 't', args: [] })).toThrow(EncodeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => encodePubFrame(pub(0, 0n, 't', [cyclic]))).toThrow(EncodeError);
    same(pub(0, 0n, 't', [1, 'after']));
  });
});

/** Is `topic` one the checked writer takes: non-empty printable ASCII without '*'? */
const plainTopic = (topic: string): boolean => /^[\x20-\x29\x2b-\x7e]+$/.test(topic);

describe('encodeCheckedPub (publish: the topic checked as it is written)', () => {
  // Topics with a character validateTopic refuses or the writer leaves to the general path, anywhere (last one included).
  const odd = fc.constantFrom('*', '\u0000', '\u001f', '\u007f', '\n', 'é', '€', '😀', '\ud800', ' ');
  const topic = fc.oneof(topicName, fc.tuple(fc.string({ maxLength: 40 }), odd, fc.string({ maxLength: 3 })).map(([a, c, b]) => a + c + b),
    fc.constantFrom('', 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(255), 'x'.repeat(256), 'site1/type1/dn1/telemetry'));

  it('writes the bytes of encodePubFrame for a topic validateTopic takes, and nothing for any other', () => {
    fc.assert(fc.property(topic, fc.array(value, { maxLength: 4 }), (t, a) => {
      const got = encodeCheckedPub(t, a);
      const argsPlain = encodeCheckedPub('t', a) !== undefined;
      if (got === undefined) {
        expect(plainTopic(t) && argsPlain).toBe(false);
        return;
      }
      expect(plainTopic(t)).toBe(true);
      expect(() => validateTopic(t)).not.toThrow();
      expect(hex(got)).toBe(hex(encodeCbor(pub(0, 0n, t, a))));
    }), { numRuns: 3_000 });
  });

  it('refuses topics one character away from a plain one, in every position, and takes the plain one', () => {
    const base = 'site1/type1/dn1/telemetry';
    expect(hex(encodeCheckedPub(base, [1])!)).toBe(hex(encodeCbor(pub(0, 0n, base, [1]))));
    for (let i = 0; i < base.length; i++) {
      for (const c of ['*', '\u0000', '\u007f', 'é', '\ud83d']) {
        expect(encodeCheckedPub(base.slice(0, i) + c + base.slice(i + 1), [1])).toBeUndefined();
      }
    }
    expect(encodeCheckedPub('', [])).toBeUndefined();
  });

  it('leaves args the writer does not take to the general path (a Map, a Tag, a class instance)', () => {
    for (const a of [[new Map([[1, 2]])], [new Tag(1, 80)], [new (class Reading { v = 1 })()]]) {
      expect(encodeCheckedPub('a/b', a)).toBeUndefined();
    }
  });
});
