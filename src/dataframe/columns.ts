/**
 * Exact conversions between polars columns and JS values. nodejs-polars hands 64-bit signed
 * integers out as lossy JS numbers, temporal columns as millisecond `Date`s, and builds an Int64
 * series from bigints as all-null; these helpers go through UInt64 (whose values are bigint)
 * and `reinterpret` so no digit is lost.
 */
import type { DataFrame, Series } from 'nodejs-polars';
import { requirePolars } from './polars.js';

/** An instant as nanoseconds since the Unix epoch: exact where a `Date` keeps only ms. */
export class EpochNs {
  constructor(readonly ns: bigint) {}
  /** The instant as a `Date` (sub-millisecond digits dropped). */
  toDate(): Date {
    return new Date(Number(this.ns / 1_000_000n));
  }
}

/** Time units of polars Datetime columns. */
export type TimeUnit = 'ms' | 'us' | 'ns';

const NS_PER: Record<TimeUnit, bigint> = { ms: 1_000_000n, us: 1_000n, ns: 1n };
const NS_PER_DAY = 86_400_000_000_000n;

/**
 * A polars series as nodejs-polars 0.24 holds it inside its wrappers (`df._df.getColumns()`).
 * Reading columns through it skips the `Series` wrapper, which costs about 1 ms to build (a
 * Proxy around ~300 closures): 5 columns of a 1,000-row frame took 6.5 ms that way, against
 * 0.3 ms for their values.
 */
interface NativeSeries {
  readonly name: string;
  /** A dtype name such as `'Float64'`, or an object for parametrised types (Datetime, List). */
  readonly dtype: unknown;
  nullCount(): number;
  toTypedArray(): ArrayLike<unknown>;
  toArray(): unknown[];
}

/** dtypes whose values polars hands out as one typed array (when the column has no null). */
const TYPED = new Set(['Float64', 'Float32', 'Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64']);
/** dtypes whose native `toArray()` is exact; not Int64 (lossy numbers) nor temporal types (Dates). */
const EXACT_ARRAY = new Set(['Float64', 'Float32', 'Int8', 'Int16', 'Int32', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Bool',
  'String', 'Utf8']);

function nativeColumns(df: DataFrame): NativeSeries[] | undefined {
  const native = (df as { _df?: { getColumns?: unknown } })._df;
  if (typeof native?.getColumns !== 'function') return undefined;
  return (native.getColumns as () => NativeSeries[]).call(native);
}

/**
 * The values of every column of `df`, exactly, with numeric columns without nulls as typed
 * arrays (`Float64Array`, `BigInt64Array`, `Uint32Array`, …: one copy out of polars). Other
 * columns are as {@link dataFrameColumns} gives them.
 * @param df A polars DataFrame.
 * @returns Column name → values (nulls as `null`), in the frame's column order.
 */
export function columnValues(df: DataFrame): Map<string, ArrayLike<unknown>> {
  const columns = nativeColumns(df);
  if (columns === undefined) return new Map(df.getColumns().map((series) => [series.name, seriesValues(series)]));
  const out = new Map<string, ArrayLike<unknown>>();
  for (const s of columns) {
    const dtype = typeof s.dtype === 'string' ? s.dtype : '';
    // toTypedArray on a column with nulls is a Rust panic (caught, but printed): checked first.
    if (TYPED.has(dtype) && s.nullCount() === 0) out.set(s.name, s.toTypedArray());
    else if (EXACT_ARRAY.has(dtype)) out.set(s.name, s.toArray());
    else out.set(s.name, seriesValues(df.getColumn(s.name)));
  }
  return out;
}

/**
 * The values of every column of `df`, exactly: Int64/UInt64 as `bigint`, Datetime and Date as
 * {@link EpochNs}, Categorical as text, other columns as polars' `toArray()` gives them.
 * @param df A polars DataFrame.
 * @returns Column name → values (nulls as `null`), in the frame's column order.
 * @see columnValues, the same values with numeric columns as typed arrays.
 */
export function dataFrameColumns(df: DataFrame): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const [name, values] of columnValues(df)) out.set(name, Array.isArray(values) ? values : Array.from(values));
  return out;
}

/** The values of one polars series, exactly (see {@link dataFrameColumns}). */
export function seriesValues(series: Series): unknown[] {
  const pl = requirePolars();
  const dtype = series.dtype;
  switch (dtype.variant) {
    case 'Int64': return int64Values(series);
    case 'Datetime': {
      const unit = ((dtype as unknown as { inner: unknown[] }).inner[0] ?? 'us') as TimeUnit;
      const factor = NS_PER[unit] ?? 1_000n;
      return int64Values(series.cast(pl.Int64)).map((v) => (v === null ? null : new EpochNs(v * factor)));
    }
    case 'Date':
      return series.cast(pl.Int32).toArray().map((d) => (d === null ? null : new EpochNs(BigInt(d as number) * NS_PER_DAY)));
    case 'Categorical': return series.cast(pl.Utf8).toArray();
    default: return series.toArray() as unknown[];
  }
}

function int64Values(series: Series): (bigint | null)[] {
  return (series.reinterpret(false).toArray() as (bigint | null)[])
    .map((v) => (v === null ? null : BigInt.asIntN(64, v)));
}

/**
 * A polars Int64 series from bigints, exactly (`pl.Series(name, bigints, pl.Int64)` yields nulls).
 * @param name Series name.
 * @param values Signed 64-bit values or null.
 */
export function int64Series(name: string, values: readonly (bigint | null)[]): Series {
  const pl = requirePolars();
  const unsigned = values.map((v) => (v === null ? null : BigInt.asUintN(64, v)));
  return pl.Series(name, unsigned, pl.UInt64).reinterpret(true);
}

/**
 * A polars Datetime series from nanosecond instants, truncated to `unit`.
 * @param name Series name.
 * @param values Nanoseconds since the epoch, or null.
 * @param unit The column's time unit.
 * @param timeZone Optional time zone (e.g. 'UTC').
 */
export function datetimeSeries(name: string, values: readonly (bigint | null)[], unit: TimeUnit,
  timeZone?: string): Series {
  const pl = requirePolars();
  const factor = NS_PER[unit];
  const ticks = values.map((v) => (v === null ? null : floorDiv(v, factor)));
  return int64Series(name, ticks).cast(pl.Datetime(unit, timeZone));
}

/**
 * A polars Date series from nanosecond instants (days since the epoch).
 * @param name Series name.
 * @param values Nanoseconds since the epoch, or null.
 */
export function dateSeries(name: string, values: readonly (bigint | null)[]): Series {
  const pl = requirePolars();
  const days = values.map((v) => (v === null ? null : Number(floorDiv(v, NS_PER_DAY))));
  return pl.Series(name, days, pl.Int32).cast(pl.Date);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}
