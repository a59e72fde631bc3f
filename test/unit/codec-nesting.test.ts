import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeJson, encodeCbor } from '../../src/codec/index.js';
import { cborNestingExceeds, jsonNestingExceeds, MAX_NESTING } from '../../src/codec/nesting.js';
import { DecodeError } from '../../src/errors.js';

const repeat = (unit: number[], n: number): number[] => Array.from({ length: n }, () => unit).flat();

describe('cborNestingExceeds', () => {
  it.each([
    ['a flat array', [0x83, 0x01, 0x02, 0x03], false],
    ['arrays 500 deep', [...repeat([0x81], 499), 0xf6], false],
    ['arrays 501 deep', [...repeat([0x81], 501), 0xf6], true],
    ['maps 501 deep', [...repeat([0xa1, 0x61, 0x6b], 501), 0xf6], true],
    ['tags 501 deep', [...repeat([0xd8, 0x50], 501), 0xf6], true],
    ['indefinite arrays 501 deep', [...repeat([0x9f], 501), 0xf6, ...repeat([0xff], 501)], true],
    ['two siblings 300 deep each', [0x82, ...repeat([0x81], 300), 0xf6, ...repeat([0x81], 300), 0xf6], false],
    ['a long byte string (skipped, not scanned)', [0x81, 0x5a, 0x00, 0x00, 0x04, 0x00, ...repeat([0x81], 1024)], false],
    ['a head claiming 2^64 items', [0x9b, ...repeat([0xff], 8), ...repeat([0x00], 600)], false],
    ['truncated input', repeat([0x81], 400), false],
  ])('%s → %s', (_name, bytes, expected) => {
    expect(cborNestingExceeds(Uint8Array.from(bytes as number[]))).toBe(expected);
  });

  it('makes decodeCbor refuse deep frames with a DecodeError, and leaves big flat ones alone', () => {
    const deep = Uint8Array.from([0x83, 0x01, 0x61, 0x74, ...repeat([0x81], 10_000), 0xf6]);
    expect(() => decodeCbor(deep)).toThrow(DecodeError);
    expect(() => decodeCbor(deep)).toThrow(`nested deeper than ${MAX_NESTING} levels`);
    const flat = encodeCbor({ type: 'pub', flags: 0, topic: 't', args: Array.from({ length: 10_000 }, (_, i) => [i, { a: i }]) });
    expect(decodeCbor(flat).type).toBe('pub');
  });
});

describe('jsonNestingExceeds', () => {
  it.each([
    ['500 deep', `${'['.repeat(500)}${']'.repeat(500)}`, false],
    ['501 deep', `${'['.repeat(501)}${']'.repeat(501)}`, true],
    ['objects 501 deep', `${'{"a":'.repeat(501)}1${'}'.repeat(501)}`, true],
    ['brackets inside strings', `["${'['.repeat(1000)}", "\\"${'{'.repeat(1000)}"]`, false],
  ])('%s → %s', (_name, text, expected) => {
    expect(jsonNestingExceeds(text)).toBe(expected);
  });

  it('makes decodeJson refuse deep frames with a DecodeError', () => {
    expect(() => decodeJson(`{"jsonrpc":"2.0","method":"t","params":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)).toThrow(DecodeError);
  });
});
