/**
 * The publish metadata extension (src/protocol/pub-meta.ts): its map, its negotiation keys, the
 * frame splice, and the codec's PUB shapes with and without the trailing map — the spec's 3- and
 * 4-element frames stay byte for byte what they were.
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor, encodeValue } from '../../src/codec/cbor.js';
import { DecodeError } from '../../src/errors.js';
import {
  brokerTakesPubMeta, metaFromWire, metaToWire, PUB_OPTS_REPLY, pubMetaAsked, withMetaFrame,
} from '../../src/protocol/pub-meta.js';
import type { PubMsg } from '../../src/protocol/messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('publish metadata', () => {
  it('keeps the spec frames unchanged when a publish has no metadata', () => {
    expect(hex(encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [1] }))).toBe('83016174' + '8101');
    expect(hex(encodeCbor({ type: 'pub', flags: 0x10, id: 1n, topic: 't', args: [] })))
      .toBe('8411' + '480100000000000000' + '6174' + '80');
  });

  it('appends the map as a 4th element to a QoS0 publish and a 5th to one with an id, and reads both back', () => {
    const q0: PubMsg = { type: 'pub', flags: 0, topic: 't', args: ['x'], meta: { retain: true, ttl: 500 } };
    const f0 = encodeCbor(q0);
    expect(f0[0]).toBe(0x84);
    expect(decodeCbor(f0)).toEqual(q0);
    const q1: PubMsg = { type: 'pub', flags: 0x10, id: 7n, topic: 't', args: [], meta: { recv: 1_765_000_000_000_000_000n, from: 'p', retained: true } };
    const f1 = encodeCbor(q1);
    expect(f1[0]).toBe(0x85);
    expect(decodeCbor(f1)).toEqual(q1);
  });

  it('splices a map onto an encoded frame without touching its args bytes', () => {
    const plain = encodeCbor({ type: 'pub', flags: 0, topic: 'a/b', args: [1, 'two'] });
    const meta = encodeValue(metaToWire({ recv: 5n, retained: true }));
    const framed = withMetaFrame(plain, meta);
    expect(hex(framed)).toBe('84' + hex(plain).slice(2) + hex(meta));
    expect(decodeCbor(framed)).toEqual({ type: 'pub', flags: 0, topic: 'a/b', args: [1, 'two'], meta: { recv: 5n, retained: true } });
    expect(() => withMetaFrame(Uint8Array.of(0x82, 0x05, 0x40), meta)).toThrow(DecodeError);
  });

  it('refuses what a buggy peer sends: a non-map, a bad ttl, a bad recv or from; ignores unknown keys', () => {
    expect(() => metaFromWire([1])).toThrow(DecodeError);
    expect(() => metaFromWire(null)).toThrow(DecodeError);
    expect(() => metaFromWire(new Uint8Array(2))).toThrow(DecodeError);
    for (const ttl of [0, -1, 1.5, 'x', 2 ** 60]) expect(() => metaFromWire({ ttl })).toThrow(DecodeError);
    expect(() => metaFromWire({ recv: -1 })).toThrow(DecodeError);
    expect(() => metaFromWire({ from: 3 })).toThrow(DecodeError);
    expect(metaFromWire({ ttl: 10, other: 'x', retain: 'yes' })).toEqual({ ttl: 10 });
    expect(metaFromWire({ recv: 12 })).toEqual({ recv: 12n });
    // A 4-element QoS0 publish whose last element is not a map is a broken frame.
    expect(() => decodeCbor(Uint8Array.of(0x84, 0x01, 0x61, 0x74, 0x80, 0x01))).toThrow(DecodeError);
    expect(() => decodeCbor(encodeValue([1, 't', [], {}, {}]))).toThrow(DecodeError);
  });

  it('negotiates on admin maps: options and retained marks, or metadata on every delivery', () => {
    expect(pubMetaAsked({ cmd: 'reactive', status: true })).toBe('none');
    expect(pubMetaAsked({ cmd: 'reactive', ts_pub_opts: true })).toBe('retained');
    expect(pubMetaAsked({ cmd: 'reactive', ts_pub_opts: true, ts_pub_meta: true })).toBe('all');
    expect(pubMetaAsked({ cmd: 'reactive', ts_pub_opts: 1 })).toBe('none');
    expect(brokerTakesPubMeta(PUB_OPTS_REPLY)).toBe(true);
    expect(brokerTakesPubMeta(null)).toBe(false); // a PY/JL broker's reply
    expect(brokerTakesPubMeta('ok')).toBe(false);
  });
});
