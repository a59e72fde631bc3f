/**
 * Every vector of /work/shared/rembus-vectors.md, byte for byte: shortest-form vectors in both
 * directions, JL-form vectors (9-byte integers) decode-only to the same value.
 */
import { createHash } from 'node:crypto';
import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  decodeCbor, decodeJson, encodeCbor, encodeJson, encodeValue, msgIdToBytes, WireCodec,
} from '../../src/codec/index.js';
import { slotOf, type Msg, type PubMsg } from '../../src/protocol/messages.js';

/** Bytes of a hex string as the vectors write it (spaces between bytes). */
function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Spaced lower-case hex of `bytes`, for readable failure diffs. */
function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/** The vector's hex in the form `toHex` prints. */
function norm(s: string): string {
  return toHex(hex(s));
}

const ID = 0x1122334455667788n;
const ID_HEX = '48 88 77 66 55 44 33 22 11';
const MYTOPIC = '67 6d 79 74 6f 70 69 63';
const MYSERVICE = '69 6d 79 73 65 72 76 69 63 65';
const MYCOMPONENT = '6b 6d 79 63 6f 6d 70 6f 6e 65 6e 74';
const ARGS_A1 = '82 61 61 01';

interface Vector { name: string; hex: string; msg: Msg }

/** Shortest-form vectors: decode to `msg`, and `msg` encodes to exactly `hex`. */
const SHORTEST: Vector[] = [
  { name: '1 publish QoS0 ["a", 1]', hex: `83 01 ${MYTOPIC} ${ARGS_A1}`,
    msg: { type: 'pub', flags: 0, topic: 'mytopic', args: ['a', 1] } },
  { name: '1 publish QoS0 without args', hex: `83 01 ${MYTOPIC} 80`,
    msg: { type: 'pub', flags: 0, topic: 'mytopic', args: [] } },
  { name: '2 publish QoS1', hex: `84 11 ${ID_HEX} ${MYTOPIC} ${ARGS_A1}`,
    msg: { type: 'pub', flags: 0x10, id: ID, topic: 'mytopic', args: ['a', 1] } },
  { name: '2 ACK of the QoS1 publish', hex: `82 05 ${ID_HEX}`, msg: { type: 'ack', id: ID } },
  { name: '3 publish QoS2 (type byte 18 31)', hex: `84 18 31 ${ID_HEX} ${MYTOPIC} ${ARGS_A1}`,
    msg: { type: 'pub', flags: 0x30, id: ID, topic: 'mytopic', args: ['a', 1] } },
  { name: '3 ACK2', hex: `82 06 ${ID_HEX}`, msg: { type: 'ack2', id: ID } },
  { name: '4 publish QoS1 + slot 1234', hex: `84 18 51 48 d2 04 00 00 d4 c3 b2 a1 ${MYTOPIC} ${ARGS_A1}`,
    msg: { type: 'pub', flags: 0x50, id: 0xa1b2c3d4000004d2n, topic: 'mytopic', args: ['a', 1] } },
  { name: '4 PY publish QoS0 + slot (slot as whole id)', hex: `84 18 41 48 d2 04 00 00 00 00 00 00 ${MYTOPIC} ${ARGS_A1}`,
    msg: { type: 'pub', flags: 0x40, id: 1234n, topic: 'mytopic', args: ['a', 1] } },
  { name: '5 RPC broker-routed', hex: `85 02 ${ID_HEX} ${MYSERVICE} f6 82 01 02`,
    msg: { type: 'rpc', id: ID, topic: 'myservice', target: null, args: [1, 2] } },
  { name: '5 RPC direct to "srv"', hex: `85 02 ${ID_HEX} ${MYSERVICE} 63 73 72 76 82 01 02`,
    msg: { type: 'rpc', id: ID, topic: 'myservice', target: 'srv', args: [1, 2] } },
  { name: '6 response OK 3', hex: `84 04 ${ID_HEX} 00 03`, msg: { type: 'response', id: ID, status: 0, data: 3 } },
  { name: '6 response OK null', hex: `84 04 ${ID_HEX} 00 f6`, msg: { type: 'response', id: ID, status: 0, data: null } },
  { name: '7 method not found', hex: `84 04 ${ID_HEX} 18 2a ${MYSERVICE}`,
    msg: { type: 'response', id: ID, status: 42, data: 'myservice' } },
  { name: '7 method exception', hex: `84 04 ${ID_HEX} 18 28 64 62 6f 6f 6d`,
    msg: { type: 'response', id: ID, status: 40, data: 'boom' } },
  { name: '7 challenge', hex: `84 04 ${ID_HEX} 0b 44 01 02 03 04`,
    msg: { type: 'response', id: ID, status: 11, data: Uint8Array.of(1, 2, 3, 4) } },
  { name: '8 identity, PY form', hex: `83 00 ${ID_HEX} ${MYCOMPONENT}`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent' } },
  { name: '8 identity, JL form with empty meta', hex: `84 00 ${ID_HEX} ${MYCOMPONENT} a0`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent', meta: {} } },
  { name: '8 identity with meta {"ws": 8338}', hex: `84 00 ${ID_HEX} ${MYCOMPONENT} a1 62 77 73 19 20 92`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent', meta: { ws: 8338 } } },
  { name: '9 attestation, PY form', hex: `84 0b ${ID_HEX} ${MYCOMPONENT} 42 01 02`,
    msg: { type: 'attestation', id: ID, cid: 'mycomponent', signature: Uint8Array.of(1, 2) } },
  { name: '10 subscribe msg_from Now (double 0.0)',
    hex: `84 03 ${ID_HEX} ${MYTOPIC} a2 63 63 6d 64 69 73 75 62 73 63 72 69 62 65 68 6d 73 67 5f 66 72 6f 6d
      fb 00 00 00 00 00 00 00 00`,
    msg: { type: 'admin', id: ID, topic: 'mytopic', cmd: { cmd: 'subscribe', msg_from: 0 } } },
  { name: '10 subscribe msg_from LastReceived (half +Inf)',
    hex: `84 03 ${ID_HEX} ${MYTOPIC} a2 63 63 6d 64 69 73 75 62 73 63 72 69 62 65 68 6d 73 67 5f 66 72 6f 6d f9 7c 00`,
    msg: { type: 'admin', id: ID, topic: 'mytopic', cmd: { cmd: 'subscribe', msg_from: Infinity } } },
  { name: '10 reactive on',
    hex: `84 03 ${ID_HEX} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a2 63 63 6d 64 68 72 65 61 63 74 69 76 65
      66 73 74 61 74 75 73 f5`,
    msg: { type: 'admin', id: ID, topic: '__config__', cmd: { cmd: 'reactive', status: true } } },
  { name: '10 expose', hex: `84 03 ${ID_HEX} ${MYSERVICE} a1 63 63 6d 64 66 65 78 70 6f 73 65`,
    msg: { type: 'admin', id: ID, topic: 'myservice', cmd: { cmd: 'expose' } } },
  { name: '11 register', hex: `86 0a ${ID_HEX} ${MYCOMPONENT} 68 31 31 32 32 33 33 34 34 43 4b 45 59 01`,
    msg: { type: 'register', id: ID, cid: 'mycomponent', pin: '11223344', pubkey: hex('4b 45 59'), keyType: 1 } },
  { name: '11 unregister', hex: `82 09 ${ID_HEX}`, msg: { type: 'unregister', id: ID } },
];

/** JL-form and other decode-only vectors: `hex` decodes to the same value as the shortest form. */
const DECODE_ONLY: Vector[] = [
  { name: '5 RPC with 9-byte Int64 args',
    hex: `85 02 ${ID_HEX} ${MYSERVICE} f6 82 1b 00 00 00 00 00 00 00 01 1b 00 00 00 00 00 00 00 02`,
    msg: { type: 'rpc', id: ID, topic: 'myservice', target: null, args: [1, 2] } },
  { name: '6 response OK 3 with 9-byte result', hex: `84 04 ${ID_HEX} 00 1b 00 00 00 00 00 00 00 03`,
    msg: { type: 'response', id: ID, status: 0, data: 3 } },
  { name: '6 response with the data element omitted', hex: `83 04 ${ID_HEX} 00`,
    msg: { type: 'response', id: ID, status: 0, data: null } },
  { name: '8 identity with meta {"ws": 8338}, 9-byte port',
    hex: `84 00 ${ID_HEX} ${MYCOMPONENT} a1 62 77 73 1b 00 00 00 00 00 00 20 92`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent', meta: { ws: 8338 } } },
];

describe('decodeCbor', () => {
  it.each(SHORTEST)('decodes vector $name', ({ hex: bytes, msg }) => {
    expect(decodeCbor(hex(bytes))).toEqual(msg);
  });

  it.each(DECODE_ONLY)('decodes JL/lenient vector $name to the shortest-form value', ({ hex: bytes, msg }) => {
    expect(decodeCbor(hex(bytes))).toEqual(msg);
  });

  it('gives numbers, not bigints, for 9-byte small integers', () => {
    const msg = decodeCbor(hex(DECODE_ONLY[0]!.hex));
    expect(msg.type === 'rpc' && msg.args.every((a) => typeof a === 'number')).toBe(true);
  });

  it('reads the slot from the first four id bytes of vector 4', () => {
    expect(slotOf(decodeCbor(hex(SHORTEST[6]!.hex)) as PubMsg)).toBe(1234);
    expect(slotOf(decodeCbor(hex(SHORTEST[7]!.hex)) as PubMsg)).toBe(1234);
  });
});

describe('encodeCbor', () => {
  it.each(SHORTEST)('encodes vector $name byte for byte', ({ hex: bytes, msg }) => {
    expect(toHex(encodeCbor(msg))).toBe(norm(bytes));
  });

  it('writes msg_from Now as the 9-byte double fb 00 00 00 00 00 00 00 00', () => {
    const frame = toHex(encodeCbor({ type: 'admin', id: ID, topic: 'mytopic', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    expect(frame.endsWith('68 6d 73 67 5f 66 72 6f 6d fb 00 00 00 00 00 00 00 00')).toBe(true);
  });

  it('writes msg_from LastReceived as the half float f9 7c 00', () => {
    const frame = toHex(encodeCbor({ type: 'admin', id: ID, topic: 't', cmd: { cmd: 'subscribe', msg_from: Infinity } }));
    expect(frame.endsWith('68 6d 73 67 5f 66 72 6f 6d f9 7c 00')).toBe(true);
  });

  it('writes the QoS2 type byte 0x31 in the 1-byte-uint form 18 31', () => {
    const frame = encodeCbor({ type: 'pub', flags: 0x30, id: ID, topic: 'mytopic', args: [] });
    expect(toHex(frame.subarray(0, 3))).toBe('84 18 31');
  });
});

describe('vector 12: DataFrame framing', () => {
  const FRAME = '83 01 61 74 81 d8 50 48 ff ff ff ff 00 00 00 00';

  it('decodes tag 80 to a cbor-x Tag holding the Arrow bytes', () => {
    const msg = decodeCbor(hex(FRAME));
    expect(msg.type).toBe('pub');
    const arg = (msg as PubMsg).args[0];
    expect(arg).toBeInstanceOf(Tag);
    expect((arg as Tag).tag).toBe(80);
    expect(toHex((arg as Tag).value as Uint8Array)).toBe('ff ff ff ff 00 00 00 00');
  });

  it('re-encodes the decoded Tag to identical bytes', () => {
    expect(toHex(encodeCbor(decodeCbor(hex(FRAME))))).toBe(norm(FRAME));
  });

  it('encodes a Tag built by hand to the vector bytes', () => {
    const msg: Msg = { type: 'pub', flags: 0, topic: 't', args: [new Tag(hex('ff ff ff ff 00 00 00 00'), 80)] };
    expect(toHex(encodeCbor(msg))).toBe(norm(FRAME));
  });
});

describe('vector 9: authentication material', () => {
  const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

  it('encodes [challenge, cid] to the bytes to sign and their SHA-256', () => {
    const bytes = encodeValue([Uint8Array.of(1, 2, 3, 4), 'mycomponent']);
    expect(toHex(bytes)).toBe(norm(`82 44 01 02 03 04 ${MYCOMPONENT}`));
    expect(sha256(bytes)).toBe('a5c1bb275992207dccae8de747a64bcba6fca25b98a673fe1835b60cef22fd89');
  });

  it('encodes the JL shared-secret variant [challenge, secret] and its SHA-256', () => {
    const bytes = encodeValue([Uint8Array.of(1, 2, 3, 4), 'mysecret']);
    expect(toHex(bytes)).toBe(norm('82 44 01 02 03 04 68 6d 79 73 65 63 72 65 74'));
    expect(sha256(bytes)).toBe('9d8015acb6c3e20cabdc19f30456d2397b45a43ad0c1bb9d72b6d23c86ef4dcb');
  });

  it('writes the reserved challenge id 0x12345678deadbeef little-endian', () => {
    expect(toHex(msgIdToBytes(0x12345678deadbeefn))).toBe('ef be ad de 78 56 34 12');
  });
});

interface JsonVector { name: string; text: string; msg: Msg }

const BIG = '1234605616436508552';
const JSON_VECTORS: JsonVector[] = [
  { name: 'publish QoS0', text: '{"jsonrpc":"2.0","method":"mytopic","params":["a",1]}',
    msg: { type: 'pub', flags: 0, topic: 'mytopic', args: ['a', 1] } },
  { name: 'publish QoS1',
    text: `{"jsonrpc":"2.0","id":${BIG},"method":"mytopic","params":{"type":16,"data":["a",1]}}`,
    msg: { type: 'pub', flags: 0x10, id: ID, topic: 'mytopic', args: ['a', 1] } },
  { name: 'ACK', text: `{"jsonrpc":"2.0","id":${BIG},"result":{"type":5}}`, msg: { type: 'ack', id: ID } },
  { name: 'RPC request', text: `{"jsonrpc":"2.0","id":${BIG},"method":"myservice","params":[1,2]}`,
    msg: { type: 'rpc', id: ID, topic: 'myservice', target: null, args: [1, 2] } },
  { name: 'response OK', text: `{"jsonrpc":"2.0","id":${BIG},"result":{"type":4,"sts":0,"data":3}}`,
    msg: { type: 'response', id: ID, status: 0, data: 3 } },
  { name: 'response error', text: `{"jsonrpc":"2.0","id":${BIG},"error":{"type":4,"sts":42,"data":"myservice"}}`,
    msg: { type: 'response', id: ID, status: 42, data: 'myservice' } },
  { name: 'identity',
    text: `{"jsonrpc":"2.0","id":${BIG},"method":"__identity__","params":{"type":0,"cid":"mycomponent"}}`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent' } },
  // JL spelling of the same frames: "__type__" and string ids.
  { name: 'publish QoS1, JL spelling',
    text: `{"jsonrpc":"2.0","id":"${BIG}","method":"mytopic","params":{"__type__":16,"data":["a",1]}}`,
    msg: { type: 'pub', flags: 0x10, id: ID, topic: 'mytopic', args: ['a', 1] } },
  { name: 'ACK, JL spelling', text: `{"jsonrpc":"2.0","id":"${BIG}","result":{"__type__":5}}`, msg: { type: 'ack', id: ID } },
  { name: 'identity, JL spelling',
    text: `{"jsonrpc":"2.0","id":"${BIG}","method":"__identity__","params":{"__type__":0,"cid":"mycomponent"}}`,
    msg: { type: 'identity', id: ID, cid: 'mycomponent' } },
];

describe('decodeJson', () => {
  it.each(JSON_VECTORS)('decodes vector $name', ({ text, msg }) => {
    expect(decodeJson(text).msg).toEqual(msg);
  });

  it.each(JSON_VECTORS)('decodes encodeJson of vector $name back to the same message', ({ text, msg }) => {
    const { idAsString } = decodeJson(text);
    expect(decodeJson(encodeJson(msg, { idAsString })).msg).toEqual(msg);
  });

  it('keeps an id above 2^53 exact as a bigint', () => {
    const { msg } = decodeJson(JSON_VECTORS[3]!.text);
    expect(msg.type === 'rpc' && msg.id).toBe(1234605616436508552n);
    expect(BigInt(Number(ID))).not.toBe(ID); // a JS number would have rounded it
  });

  it('reports whether the id arrived as a string', () => {
    expect(decodeJson(JSON_VECTORS[2]!.text).idAsString).toBe(false);
    expect(decodeJson(JSON_VECTORS[8]!.text).idAsString).toBe(true);
  });
});

describe('encodeJson', () => {
  it('writes publish QoS0 and the RPC request exactly as the vectors', () => {
    expect(encodeJson(JSON_VECTORS[0]!.msg)).toBe(JSON_VECTORS[0]!.text);
    expect(encodeJson(JSON_VECTORS[3]!.msg)).toBe(JSON_VECTORS[3]!.text);
  });

  it('writes both type keys, as recommended for TS output', () => {
    expect(encodeJson({ type: 'ack', id: ID })).toBe(`{"jsonrpc":"2.0","id":${BIG},"result":{"type":5,"__type__":5}}`);
  });

  it('writes the id digits exactly, as a number by default', () => {
    expect(encodeJson({ type: 'ack2', id: ID })).toContain(`"id":${BIG},`);
  });
});

describe('WireCodec', () => {
  it('answers a string id with a string id', () => {
    const codec = new WireCodec();
    codec.decode(JSON_VECTORS[9]!.text);
    const reply = codec.encode({ type: 'response', id: ID, status: 0, data: null });
    expect(reply).toBe(`{"jsonrpc":"2.0","id":"${BIG}","result":{"type":4,"__type__":4,"sts":0,"data":null}}`);
  });

  it('answers a numeric id with a numeric id', () => {
    const codec = new WireCodec();
    codec.decode(JSON_VECTORS[6]!.text);
    expect(codec.encode({ type: 'ack', id: ID })).toBe(`{"jsonrpc":"2.0","id":${BIG},"result":{"type":5,"__type__":5}}`);
  });

  it('answers in CBOR again after a binary frame', () => {
    const codec = new WireCodec();
    codec.decode(JSON_VECTORS[9]!.text);
    expect(codec.kind).toBe('json');
    codec.decode(hex(SHORTEST[2]!.hex));
    expect(codec.kind).toBe('cbor');
    expect(toHex(codec.encode({ type: 'ack', id: ID }) as Uint8Array)).toBe(norm(`82 05 ${ID_HEX}`));
  });
});
