import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor, encodeValue } from '../../src/codec/index.js';
import { PubFrameReader } from '../../src/codec/pub-frame.js';
import { DecodeError } from '../../src/errors.js';
import type { Msg, PubMsg } from '../../src/protocol/messages.js';
import { leaf, nested, pubFlags, topicName } from './cbor-arbitraries.js';

const value = nested(leaf(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }), fc.maxSafeInteger()));
const args = fc.array(value, { maxLength: 5 });
const flags = pubFlags;
const topic = topicName;

/** The full decoder's reading of `frame` as a component does it (a plain view), or its error. */
function full(frame: Uint8Array): Msg | Error {
  try {
    return decodeCbor(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
  } catch (err) {
    return err as Error;
  }
}

/** The reader's reading of `frame` (undefined: not its kind of frame), or its error. */
function fast(reader: PubFrameReader, frame: Uint8Array): PubMsg | Error | undefined {
  try {
    return reader.read(frame);
  } catch (err) {
    return err as Error;
  }
}

/** `83 01 <topic item> <args bytes>`: a QoS0 PUB frame around raw args bytes. */
function rawPub(topicText: string, argsBytes: Uint8Array): Uint8Array {
  const t = encodeValue(topicText);
  return Uint8Array.of(0x83, 0x01, ...t, ...argsBytes);
}

describe('PubFrameReader', () => {
  it('reads every PUB frame as the full decoder does (flags, id, topic, args)', () => {
    const reader = new PubFrameReader();
    fc.assert(fc.property(topic, args, flags, (t, a, f) => {
      const msg: PubMsg = f === 0 ? { type: 'pub', flags: 0, topic: t, args: a }
        : { type: 'pub', flags: f, id: 0x0102030405060708n, topic: t, args: a };
      const frame = encodeCbor(msg);
      const got = fast(reader, frame);
      expect(got).toBeDefined();
      expect(got).toEqual(full(frame));
    }), { numRuns: 1_000 });
  });

  it('reads a topic again after another one, and a repeated topic from a different frame', () => {
    const reader = new PubFrameReader();
    const a = encodeCbor({ type: 'pub', flags: 0, topic: 'a/b', args: [1] });
    const b = encodeCbor({ type: 'pub', flags: 0, topic: 'a/c', args: [2] });
    const seq = [a, b, b, a, Uint8Array.from(a)].map((f) => reader.read(f)!);
    expect(seq.map((m) => [m.topic, m.args[0]])).toEqual([['a/b', 1], ['a/c', 2], ['a/c', 2], ['a/b', 1], ['a/b', 1]]);
  });

  it('keeps no view of a frame: a topic cached from a frame whose bytes change later', () => {
    const reader = new PubFrameReader();
    const frame = encodeCbor({ type: 'pub', flags: 0, topic: 'room/1', args: [] });
    expect(reader.read(frame)!.topic).toBe('room/1');
    frame[frame.indexOf(0x31)] = 0x32; // the received buffer reused for 'room/2'
    expect(reader.read(frame)!.topic).toBe('room/2');
  });

  it('reads non-ASCII topics (2-, 3- and 4-byte UTF-8) and long ones', () => {
    const reader = new PubFrameReader();
    for (const t of ['café/é', 'température/€', 'emoji/😀', 'x'.repeat(300), `${'é'.repeat(40)}/t`]) {
      const frame = encodeCbor({ type: 'pub', flags: 0, topic: t, args: ['v'] });
      expect(reader.read(frame)).toEqual({ type: 'pub', flags: 0, topic: t, args: ['v'] });
    }
  });

  it('keeps 64-bit integers exact: negative, beyond the safe range, bignums', () => {
    const reader = new PubFrameReader();
    const a = [-(2 ** 40), 2 ** 40, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 70n, -(2n ** 70n), Number.MIN_SAFE_INTEGER, -1];
    const frame = encodeCbor({ type: 'pub', flags: 0, topic: 't', args: a });
    expect(reader.read(frame)!.args).toEqual(a);
  });

  it('decodes from a Node Buffer slice of a larger buffer, byte strings as plain Uint8Arrays', () => {
    const reader = new PubFrameReader();
    const frame = encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [Uint8Array.of(1, 2, 3), { b: Uint8Array.of(9) }] });
    const big = Buffer.alloc(frame.length + 20, 0xee);
    big.set(frame, 7);
    const msg = reader.read(big.subarray(7, 7 + frame.length))!;
    expect(msg.args[0]).toEqual(Uint8Array.of(1, 2, 3));
    expect((msg.args[0] as Uint8Array).constructor).toBe(Uint8Array);
    expect((msg.args[1] as { b: Uint8Array }).b.constructor).toBe(Uint8Array);
  });

  it('refuses a malformed args tail as the full decoder does: truncated, trailing bytes, a bad head', () => {
    const reader = new PubFrameReader();
    const good = encodeValue([{ k: 'v', n: 2 ** 40 }]);
    const tails = [good.subarray(0, good.length - 1), Uint8Array.of(...good, 0x01), Uint8Array.of(0x1c), Uint8Array.of(0x5f, 0x01),
      Uint8Array.of(0x82, 0x01)];
    for (const tail of tails) {
      const frame = rawPub('t', tail);
      const got = fast(reader, frame);
      expect(got).toBeInstanceOf(DecodeError);
      expect(full(frame)).toBeInstanceOf(DecodeError);
      expect((got as Error).message).toBe((full(frame) as Error).message);
    }
    // A lone break byte is no error to cbor-x: both read the same (empty) value.
    expect(fast(reader, rawPub('t', Uint8Array.of(0xff)))).toEqual(full(rawPub('t', Uint8Array.of(0xff))));
  });

  it('refuses args nested past the frame limit, and accepts them one level below it', () => {
    const reader = new PubFrameReader();
    const nested = (depth: number): Uint8Array => Uint8Array.of(...new Array<number>(depth).fill(0x81), 0x01);
    // The message array is level 1: args may nest 499 levels.
    expect(fast(reader, rawPub('t', nested(499)))).not.toBeInstanceOf(Error);
    expect(fast(reader, rawPub('t', nested(500)))).toBeInstanceOf(DecodeError);
    expect(full(rawPub('t', nested(500)))).toBeInstanceOf(DecodeError);
  });

  it('leaves other frames to the full decoder: metadata, RPC, ACK, indefinite arrays, a text id', () => {
    const reader = new PubFrameReader();
    const others: Uint8Array[] = [
      encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [1], meta: { recv: 5n } }),
      encodeCbor({ type: 'rpc', id: 1n, topic: 't', target: null, args: [] }),
      encodeCbor({ type: 'ack', id: 1n }),
      Uint8Array.of(0x9f, 0x01, 0x61, 0x74, 0x80, 0xff),
      Uint8Array.of(0x84, 0x11, 0x61, 0x78, 0x61, 0x74, 0x80),
      Uint8Array.of(0x83, 0x01, 0x60, 0x80), // empty topic
      Uint8Array.of(0x83, 0x01, 0x41, 0x74, 0x80), // topic as a byte string
    ];
    for (const frame of others) expect(reader.read(frame)).toBeUndefined();
  });

  it('reads a QoS0 frame with the high flag bit as the full decoder: flags 0', () => {
    const reader = new PubFrameReader();
    const frame = Uint8Array.of(0x83, 0x18, 0x81, 0x61, 0x74, 0x81, 0x01);
    expect(reader.read(frame)).toEqual(full(frame));
    expect(reader.read(frame)!.flags).toBe(0);
  });
});
