import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor, encodeValue } from '../../src/codec/index.js';
import { decodeLazyCall, LazyResponse, LazyRpc, simpleWellFormed } from '../../src/codec/lazy-rpc.js';
import { cborWellFormed } from '../../src/codec/well-formed.js';
import { DecodeError } from '../../src/errors.js';
import type { ResponseMsg, RpcMsg } from '../../src/protocol/messages.js';
import { unsignedValue } from './cbor-arbitraries.js';

const value = unsignedValue;
const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const name = fc.string({ minLength: 1, maxLength: 300 });
const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));

/** The fields a router reads, from the lazy and the full decoder alike. */
const rpcFields = (m: RpcMsg): unknown => ({ type: m.type, id: m.id, topic: m.topic, target: m.target, stream: m.stream ?? false, args: m.args });
const responseFields = (m: ResponseMsg): unknown => ({ type: m.type, id: m.id, status: m.status, stream: m.stream, data: m.data });

describe('decodeLazyCall', () => {
  it('reads the RPC vectors (spec vectors §5, JL 9-byte ints too) as decodeCbor does', () => {
    for (const hex of [
      '85 02 48 88 77 66 55 44 33 22 11 69 6d 79 73 65 72 76 69 63 65 f6 82 01 02',
      '85 02 48 88 77 66 55 44 33 22 11 69 6d 79 73 65 72 76 69 63 65 63 73 72 76 82 01 02',
      '85 02 48 88 77 66 55 44 33 22 11 69 6d 79 73 65 72 76 69 63 65 f6 82 1b 00 00 00 00 00 00 00 01 1b 00 00 00 00 00 00 00 02',
    ]) {
      const lazy = decodeLazyCall(bytes(hex));
      expect(lazy).toBeInstanceOf(LazyRpc);
      expect(rpcFields(lazy as LazyRpc)).toEqual(rpcFields(decodeCbor(bytes(hex)) as RpcMsg));
      expect((lazy as LazyRpc).args).toEqual([1, 2]);
    }
  });

  it('reads the RESPONSE vectors (spec vectors §6, §7) as decodeCbor does', () => {
    for (const hex of [
      '84 04 48 88 77 66 55 44 33 22 11 00 03',
      '84 04 48 88 77 66 55 44 33 22 11 00 1b 00 00 00 00 00 00 00 03',
      '84 04 48 88 77 66 55 44 33 22 11 00 f6',
      '84 04 48 88 77 66 55 44 33 22 11 18 2a 69 6d 79 73 65 72 76 69 63 65',
      '84 04 48 88 77 66 55 44 33 22 11 18 28 64 62 6f 6f 6d',
      '84 04 48 88 77 66 55 44 33 22 11 0b 44 01 02 03 04',
      '84 04 48 88 77 66 55 44 33 22 11 1b 00 00 00 00 00 00 00 2a f6', // a JL-width status
    ]) {
      const lazy = decodeLazyCall(bytes(hex));
      expect(lazy).toBeInstanceOf(LazyResponse);
      expect(responseFields(lazy as LazyResponse)).toEqual(responseFields(decodeCbor(bytes(hex)) as ResponseMsg));
    }
  });

  it('reads every canonical RPC frame as decodeCbor does', () => {
    fc.assert(fc.property(id, name, fc.option(name), fc.boolean(), fc.array(value, { maxLength: 5 }), (i, topic, target, stream, args) => {
      const frame = encodeCbor({ type: 'rpc', id: i, topic, target, args, stream });
      const lazy = decodeLazyCall(frame);
      expect(lazy).toBeInstanceOf(LazyRpc);
      expect(rpcFields(lazy as LazyRpc)).toEqual(rpcFields(decodeCbor(frame) as RpcMsg));
    }), { numRuns: 500 });
  });

  it('reads every canonical RESPONSE frame, streaming flags included, as decodeCbor does', () => {
    const stream = fc.constantFrom(undefined, 'item', 'end', 'cancel') as fc.Arbitrary<ResponseMsg['stream']>;
    fc.assert(fc.property(id, fc.nat({ max: 70_000 }), value, stream, (i, status, data, s) => {
      const frame = encodeCbor({ type: 'response', id: i, status, data, ...(s === undefined ? {} : { stream: s }) });
      const lazy = decodeLazyCall(frame);
      expect(lazy).toBeInstanceOf(LazyResponse);
      expect(responseFields(lazy as LazyResponse)).toEqual(responseFields(decodeCbor(frame) as ResponseMsg));
    }), { numRuns: 500 });
  });

  it('leaves every strict prefix and every other shape to the full decoder', () => {
    const rpc = encodeCbor({ type: 'rpc', id: 1n, topic: 'm', target: 'srv', args: [1, [2, 'x']] });
    const response = encodeCbor({ type: 'response', id: 1n, status: 0, data: { a: [1, 2] } });
    for (const frame of [rpc, response]) {
      for (let n = 0; n < frame.length; n++) expect(decodeLazyCall(frame.subarray(0, n))).toBeUndefined();
      expect(decodeLazyCall(Uint8Array.from([...frame, 0x00]))).toBeUndefined(); // trailing byte
    }
    const rpcHead = '85 02 48 88 77 66 55 44 33 22 11 61 6d';
    expect(decodeLazyCall(bytes(`${rpcHead} 01 80`))).toBeUndefined();          // a number as target
    expect(decodeLazyCall(bytes(`${rpcHead} f6 82 01 ff`))).toBeUndefined();    // malformed args
    expect(decodeLazyCall(bytes(`${rpcHead} f6 1c`))).toBeUndefined();          // reserved head
    expect(decodeLazyCall(bytes('85 02 47 88 77 66 55 44 33 22 61 6d f6 80'))).toBeUndefined(); // a 7-byte id
    expect(decodeLazyCall(bytes('85 02 48 88 77 66 55 44 33 22 11 60 f6 80'))).toBeUndefined(); // empty topic
    expect(decodeLazyCall(bytes('85 04 48 88 77 66 55 44 33 22 11 61 6d f6 80'))).toBeUndefined(); // 5 elements, RESPONSE
    expect(decodeLazyCall(bytes('84 02 48 88 77 66 55 44 33 22 11 61 6d 80'))).toBeUndefined(); // 4 elements, RPC
    expect(decodeLazyCall(bytes('83 04 48 88 77 66 55 44 33 22 11 00'))).toBeUndefined();    // data omitted
    expect(decodeLazyCall(bytes('84 04 48 88 77 66 55 44 33 22 11 20 f6'))).toBeUndefined(); // negative status
    expect(decodeLazyCall(bytes('84 04 48 88 77 66 55 44 33 22 11 1b 00 20 00 00 00 00 00 00 f6'))).toBeUndefined(); // status > 2^53
    expect(decodeLazyCall(bytes('9f 04 48 88 77 66 55 44 33 22 11 00 f6 ff'))).toBeUndefined(); // indefinite frame
    expect(decodeLazyCall(encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [1] }))).toBeUndefined();
  });

  it('throws DecodeError from args or data that are well formed but that cbor-x refuses', () => {
    const rpc = decodeLazyCall(bytes('85 02 48 88 77 66 55 44 33 22 11 61 6d f6 81 e0')) as LazyRpc; // simple(0)
    expect(rpc.topic).toBe('m');
    expect(() => rpc.args).toThrow(DecodeError);
    const response = decodeLazyCall(bytes('84 04 48 88 77 66 55 44 33 22 11 00 d8 1d 00')) as LazyResponse; // tag 29
    expect(response.status).toBe(0);
    expect(() => response.data).toThrow(DecodeError);
  });
});

describe('simpleWellFormed', () => {
  it('never calls well formed what the general check refuses, and knows the usual args', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 24 }), (b) => {
      if (simpleWellFormed(b, 0, b.length)) expect(cborWellFormed(b, 0, b.length, 500)).toBe(true);
    }), { numRuns: 50_000 });
    for (const v of [[1, 2], [Date.now(), -3, 1.5, 'add', null, true], 'text', 42, null, new Uint8Array(3)]) {
      const b = encodeValue(v);
      expect(simpleWellFormed(b, 0, b.length)).toBe(true);
    }
    expect(simpleWellFormed(encodeValue([[1]]), 0, 3)).toBe(false); // nested: the general check's job
  });

  it('reads a name again from its cache, not from stale bytes', () => {
    const frame = (topic: string): Uint8Array => encodeCbor({ type: 'rpc', id: 1n, topic, target: null, args: [] });
    const a = Buffer.from(frame('alpha'));
    expect((decodeLazyCall(a) as LazyRpc).topic).toBe('alpha');
    a.fill(0x61, 12, 17); // the frame's buffer now holds "aaaaa" (same cache slot): the cache kept its own copy
    expect((decodeLazyCall(frame('aaaaa')) as LazyRpc).topic).toBe('aaaaa');
    expect((decodeLazyCall(frame('alpha')) as LazyRpc).topic).toBe('alpha');
    expect((decodeLazyCall(frame('alphb')) as LazyRpc).topic).toBe('alphb');
    expect((decodeLazyCall(frame('añpha')) as LazyRpc).topic).toBe('añpha');
  });
});
