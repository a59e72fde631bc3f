/**
 * JSON-RPC ids are unsigned 64-bit integers (spec §2.4, §2.8): every id in 0 … 2^64−1 is kept
 * digit for digit, every other one is refused — never wrapped into range (2^64+1 is not 1).
 */
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from '../../src/codec/index.js';
import { JsonRpcIdError } from '../../src/codec/json.js';
import { DecodeError } from '../../src/errors.js';

const rpc = (id: string): string => `{"jsonrpc":"2.0","id":${id},"method":"f","params":[]}`;
const MAX = '18446744073709551615';

describe('decodeJson ids', () => {
  it.each([
    ['0', 0n], ['1', 1n], ['9007199254740993', 9007199254740993n], [MAX, 2n ** 64n - 1n],
    [`"${MAX}"`, 2n ** 64n - 1n], ['"0"', 0n],
  ])('keeps id %s as %s', (text, id) => {
    expect(decodeJson(rpc(text)).msg).toMatchObject({ type: 'rpc', id });
  });

  it('echoes the largest id digit for digit, as a number or as a string', () => {
    expect(encodeJson({ type: 'response', id: 2n ** 64n - 1n, status: 0, data: 1 })).toContain(`"id":${MAX}`);
    expect(encodeJson({ type: 'response', id: 2n ** 64n - 1n, status: 0, data: 1 }, { idAsString: true }))
      .toContain(`"id":"${MAX}"`);
  });

  it.each([
    ['2^64', '18446744073709551616'], ['2^64+1', '18446744073709551617'], ['2^65', '36893488147419103232'],
    ['2^64 as a string', '"18446744073709551616"'], ['-1', '-1'], ['-2^63', '-9223372036854775808'],
    ['a huge number', '1' + '0'.repeat(400)], ['1e30', '1e30'], ['1.5', '1.5'], ['true', 'true'],
    ['an object', '{"a":1}'], ['a signed string', '"-1"'], ['a padded huge string', `"${'0'.repeat(30)}1"`],
  ])('refuses id %s with JsonRpcIdError, answering a request with id null', (_name, text) => {
    let err: unknown;
    try {
      decodeJson(rpc(text));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonRpcIdError);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe('DECODE');
    const reply = JSON.parse((err as JsonRpcIdError).reply!) as Record<string, unknown>;
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: null,
      error: { code: -32600, message: 'Invalid Request', type: 4, __type__: 4, sts: 10 } });
  });

  it('refuses an integer literal of more than 4096 digits at once, wherever it is (quadratic BigInt parse)', () => {
    expect(() => decodeJson(rpc('9'.repeat(5_000_000)))).toThrow(DecodeError);
    expect(() => decodeJson(`{"jsonrpc":"2.0","method":"t","params":[${'9'.repeat(5_000_000)}]}`)).toThrow(/4096 digits/);
    expect(decodeJson(`{"jsonrpc":"2.0","method":"t","params":[${'9'.repeat(4096)}]}`).msg).toMatchObject({ type: 'pub' });
  });

  it('refuses a publish and a reply with such an id too; a reply gets no answer', () => {
    const pub = '{"jsonrpc":"2.0","id":18446744073709551617,"method":"t","params":{"type":16,"data":[1]}}';
    expect(() => decodeJson(pub)).toThrow(JsonRpcIdError);
    let err: unknown;
    try {
      decodeJson('{"jsonrpc":"2.0","id":18446744073709551617,"result":{"type":5}}');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonRpcIdError);
    expect((err as JsonRpcIdError).reply).toBeUndefined();
  });
});
