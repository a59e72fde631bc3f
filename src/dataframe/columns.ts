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
 * The values of every column of `df`, exactly: Int64/UInt64 as `bigint`, Datetime and Date as
 * {@link EpochNs}, Categorical as text, other columns as polars' `toArray()` gives them.
 * @param df A polars DataFrame.
 * @returns Column name → values (nulls as `null`), in the frame's column order.
 */
export function dataFrameColumns(df: DataFrame): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const series of df.getColumns()) out.set(series.name, seriesValues(series));
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
