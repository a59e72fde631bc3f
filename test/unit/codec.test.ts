/**
 * Codec round trips (CBOR and JSON-RPC), value widths and forms, and the errors of malformed
 * input (spec §2, §12 "Codec / protocol units").
 */
import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  decodeCbor, decodeJson, decodeValue, encodeCbor, encodeJson, encodeValue, msgIdFromBytes, msgIdToBytes,
  newMsgId, newSlottedMsgId,
} from '../../src/codec/index.js';
import { DecodeError, EncodeError } from '../../src/errors.js';
import type { Msg, PubMsg } from '../../src/protocol/messages.js';

/** Bytes of a hex string written with spaces. */
function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Spaced lower-case hex of `bytes`. */
function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

const ID = 0x1122334455667788n;
const ID_HEX = '48 88 77 66 55 44 33 22 11';
const BIG_ID = 0xfedcba9876543210n; // above 2^53 and 2^63

/** A QoS0 publish on topic "t" whose payload element is `payload` (hex). */
function pubFrame(payload: string): Uint8Array {
  return hex(`83 01 61 74 ${payload}`);
}

/** The args of the publish frame `pubFrame(payload)` decodes to. */
function argsOfPub(payload: string): unknown[] {
  const msg = decodeCbor(pubFrame(payload));
  if (msg.type !== 'pub') throw new Error(`expected a publish, got ${msg.type}`);
  return msg.args;
}

/** The single argument of `[1, "t", [<item>]]`. */
function decodeItem(item: string): unknown {
  return argsOfPub(`81 ${item}`)[0];
}

const EVERY_KIND: Msg[] = [
  { type: 'identity', id: ID, cid: 'mycomponent' },
  { type: 'identity', id: BIG_ID, cid: 'node', meta: { ws: 8338, tcp: 8001 } },
  { type: 'pub', flags: 0, topic: 'a/b', args: ['a', 1, { k: [true, null] }] },
  { type: 'pub', flags: 0, topic: 'a/b', args: [] },
  { type: 'pub', flags: 0x10, id: ID, topic: 'q1', args: [1.5] },
  { type: 'pub', flags: 0x30, id: BIG_ID, topic: 'q2', args: ['x'] },
  { type: 'pub', flags: 0x40, id: 1234n, topic: 'slot0', args: [] },
  { type: 'pub', flags: 0x50, id: 0xa1b2c3d4000004d2n, topic: 'slot1', args: [1] },
  { type: 'pub', flags: 0x70, id: newSlottedMsgId(7), topic: 'slot2', args: [1] },
  { type: 'rpc', id: ID, topic: 'add', target: null, args: [1, 2] },
  { type: 'rpc', id: BIG_ID, topic: 'add', target: 'srv', args: [] },
  { type: 'admin', id: ID, topic: '__config__', cmd: { cmd: 'reactive', status: false } },
  { type: 'admin', id: ID, topic: 't', cmd: { cmd: 'subscribe', msg_from: 1.5e9 } },
  { type: 'admin', id: ID, topic: 't', cmd: { cmd: 'subscribe', msg_from: Infinity } },
  { type: 'response', id: ID, status: 0, data: { rows: [[1, 'a'], [2, 'b']] } },
  { type: 'response', id: ID, status: 0, data: null },
  { type: 'response', id: ID, status: 42, data: 'add' },
  { type: 'ack', id: ID },
  { type: 'ack2', id: BIG_ID },
  { type: 'unregister', id: ID },
  { type: 'register', id: ID, cid: 'me', pin: '11223344', pubkey: new TextEncoder().encode('-----BEGIN'), keyType: 2 },
  { type: 'attestation', id: ID, cid: 'me', signature: Uint8Array.of(1, 2, 3) },
  { type: 'attestation', id: ID, cid: 'me', signature: Uint8Array.of(1, 2, 3), meta: { ws: 8000 } },
  { type: 'ping', id: ID, cid: 'me' },
  { type: 'close' },
];

/**
 * A frame as a plain Uint8Array, as a browser socket delivers it. Decoding a Node Buffer gives
 * Buffer byte strings, which `toEqual` tells apart from Uint8Array.
 */
function plain(frame: Uint8Array): Uint8Array {
  return new Uint8Array(frame);
}

describe('encodeCbor', () => {
  it.each(EVERY_KIND)('round-trips a $type message through decodeCbor (%#)', (msg) => {
    expect(decodeCbor(plain(encodeCbor(msg)))).toEqual(msg);
  });

  it('decodes byte strings of a Node Buffer frame as Uint8Array instances', () => {
    const msg = decodeCbor(Buffer.from(encodeCbor({ type: 'attestation', id: ID, cid: 'me', signature: Uint8Array.of(7) })));
    expect(msg.type === 'attestation' && msg.signature).toBeInstanceOf(Uint8Array);
    expect(msg.type === 'attestation' && [...msg.signature]).toEqual([7]);
  });

  it('throws EncodeError for a QoS1 publish without an id', () => {
    expect(() => encodeCbor({ type: 'pub', flags: 0x10, topic: 't', args: [] })).toThrow(EncodeError);
  });

  it('sends no flags on a non-PUB type byte', () => {
    expect(toHex(encodeCbor({ type: 'ack', id: ID }))).toBe(`82 05 ${toHex(hex(ID_HEX))}`);
  });

  it('does not change the message it encodes', () => {
    const msg: PubMsg = { type: 'pub', flags: 0, topic: 't', args: [2 ** 40, { n: 2 ** 33 }] };
    encodeCbor(msg);
    expect(msg.args).toEqual([2 ** 40, { n: 2 ** 33 }]);
  });
});

describe('decodeCbor integers', () => {
  const UNSIGNED: [string, string, number | bigint][] = [
    ['0', '00', 0],
    ['23', '17', 23],
    ['24', '18 18', 24],
    ['255', '18 ff', 255],
    ['256', '19 01 00', 256],
    ['65535', '19 ff ff', 65535],
    ['65536', '1a 00 01 00 00', 65536],
    ['2^32 - 1', '1a ff ff ff ff', 2 ** 32 - 1],
    ['2^32', '1b 00 00 00 01 00 00 00 00', 2 ** 32],
    ['2^40', '1b 00 00 01 00 00 00 00 00', 2 ** 40],
    ['2^53 - 1', '1b 00 1f ff ff ff ff ff ff', 2 ** 53 - 1],
    ['2^53 + 1', '1b 00 20 00 00 00 00 00 01', 2n ** 53n + 1n],
    ['2^64 - 1', '1b ff ff ff ff ff ff ff ff', 2n ** 64n - 1n],
  ];
  const NEGATIVE: [string, string, number | bigint][] = [
    ['-1', '20', -1],
    ['-24', '37', -24],
    ['-25', '38 18', -25],
    ['-256', '38 ff', -256],
    ['-257', '39 01 00', -257],
    ['-65537', '3a 00 01 00 00', -65537],
    ['-2^32', '3a ff ff ff ff', -(2 ** 32)],
    ['-2^32 - 1', '3b 00 00 00 01 00 00 00 00', -(2 ** 32) - 1],
    ['-(2^53 - 1)', '3b 00 1f ff ff ff ff ff fe', -(2 ** 53 - 1)],
    ['-(2^53 + 1)', '3b 00 20 00 00 00 00 00 00', -(2n ** 53n) - 1n],
    ['-(2^63)', '3b 7f ff ff ff ff ff ff ff', -(2n ** 63n)],
  ];
  // JL writes Int64 in 9 bytes and Int32 in 5 (spec §2.1): still plain numbers.
  const JL_WIDTH: [string, string, number][] = [
    ['3 in 9 bytes', '1b 00 00 00 00 00 00 00 03', 3],
    ['300 in 9 bytes', '1b 00 00 00 00 00 00 01 2c', 300],
    ['24 in 5 bytes', '1a 00 00 00 18', 24],
    ['-3 in 9 bytes', '3b 00 00 00 00 00 00 00 02', -3],
    ['0 in 3 bytes', '19 00 00', 0],
  ];

  it.each([...UNSIGNED, ...NEGATIVE])('decodes %s (%s)', (_name, item, value) => {
    expect(decodeItem(item)).toBe(value);
  });

  it.each([...UNSIGNED, ...NEGATIVE])('encodes %s in shortest form (%s)', (_name, item, value) => {
    expect(toHex(encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [value] }))).toBe(toHex(pubFrame(`81 ${item}`)));
  });

  it.each(JL_WIDTH)('decodes %s to a number', (_name, item, value) => {
    expect(decodeItem(item)).toBe(value);
  });

  it('normalises wide integers nested in maps and arrays', () => {
    expect(decodeItem('a1 61 6e 82 1b 00 00 00 00 00 00 00 07 1b 00 20 00 00 00 00 00 01'))
      .toEqual({ n: [7, 2n ** 53n + 1n] });
  });

  it('keeps integer-valued numbers beyond 32 bits integers, not doubles', () => {
    expect(toHex(encodeValue({ t: 1_700_000_000_000 }))).toBe('a1 61 74 1b 00 00 01 8b cf e5 68 00');
    expect(decodeValue(encodeValue([2 ** 40, -(2 ** 40), 2 ** 53 - 1]))).toEqual([2 ** 40, -(2 ** 40), 2 ** 53 - 1]);
  });
});

describe('decodeCbor floats', () => {
  const FLOATS: [string, string, number][] = [
    ['half 1.0', 'f9 3c 00', 1],
    ['half 1.5', 'f9 3e 00', 1.5],
    ['half -2.0', 'f9 c0 00', -2],
    ['half +Inf', 'f9 7c 00', Infinity],
    ['half -Inf', 'f9 fc 00', -Infinity],
    ['half NaN', 'f9 7e 00', NaN],
    ['single 1.5', 'fa 3f c0 00 00', 1.5],
    ['single 100000', 'fa 47 c3 50 00', 100000],
    ['double 0.0', 'fb 00 00 00 00 00 00 00 00', 0],
    ['double 1.1', 'fb 3f f1 99 99 99 99 99 9a', 1.1],
    ['double pi', 'fb 40 09 21 fb 54 44 2d 18', Math.PI],
    ['double 1.0e300', 'fb 7e 37 e4 3c 88 00 75 9c', 1e300],
  ];

  it.each(FLOATS)('decodes %s (%s)', (_name, item, value) => {
    expect(decodeItem(item)).toBe(value);
  });

  it('encodes finite non-integer floats as doubles and round-trips them', () => {
    const args = [1.1, -0.5, Math.PI, 1e300, 2 ** 60];
    expect(toHex(encodeValue(1.1))).toBe('fb 3f f1 99 99 99 99 99 9a');
    const msg: Msg = { type: 'pub', flags: 0, topic: 't', args };
    expect(decodeCbor(encodeCbor(msg))).toEqual(msg);
  });
});

describe('decodeCbor indefinite lengths', () => {
  it('decodes an indefinite-length array payload', () => {
    expect(argsOfPub('9f 01 02 03 ff')).toEqual([1, 2, 3]);
  });

  it('decodes an indefinite-length map', () => {
    expect(decodeItem('bf 61 61 01 61 62 9f f5 ff ff')).toEqual({ a: 1, b: [true] });
  });

  it('decodes an indefinite-length text string', () => {
    expect(decodeItem('7f 62 68 65 63 6c 6c 6f ff')).toBe('hello');
    expect(decodeItem('7f ff')).toBe('');
  });

  it('decodes an indefinite-length byte string', () => {
    expect(decodeItem('5f 42 01 02 41 03 ff')).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('decodes indefinite strings inside indefinite containers and as the topic', () => {
    const msg = decodeCbor(hex('9f 01 7f 63 6d 79 74 64 6f 70 69 63 ff bf 7f 61 6b ff 5f 41 09 ff ff ff'));
    expect(msg).toEqual({ type: 'pub', flags: 0, topic: 'mytopic', args: [{ k: Uint8Array.of(9) }] });
  });

  it('decodes a long indefinite text string joined into a 2-byte length', () => {
    const chunk = `78 c8 ${'61 '.repeat(200)}`;
    expect(decodeItem(`7f ${chunk} ${chunk} ff`)).toBe('a'.repeat(400));
  });

  it('decodes indefinite strings through decodeValue', () => {
    expect(decodeValue(hex('82 7f 61 61 ff 1b 00 00 00 00 00 00 00 05'))).toEqual(['a', 5]);
  });

  it('throws DecodeError for a chunk of the wrong kind', () => {
    expect(() => decodeCbor(pubFrame('81 7f 41 61 ff'))).toThrow(DecodeError);
  });

  it('throws DecodeError for an unterminated indefinite string', () => {
    expect(() => decodeCbor(pubFrame('81 7f 61 61'))).toThrow(DecodeError);
  });
});

describe('decodeCbor values', () => {
  it('round-trips strings with unicode', () => {
    const text = 'héllo wörld ✓ 😀 日本語';
    expect(argsOfPub(toHex(encodeValue([text])))).toEqual([text]);
    expect(decodeItem('62 c3 bc')).toBe('ü');
    expect(decodeItem('64 f0 9f 98 80')).toBe('😀');
  });

  it('round-trips byte strings', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const msg: Msg = { type: 'pub', flags: 0, topic: 't', args: [all, new Uint8Array(0)] };
    expect(decodeCbor(plain(encodeCbor(msg)))).toEqual(msg);
    expect(decodeItem('43 01 02 03')).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('round-trips nested maps and arrays', () => {
    const value = { a: [1, { b: [null, true, false, 'x'] }], c: { d: { e: 1.5, f: [] } }, g: {} };
    expect(decodeValue(encodeValue(value))).toEqual(value);
    expect(decodeItem('a2 61 61 81 a1 61 62 80 61 63 f6')).toEqual({ a: [{ b: [] }], c: null });
  });

  it('decodes null and booleans', () => {
    expect(argsOfPub('83 f6 f5 f4')).toEqual([null, true, false]);
  });

  it('decodes a 3-element RESPONSE with data null', () => {
    expect(decodeCbor(hex(`83 04 ${ID_HEX} 18 2a`))).toEqual({ type: 'response', id: ID, status: 42, data: null });
  });

  it('treats a non-array PUB payload as one argument', () => {
    expect(argsOfPub('61 78')).toEqual(['x']);
    expect(argsOfPub('a1 61 61 01')).toEqual([{ a: 1 }]);
  });

  it('treats a null PUB payload as zero arguments', () => {
    expect(argsOfPub('f6')).toEqual([]);
  });

  it('treats a non-array RPC payload as one argument', () => {
    expect(decodeCbor(hex(`85 02 ${ID_HEX} 61 66 f6 05`))).toEqual({ type: 'rpc', id: ID, topic: 'f', target: null, args: [5] });
  });

  it('masks flags off non-PUB type bytes', () => {
    expect(decodeCbor(hex(`82 15 ${ID_HEX}`))).toEqual({ type: 'ack', id: ID });
  });

  it('keeps an ADMIN whose payload is not a map, with an empty cmd', () => {
    expect(decodeCbor(hex(`84 03 ${ID_HEX} 61 74 f6`))).toEqual({ type: 'admin', id: ID, topic: 't', cmd: {} });
  });

  it('keeps unknown tags as cbor-x Tags that re-encode byte for byte', () => {
    const frame = pubFrame('82 d9 03 e7 82 61 61 01 d8 64 43 01 02 03');
    const args = argsOfPub('82 d9 03 e7 82 61 61 01 d8 64 43 01 02 03');
    expect(args[0]).toBeInstanceOf(Tag);
    expect(args[0]).toMatchObject({ tag: 999, value: ['a', 1] });
    expect(args[1]).toMatchObject({ tag: 100 });
    expect(toHex(encodeCbor(decodeCbor(frame)))).toBe(toHex(frame));
  });

  it('keeps JL tag 27 (serialized Julia object) opaque and re-encodes it byte for byte', () => {
    const payload = '81 d8 1b 82 68 4d 61 69 6e 2e 46 6f 6f 44 01 02 03 04';
    const arg = argsOfPub(payload)[0];
    expect(arg).toBeInstanceOf(Tag);
    expect((arg as Tag).tag).toBe(27);
    expect((arg as Tag).value).toEqual(['Main.Foo', Uint8Array.of(1, 2, 3, 4)]);
    expect(toHex(encodeCbor(decodeCbor(pubFrame(payload))))).toBe(toHex(pubFrame(payload)));
  });

  it('accepts a REGISTER pubkey wrapped in a tag', () => {
    const msg = decodeCbor(hex(`86 0a ${ID_HEX} 61 6d 61 70 d8 50 43 4b 45 59 01`));
    expect(msg).toEqual({ type: 'register', id: ID, cid: 'm', pin: 'p', pubkey: hex('4b 45 59'), keyType: 1 });
  });
});

describe('decodeCbor errors', () => {
  const BAD: [string, string][] = [
    ['garbage bytes', 'ff ff ff'],
    ['a reserved head', '1c'],
    ['nothing', ''],
    ['truncated CBOR', `84 11 ${ID_HEX} 67 6d 79 74 6f`],
    ['a truncated id', '82 05 48 88 77 66'],
    ['trailing bytes', '81 0f 00'],
    ['a non-array', 'a1 61 61 01'],
    ['a bare integer', '01'],
    ['an empty array', '80'],
    ['type [999]', '81 19 03 e7'],
    ['a negative type', '81 20'],
    ['a text type', '81 61 31'],
    ['unknown type code 7', `82 07 ${ID_HEX}`],
    ['unknown type code 8', `82 08 ${ID_HEX}`],
    ['reserved type code 13', `82 0d ${ID_HEX}`],
    ['a QoS0 publish with 4 elements', `84 01 ${ID_HEX} 61 74 80`],
    ['a QoS1 publish with 3 elements', '83 11 61 74 80'],
    ['an RPC with 4 elements', `84 02 ${ID_HEX} 61 74 80`],
    ['an ACK with 3 elements', `83 05 ${ID_HEX} 00`],
    ['a RESPONSE with 2 elements', `82 04 ${ID_HEX}`],
    ['a RESPONSE with 5 elements', `85 04 ${ID_HEX} 00 f6 f6`],
    ['an IDENTITY with 2 elements', `82 00 ${ID_HEX}`],
    ['a REGISTER with 5 elements', `85 0a ${ID_HEX} 61 6d 61 70 41 00`],
    ['an ATTESTATION with 3 elements', `83 0b ${ID_HEX} 61 6d`],
    ['a 7-byte id', '82 05 47 88 77 66 55 44 33 22'],
    ['a 9-byte id', '82 05 49 88 77 66 55 44 33 22 11 00'],
    ['an integer id', '82 05 1b 11 22 33 44 55 66 77 88'],
    ['a non-text topic', '83 01 01 80'],
    ['a byte-string topic', `84 11 ${ID_HEX} 41 74 80`],
    ['a non-text RPC target', `85 02 ${ID_HEX} 61 74 01 80`],
    ['a negative status', `84 04 ${ID_HEX} 20 f6`],
    ['a text signature', `84 0b ${ID_HEX} 61 6d 61 73`],
  ];

  it.each(BAD)('throws DecodeError (code DECODE) for %s', (_name, bytes) => {
    let error: unknown;
    try {
      decodeCbor(hex(bytes));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).code).toBe('DECODE');
  });
});

describe('encodeJson', () => {
  const JSON_KINDS = EVERY_KIND.filter((msg) => msg.type !== 'ping' && msg.type !== 'close'
    && !(msg.type === 'admin' && msg.cmd['msg_from'] === Infinity) && !(msg.type === 'rpc' && msg.target !== null));

  it.each(JSON_KINDS)('round-trips a $type message through decodeJson (%#)', (msg) => {
    expect(decodeJson(encodeJson(msg)).msg).toEqual(msg);
    expect(decodeJson(encodeJson(msg, { idAsString: true })).msg).toEqual(msg);
  });

  it('writes a string id when asked to', () => {
    expect(encodeJson({ type: 'ack', id: BIG_ID }, { idAsString: true })).toContain(`"id":"${BIG_ID}"`);
    expect(encodeJson({ type: 'ack', id: BIG_ID })).toContain(`"id":${BIG_ID},`);
  });

  it('writes byte values as base64 text', () => {
    const text = encodeJson({ type: 'response', id: ID, status: 11, data: Uint8Array.of(1, 2, 3, 4) });
    expect(text).toContain('"result":{"type":4,"__type__":4,"sts":11,"data":"AQIDBA=="}');
    expect(decodeJson(text).msg).toEqual({ type: 'response', id: ID, status: 11, data: 'AQIDBA==' });
  });

  it('puts a non-zero, non-challenge status under "error"', () => {
    expect(encodeJson({ type: 'response', id: 1n, status: 42, data: 'f' })).toContain('"error":{');
    expect(encodeJson({ type: 'response', id: 1n, status: 11, data: null })).toContain('"result":{');
  });

  it('keeps integers above 2^53 in args exact', () => {
    const msg: Msg = { type: 'rpc', id: ID, topic: 'f', target: null, args: [2n ** 64n - 1n, -(2n ** 63n), 1.5] };
    expect(decodeJson(encodeJson(msg)).msg).toEqual(msg);
  });

  it('throws EncodeError for a message holding a cbor-x Tag', () => {
    const msg: Msg = { type: 'pub', flags: 0, topic: 't', args: [new Tag(Uint8Array.of(1), 80)] };
    expect(() => encodeJson(msg)).toThrow(EncodeError);
    expect(() => encodeJson(msg)).toThrow(expect.objectContaining({ code: 'ENCODE' }));
  });

  it.each([{ type: 'ping', id: ID, cid: 'me' }, { type: 'close' }] as Msg[])('throws EncodeError for $type', (msg) => {
    expect(() => encodeJson(msg)).toThrow(EncodeError);
  });
});

describe('decodeJson', () => {
  it('reads JL meta on identity', () => {
    const text = '{"jsonrpc":"2.0","id":"5","method":"__identity__","params":{"__type__":0,"cid":"n","meta":{"ws":8338}}}';
    expect(decodeJson(text).msg).toEqual({ type: 'identity', id: 5n, cid: 'n', meta: { ws: 8338 } });
  });

  it('reads PUB QoS0 with a non-array or missing params as one or zero arguments', () => {
    expect(decodeJson('{"jsonrpc":"2.0","method":"t","params":"x"}').msg)
      .toEqual({ type: 'pub', flags: 0, topic: 't', args: ['x'] });
    expect(decodeJson('{"jsonrpc":"2.0","method":"t"}').msg).toEqual({ type: 'pub', flags: 0, topic: 't', args: [] });
  });

  it('reads a JL QoS0+slot publish (type 0x40)', () => {
    expect(decodeJson('{"jsonrpc":"2.0","id":"1234","method":"t","params":{"__type__":64,"data":[1]}}').msg)
      .toEqual({ type: 'pub', flags: 0x40, id: 1234n, topic: 't', args: [1] });
  });

  it('reads a result without a type key as a RESPONSE with sts 0 by default', () => {
    expect(decodeJson('{"jsonrpc":"2.0","id":1,"result":{"data":7}}').msg)
      .toEqual({ type: 'response', id: 1n, status: 0, data: 7 });
    expect(decodeJson('{"jsonrpc":"2.0","id":1,"result":{"type":4}}').msg)
      .toEqual({ type: 'response', id: 1n, status: 0, data: null });
  });

  it('reads ACK2', () => {
    expect(decodeJson('{"jsonrpc":"2.0","id":"9","result":{"__type__":6}}').msg).toEqual({ type: 'ack2', id: 9n });
  });

  it('reads an RPC with absent params (JL) as zero arguments', () => {
    expect(decodeJson('{"jsonrpc":"2.0","id":3,"method":"f"}').msg)
      .toEqual({ type: 'rpc', id: 3n, topic: 'f', target: null, args: [] });
  });

  it('turns an unknown params type into an RPC whose single argument is the object', () => {
    const msg = decodeJson('{"jsonrpc":"2.0","id":3,"method":"f","params":{"type":77,"x":1}}').msg;
    expect(msg).toEqual({ type: 'rpc', id: 3n, topic: 'f', target: null, args: [{ type: 77, x: 1 }] });
  });

  const BAD: [string, string][] = [
    ['non-JSON text', 'hello'],
    ['truncated JSON', '{"jsonrpc":"2.0","id":'],
    ['an empty string', ''],
    ['a JSON array', '[1,2]'],
    ['a JSON number', '42'],
    ['params {} without a type', '{"jsonrpc":"2.0","id":1,"method":"f","params":{}}'],
    ['a non-numeric params type', '{"jsonrpc":"2.0","id":1,"method":"f","params":{"type":"x"}}'],
    ['an id with neither params/method nor result/error', '{"jsonrpc":"2.0","id":1}'],
    ['a result with unknown type', '{"jsonrpc":"2.0","id":1,"result":{"type":9}}'],
    ['an error with unknown JL type', '{"jsonrpc":"2.0","id":"1","error":{"__type__":2}}'],
    ['a non-numeric sts', '{"jsonrpc":"2.0","id":1,"result":{"type":4,"sts":"x"}}'],
    ['a fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"f","params":[]}'],
    ['a non-decimal string id', '{"jsonrpc":"2.0","id":"abc","method":"f","params":[]}'],
    ['a publish without method', '{"jsonrpc":"2.0","params":[1]}'],
    ['an identity without cid', '{"jsonrpc":"2.0","id":1,"method":"__identity__","params":{"type":0}}'],
  ];

  it.each(BAD)('throws DecodeError (code DECODE) for %s', (_name, text) => {
    expect(() => decodeJson(text)).toThrow(DecodeError);
    expect(() => decodeJson(text)).toThrow(expect.objectContaining({ code: 'DECODE' }));
  });
});

describe('newMsgId', () => {
  it('returns distinct unsigned 64-bit bigints', () => {
    const ids = Array.from({ length: 2000 }, () => newMsgId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(typeof id).toBe('bigint');
      expect(id >= 0n && id < 2n ** 64n).toBe(true);
    }
  });

  it('returns ids that survive msgIdToBytes / msgIdFromBytes', () => {
    for (let i = 0; i < 100; i++) {
      const id = newMsgId();
      expect(msgIdFromBytes(msgIdToBytes(id))).toBe(id);
    }
  });
});

describe('newSlottedMsgId', () => {
  it('puts the slot in the low 32 bits (the first four wire bytes)', () => {
    const id = newSlottedMsgId(1234);
    expect(id & 0xffffffffn).toBe(1234n);
    expect(toHex(msgIdToBytes(id).subarray(0, 4))).toBe('d2 04 00 00');
  });
});

describe('msgIdToBytes', () => {
  it('writes 8 little-endian bytes', () => {
    expect(toHex(msgIdToBytes(ID))).toBe('88 77 66 55 44 33 22 11');
    expect(toHex(msgIdToBytes(0n))).toBe('00 00 00 00 00 00 00 00');
    expect(toHex(msgIdToBytes(2n ** 64n - 1n))).toBe('ff ff ff ff ff ff ff ff');
  });
});

describe('msgIdFromBytes', () => {
  it('reads 8 little-endian bytes, also from a view into a larger buffer', () => {
    expect(msgIdFromBytes(hex('88 77 66 55 44 33 22 11'))).toBe(ID);
    expect(msgIdFromBytes(hex('00 88 77 66 55 44 33 22 11 00').subarray(1, 9))).toBe(ID);
  });

  it.each([0, 7, 9, 15, 16, 17])('rejects a %i-byte input with DecodeError', (length) => {
    expect(() => msgIdFromBytes(new Uint8Array(length))).toThrow(DecodeError);
  });

  it.each([null, undefined, 'abcdefgh', 5, 5n, [1, 2, 3, 4, 5, 6, 7, 8]])('rejects %o with DecodeError', (value) => {
    expect(() => msgIdFromBytes(value)).toThrow(DecodeError);
  });
});
