/**
 * publishedOf: what the publish path hands to messages$ — args kept encoded until read, the
 * publisher's bytes shared with the log, and a refused decode surfacing only where args are read.
 */
import { describe, expect, it } from 'vitest';
import { publishedOf } from '../../src/broker/published.js';
import { encodeCbor, encodeValue } from '../../src/codec/cbor.js';
import { decodeLazyPub } from '../../src/codec/lazy-pub.js';
import { DecodeError } from '../../src/errors.js';

describe('publishedOf', () => {
  it('keeps the args of a frame read in place encoded until they are read, then decodes them once', () => {
    const args = [{ temperature: 21.5, ts: 1_733_526_000_123 }];
    const lazy = decodeLazyPub(encodeCbor({ type: 'pub', flags: 0x10, id: 7n, topic: 'a/b', args }))!;
    const view = lazy.argsBytes;
    const m = publishedOf(lazy, 3, 99n, 'pub', view);
    expect(m).toMatchObject({ topic: 'a/b', flags: 0x10, id: 7n, slot: 3, recv: 99n, origin: 'pub' });
    expect(m.argsBytes).toBe(view); // the log's view of the frame, not a second one
    expect(Buffer.from(m.argsBytes!).equals(Buffer.from(encodeValue(args)))).toBe(true);
    expect(m.args).toEqual(args);
    expect(m.args).toBe(m.args);
  });

  it('throws DecodeError from args only, for args that are well formed but that cbor-x refuses', () => {
    const lazy = decodeLazyPub(Uint8Array.from([0x83, 0x01, 0x61, 0x74, 0x81, 0xe0]))!; // [simple(0)]
    const m = publishedOf(lazy, undefined, 1n, 'x');
    expect(m.topic).toBe('t');
    expect(Array.from(m.argsBytes!)).toEqual([0x81, 0xe0]);
    expect(() => m.args).toThrow(DecodeError);
  });

  it('passes a publish that is not read in place (the broker\'s own, JSON-RPC) with its args as they are', () => {
    const args = [1, 'two'];
    const m = publishedOf({ type: 'pub', flags: 0, topic: 'x', args }, undefined, 5n, '');
    expect(m.args).toBe(args);
    expect(m.argsBytes).toBeUndefined();
  });
});
