import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/index.js';
import { encodeResponseFrame, encodeRpcFrame } from '../../src/codec/rpc-frames.js';
import { EncodeError } from '../../src/errors.js';
import type { ResponseMsg, RpcMsg } from '../../src/protocol/messages.js';
import { nested } from './cbor-arbitraries.js';

const value = nested(fc.oneof(fc.integer(), fc.double(), fc.string(), fc.string({ unit: 'grapheme' }), fc.boolean(), fc.constant(null),
  fc.constant(undefined), fc.uint8Array({ maxLength: 20 }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constant(Date.now()), fc.constant(2 ** 53 - 1)));
const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
// Short and long names, ASCII and not: every text head width up to 3 bytes.
const name = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 250, maxLength: 300 }), fc.constant('x'.repeat(70_000)));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('encodeRpcFrame / encodeResponseFrame', () => {
  it('write the bytes encodeCbor writes for every RPC request', () => {
    fc.assert(fc.property(id, name, fc.option(name), fc.boolean(), fc.array(value, { maxLength: 5 }), (i, topic, target, stream, args) => {
      const msg: RpcMsg = { type: 'rpc', id: i, topic, target, args, stream };
      expect(hex(encodeRpcFrame(msg))).toBe(hex(encodeCbor(msg)));
    }), { numRuns: 400 });
  });

  it('write the bytes encodeCbor writes for every RESPONSE, streaming flags and wide statuses included', () => {
    const stream = fc.constantFrom(undefined, 'item', 'end', 'cancel') as fc.Arbitrary<ResponseMsg['stream']>;
    const status = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 2 ** 32 - 1 }), fc.constant(2 ** 40));
    fc.assert(fc.property(id, status, value, stream, (i, sts, data, s) => {
      const msg: ResponseMsg = { type: 'response', id: i, status: sts, data, ...(s === undefined ? {} : { stream: s }) };
      expect(hex(encodeResponseFrame(msg))).toBe(hex(encodeCbor(msg)));
    }), { numRuns: 400 });
  });

  it('throw EncodeError, as encodeCbor does, for a value CBOR cannot carry', () => {
    const fn = (): number => 1;
    expect(() => encodeRpcFrame({ type: 'rpc', id: 1n, topic: 'm', target: null, args: [fn] })).toThrow(EncodeError);
    expect(() => encodeResponseFrame({ type: 'response', id: 1n, status: 0, data: Symbol('s') })).toThrow(EncodeError);
  });
});
