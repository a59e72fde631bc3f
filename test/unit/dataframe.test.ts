/**
 * DataFrames on the wire (spec §7): tag 80 around Arrow IPC stream bytes, one level deep,
 * exact round trips of integer, float, text, boolean and datetime columns with nulls.
 */
import { Tag } from 'cbor-x';
import pl from 'nodejs-polars';
import type { DataFrame } from 'nodejs-polars';
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeValue, encodeCbor, encodeValue } from '../../src/codec/index.js';
import {
  columnValues, dataFrameColumns, dataFrameToTag, decodeDataFrames, decodeResult, encodeDataFrames, encodeResult,
  EpochNs, int64Series, isDataFrame, isDataFrameTag, tagToDataFrame,
} from '../../src/dataframe/index.js';
import { DecodeError } from '../../src/errors.js';

/** Publish `args` through the CBOR codec and read them back as the subscriber sees them. */
function throughWire(args: unknown[]): unknown[] {
  const frame = encodeCbor({ type: 'pub', flags: 0, topic: 'frames', args: encodeDataFrames(args) });
  const msg = decodeCbor(frame);
  if (msg.type !== 'pub') throw new Error(`expected a publish, got ${msg.type}`);
  return decodeDataFrames(msg.args);
}

function sample(): DataFrame {
  return pl.DataFrame([
    pl.Series('i8', [-128, null, 127], pl.Int8),
    pl.Series('i32', [-2147483648, 0, null], pl.Int32),
    int64Series('i64', [-(2n ** 63n), null, 2n ** 63n - 1n]),
    pl.Series('u8', [0, 255, null], pl.UInt8),
    pl.Series('u64', [0n, null, 2n ** 64n - 1n], pl.UInt64),
    pl.Series('f64', [1.5, null, -0.25], pl.Float64),
    pl.Series('f32', [null, 3.5, 1e10], pl.Float32),
    pl.Series('s', ['a', null, 'zé 漢'], pl.Utf8),
    pl.Series('b', [true, null, false], pl.Bool),
    pl.Series('dms', [new Date(1), null, new Date(1_700_000_000_123)], pl.Datetime('ms')),
    int64Series('dus', [1_700_000_000_123_456n, null, -1n]).cast(pl.Datetime('us')),
    int64Series('dns', [1_700_000_000_123_456_789n, 5n, null]).cast(pl.Datetime('ns')),
  ]);
}

describe('columnValues', () => {
  it('hands numeric columns without nulls out as typed arrays, the others exactly as before', () => {
    const full = pl.DataFrame([
      pl.Series('f64', [1.5, -0.25], pl.Float64), pl.Series('f32', [3.5, 1e10], pl.Float32),
      pl.Series('i8', [-128, 127], pl.Int8), int64Series('i64', [-(2n ** 63n), 2n ** 63n - 1n]),
      pl.Series('u32', [0, 4294967295], pl.UInt32), pl.Series('u64', [0n, 2n ** 64n - 1n], pl.UInt64),
      pl.Series('c', ['x', 'y'], pl.Categorical),
    ]);
    const typed = columnValues(full);
    expect([...typed.values()].map((v) => v.constructor.name)).toEqual(['Float64Array', 'Float32Array', 'Int8Array',
      'BigInt64Array', 'Uint32Array', 'BigUint64Array', 'Array']);
    expect(Array.from(typed.get('i64')!)).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
    expect(Array.from(typed.get('u64')!)).toEqual([0n, 2n ** 64n - 1n]);
    expect(typed.get('c')).toEqual(['x', 'y']);
    // Columns with nulls, text, booleans and instants come as arrays, exact (Int64 too).
    const withNulls = columnValues(sample());
    expect([...withNulls.values()].every(Array.isArray)).toBe(true);
    expect(withNulls.get('i64')).toEqual([-(2n ** 63n), null, 2n ** 63n - 1n]);
    expect(withNulls.get('dns')).toEqual([new EpochNs(1_700_000_000_123_456_789n), new EpochNs(5n), null]);
  });

  it('reads a frame of several chunks whole', () => {
    const df = pl.DataFrame({ x: [1.5, 2.5] }).vstack(pl.DataFrame({ x: [3.5] }));
    expect(Array.from(columnValues(df).get('x')!)).toEqual([1.5, 2.5, 3.5]);
    expect(dataFrameColumns(df).get('x')).toEqual([1.5, 2.5, 3.5]);
  });
});

describe('encodeDataFrames / decodeDataFrames', () => {
  it('round-trips every column type with nulls exactly when published as args', () => {
    const df = sample();
    const [back, text] = throughWire([df, 'tail']);
    expect(isDataFrame(back)).toBe(true);
    const got = back as DataFrame;
    expect(got.dtypes.map(String)).toEqual(df.dtypes.map(String));
    expect(got.frameEqual(df, true)).toBe(true);
    expect(text).toBe('tail');
    const cols = dataFrameColumns(got);
    expect(cols.get('i64')).toEqual([-(2n ** 63n), null, 2n ** 63n - 1n]);
    expect(cols.get('u64')).toEqual([0n, null, 2n ** 64n - 1n]);
    expect(cols.get('dns')).toEqual([new EpochNs(1_700_000_000_123_456_789n), new EpochNs(5n), null]);
    expect(cols.get('dus')).toEqual([new EpochNs(1_700_000_000_123_456_000n), null, new EpochNs(-1000n)]);
  });

  it('round-trips an empty DataFrame with its schema', () => {
    const df = pl.DataFrame([pl.Series('a', [], pl.Int32), pl.Series('s', [], pl.Utf8),
      pl.Series('t', [], pl.Datetime('us'))]);
    const [back] = throughWire([df]);
    expect((back as DataFrame).height).toBe(0);
    expect((back as DataFrame).columns).toEqual(['a', 's', 't']);
    expect((back as DataFrame).dtypes.map(String)).toEqual(df.dtypes.map(String));
  });

  it('writes the Arrow IPC stream format, not the file format', () => {
    const tag = dataFrameToTag(sample());
    expect(tag.tag).toBe(80);
    const bytes = tag.value as Uint8Array;
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(Buffer.from(bytes.subarray(0, 6)).toString('latin1')).not.toBe('ARROW1');
    // The stream ends with the end-of-stream marker.
    expect([...bytes.subarray(bytes.length - 8)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    const encoded = encodeValue(tag);
    expect([...encoded.subarray(0, 2)]).toEqual([0xd8, 0x50]);
  });

  it('returns the same array when nothing converts', () => {
    const args = [1, 'a', { b: 2 }];
    expect(encodeDataFrames(args)).toBe(args);
    expect(decodeDataFrames(args)).toBe(args);
  });

  it('converts top-level elements only, leaving a nested tag as a Tag', () => {
    const tag = dataFrameToTag(sample());
    const args = decodeValue(encodeValue([tag, [tag], { df: tag }])) as unknown[];
    const out = decodeDataFrames(args);
    expect(isDataFrame(out[0])).toBe(true);
    expect(isDataFrameTag((out[1] as unknown[])[0])).toBe(true);
    expect(isDataFrameTag((out[2] as Record<string, unknown>)['df'])).toBe(true);
    expect(args[0]).toBeInstanceOf(Tag); // the input array is not modified
  });
});

describe('encodeResult / decodeResult', () => {
  it('converts a DataFrame result and DataFrame elements of an array result', () => {
    const df = sample();
    const one = decodeResult(decodeValue(encodeValue(encodeResult(df))));
    expect((one as DataFrame).frameEqual(df, true)).toBe(true);
    const many = decodeResult(decodeValue(encodeValue(encodeResult([df, 3])))) as unknown[];
    expect((many[0] as DataFrame).frameEqual(df, true)).toBe(true);
    expect(many[1]).toBe(3);
    expect(encodeResult(7)).toBe(7);
    expect(decodeResult('x')).toBe('x');
  });
});

describe('tagToDataFrame', () => {
  it('throws DecodeError for bytes that are not an Arrow IPC stream', () => {
    expect(() => tagToDataFrame(new Tag(Uint8Array.of(1, 2, 3), 80))).toThrow(DecodeError);
    expect(() => tagToDataFrame(new Tag('text', 80))).toThrow(DecodeError);
    expect(() => tagToDataFrame(new Tag(Uint8Array.of(), 81))).toThrow(DecodeError);
  });
});

describe('isDataFrame', () => {
  it('recognises polars frames only', () => {
    expect(isDataFrame(sample())).toBe(true);
    expect(isDataFrame({ a: 1 })).toBe(false);
    expect(isDataFrame(null)).toBe(false);
    expect(isDataFrame(pl.Series('a', [1]))).toBe(false);
  });
});
