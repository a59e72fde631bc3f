/**
 * The streaming RPC flags (README "Streaming RPC on the wire") in both encodings: RPC | 0x20,
 * RESPONSE | 0x20 item, | 0x30 end, | 0x40 cancel; ordinary messages keep their exact shape,
 * and other flag values are masked as the references mask them (spec §2.3).
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeJson, encodeCbor, encodeJson } from '../../src/codec/index.js';
import type { Msg } from '../../src/protocol/messages.js';

const ID = 0x1122334455667788n;
const ID_HEX = '48 88 77 66 55 44 33 22 11';

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

const cases: [string, Msg, string][] = [
  ['streaming request', { type: 'rpc', id: ID, topic: 'c', target: null, args: [3], stream: true },
    `85 18 22 ${ID_HEX} 61 63 f6 81 03`],
  ['stream item', { type: 'response', id: ID, status: 0, data: 7, stream: 'item' }, `84 18 24 ${ID_HEX} 00 07`],
  ['stream end', { type: 'response', id: ID, status: 0, data: null, stream: 'end' }, `84 18 34 ${ID_HEX} 00 f6`],
  ['cancel', { type: 'response', id: ID, status: 0, data: null, stream: 'cancel' }, `84 18 44 ${ID_HEX} 00 f6`],
  ['ordinary request', { type: 'rpc', id: ID, topic: 'c', target: null, args: [] }, `85 02 ${ID_HEX} 61 63 f6 80`],
  ['ordinary response', { type: 'response', id: ID, status: 0, data: 1 }, `84 04 ${ID_HEX} 00 01`],
];

describe('streaming flags in CBOR', () => {
  it.each(cases)('encodes and decodes a %s', (_name, msg, bytes) => {
    expect(toHex(encodeCbor(msg))).toBe(bytes);
    expect(decodeCbor(hex(bytes))).toEqual(msg);
  });

  it('masks flags it does not know, as the references do', () => {
    expect(decodeCbor(hex(`85 12 ${ID_HEX} 61 63 f6 80`))).toEqual({ type: 'rpc', id: ID, topic: 'c', target: null, args: [] });
    expect(decodeCbor(hex(`84 14 ${ID_HEX} 00 01`))).toEqual({ type: 'response', id: ID, status: 0, data: 1 });
  });
});

describe('streaming flags in JSON-RPC', () => {
  it.each(cases)('round-trips a %s', (_name, msg) => {
    expect(decodeJson(encodeJson(msg)).msg).toEqual(msg);
  });

  it('writes "stream" at the top of a request and inside a result object', () => {
    expect(encodeJson(cases[0]![1])).toBe('{"jsonrpc":"2.0","id":1234605616436508552,"method":"c","params":[3],"stream":true}');
    expect(encodeJson(cases[3]![1]))
      .toBe('{"jsonrpc":"2.0","id":1234605616436508552,"result":{"type":4,"__type__":4,"sts":0,"data":null,"stream":"cancel"}}');
  });

  it('ignores a "stream" value it does not know', () => {
    expect(decodeJson('{"jsonrpc":"2.0","id":1,"method":"c","params":[],"stream":"yes"}').msg)
      .toEqual({ type: 'rpc', id: 1n, topic: 'c', target: null, args: [] });
    expect(decodeJson('{"jsonrpc":"2.0","id":1,"result":{"type":4,"sts":0,"data":2,"stream":"more"}}').msg)
      .toEqual({ type: 'response', id: 1n, status: 0, data: 2 });
  });
});
