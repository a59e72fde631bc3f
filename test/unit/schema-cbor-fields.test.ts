/**
 * CborFields: a publish's args read from the publisher's CBOR bytes must give exactly what the
 * codec's decoder gives (decodeValue + argsOf), or decline so that the decoder decides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argsOf, decodeValue, encodeValue } from '../../src/codec/cbor.js';
import { CborFields } from '../../src/schema/cbor-fields.js';

const LONG = 'a_column_name_longer_than_23_bytes';
const COLUMNS = ['site', 'dn', 'temperature', 'pressure', 'ts', 'constructor', LONG];

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)?.map((b) => parseInt(b, 16)) ?? []);

/** What the decoder makes of `bytes`, in the reader's terms. */
function decoded(bytes: Uint8Array): { map?: unknown[]; list?: unknown[] } {
  const args = argsOf(decodeValue(bytes));
  const first = args[0];
  if (args.length === 1 && first !== null && typeof first === 'object' && !Array.isArray(first)) {
    return { map: COLUMNS.map((c) => (Object.hasOwn(first, c) ? (first as Record<string, unknown>)[c] : undefined)) };
  }
  return { list: args };
}

function read(fields: CborFields, bytes: Uint8Array): { map?: unknown[]; list?: unknown[] } | false {
  const shape = fields.read(bytes);
  if (shape === false) return false;
  return shape === 'map' ? { map: COLUMNS.map((_, c) => fields.value(c)) } : { list: fields.list.slice(0, fields.listLength) };
}

describe('CborFields', () => {
  const payloads: unknown[][] = [
    [{ temperature: 21.5, pressure: 1013.25, ts: 1_733_526_000_123 }],
    [{ site: 's', dn: 'd', temperature: -0, pressure: 1e300, ts: 0 }],
    [{ temperature: 2 ** 53 - 1, pressure: -(2 ** 53) + 1, ts: 2n ** 64n - 1n }],
    [{ temperature: -(2n ** 63n), pressure: 2n ** 53n, ts: -(2n ** 53n) }],
    [{ temperature: null, pressure: true, ts: false, other: 'ignored', more: 1.5 }],
    [{ constructor: 'x', dn: 'a'.repeat(30), site: '', [LONG]: 5 }],
    [{}],
    ['s1', 21.5, 7, -7, 4_294_967_296, null, true, 'text'],
    [],
    [42],
  ];

  it.each(payloads.map((p) => [JSON.stringify(p, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)), p]))(
    'reads %s as the decoder does', (_, payload) => {
      const bytes = encodeValue(payload);
      const fields = new CborFields(COLUMNS);
      const got = read(fields, bytes);
      expect(got).not.toBe(false);
      expect(got).toEqual(decoded(bytes));
    });

  it.each([
    ['a half float', 'a1 6b74656d7065726174757265 f9 3e00'],
    ['a single float', 'a1 6b74656d7065726174757265 fa 41ac0000'],
    ['a small integer in 8 bytes', 'a1 62 7473 1b 0000000000000005'],
    ['the largest negative integer', 'a1 62 7473 3b ffffffffffffffff'],
    ['-2^53 in 8 bytes', 'a1 62 7473 3b 001fffffffffffff'],
    ['a bare map (a non-array payload is one argument)', 'a1 62 646e 61 78'],
    ['null args (none)', 'f6'],
    ['an infinite half float', '81 f9 7c00'],
  ])('reads %s as the decoder does', (_, h) => {
    const bytes = hex(h);
    const got = read(new CborFields(COLUMNS), bytes);
    if (h === 'f6') { expect(got).toBe(false); return; } // not a shape it takes: decoded instead
    expect(got).toEqual(decoded(bytes));
  });

  it('treats CBOR undefined as an absent field, as the row mapping treats a decoded undefined', () => {
    const fields = new CborFields(COLUMNS);
    expect(fields.read(hex('81 a1 62 646e f7'))).toBe('map');
    expect(fields.value(1)).toBeUndefined();
  });

  it.each([
    ['a key given twice (the decoder keeps the last)', '81 a2 62 646e 61 61 62 646e 61 62'],
    ['non-ASCII text', '81 a1 62 646e 62 c3a9'],
    ['a nested map', '81 a1 62 646e a0'],
    ['a nested array under an unknown key', '81 a1 61 78 80'],
    ['a byte string', '81 a1 62 646e 41 00'],
    ['a tag (a DataFrame is tag 80)', '81 d8 50 40'],
    ['an indefinite map', '81 bf ff'],
    ['an indefinite array', '9f a0 ff'],
    ['a non-text key', '81 a1 01 02'],
    ['trailing bytes', '81 a1 62 646e 61 61 00'],
    ['a truncated double', '81 a1 62 646e fb 0000'],
    ['a truncated text', '81 a1 62 646e 65 6161'],
    ['a truncated key', '81 a1 78 20 6161'],
    ['a missing value', '81 a1 62 646e'],
    ['undefined in a list', '82 01 f7'],
    ['a simple value', '81 e0'],
    ['empty input', ''],
    ['a list of two maps', '82 a1 62 646e 01 a1 62 646e 02'],
  ])('declines %s', (_, h) => {
    expect(new CborFields(COLUMNS).read(hex(h))).toBe(false);
  });

  it('forgets the fields of the previous read, and reads at any offset of a shared buffer', () => {
    const fields = new CborFields(COLUMNS);
    expect(fields.read(encodeValue([{ site: 'a', dn: 'b' }]))).toBe('map');
    const inner = encodeValue([{ dn: 'c', ts: 1_733_526_000_123 }]);
    const shared = new Uint8Array(inner.length + 7);
    shared.set(inner, 5);
    expect(fields.read(shared.subarray(5, 5 + inner.length))).toBe('map');
    expect(COLUMNS.map((_, c) => fields.value(c))).toEqual([undefined, 'c', undefined, undefined, 1_733_526_000_123, undefined, undefined]);
  });

  it('finds keys whatever their order, after learning another order', () => {
    const fields = new CborFields(COLUMNS);
    fields.read(encodeValue([{ temperature: 1, pressure: 2, ts: 3 }]));
    expect(fields.read(encodeValue([{ ts: 30, temperature: 10, site: 'x' }]))).toBe('map');
    expect(COLUMNS.map((_, c) => fields.value(c))).toEqual(['x', undefined, 10, undefined, 30, undefined, undefined]);
  });

  const scalar = fc.oneof(fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.maxSafeInteger(), fc.string({ maxLength: 30 }), fc.boolean(), fc.constant(null), fc.constant(undefined));
  const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.uint8Array({ maxLength: 3 }));
  const key = fc.oneof(fc.constantFrom(...COLUMNS), fc.string({ maxLength: 6 }));

  it('agrees with the decoder on every payload it reads, maps and lists alike (property)', () => {
    fc.assert(fc.property(fc.oneof(
      fc.dictionary(key, value, { maxKeys: 6 }).map((m) => [m]),
      fc.array(value, { maxLength: 6 }),
    ), (payload) => {
      const bytes = encodeValue(payload);
      const got = read(new CborFields(COLUMNS), bytes);
      if (got !== false) expect(got).toEqual(decoded(bytes));
    }), { numRuns: 3_000 });
  });

  it('never throws on arbitrary bytes, and agrees with the decoder whenever it reads them (property)', () => {
    // Heads of the shapes it takes, then anything: random bytes alone seldom start a map.
    const heads = fc.constantFrom([], [0x81, 0xa1], [0x81, 0xa2, 0x62, 0x64, 0x6e], [0xa1], [0x82], [0x83]);
    fc.assert(fc.property(heads, fc.uint8Array({ minLength: 0, maxLength: 30 }), (head, tail) => {
      const bytes = Uint8Array.from([...head, ...tail]);
      const fields = new CborFields(COLUMNS);
      const got = read(fields, bytes);
      if (got === false) return;
      let want: ReturnType<typeof decoded> | undefined;
      try {
        want = decoded(bytes);
      } catch {
        want = undefined; // read takes only what the decoder reads: this must not happen
      }
      expect(want).toBeDefined();
      expect(got).toEqual(want);
    }), { numRuns: 20_000 });
  });
});
