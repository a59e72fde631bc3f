/**
 * Appender calls per column type. Values arrive already coerced by the row mapping
 * (`coerce`), so each function only picks the right Appender method.
 */
import {
  DuckDBDateValue, DuckDBTimestampMillisecondsValue, DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue, DuckDBTimestampTZValue, DuckDBTimestampValue,
} from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { EpochNs } from '../dataframe/columns.js';
import type { ColumnType } from './column-types.js';

/** Appends one non-null value of a column. */
export type AppendFn = (appender: DuckDBAppender, value: unknown) => void;

/** Floor division: instants before 1970 round down, as DuckDB does. */
function per(ns: bigint, unit: bigint): bigint {
  const q = ns / unit;
  return ns % unit !== 0n && ns < 0n ? q - 1n : q;
}
const ns = (v: unknown): bigint => (v as EpochNs).ns;

const APPEND: Record<ColumnType, AppendFn> = {
  BOOLEAN: (a, v) => a.appendBoolean(v as boolean),
  TINYINT: (a, v) => a.appendTinyInt(v as number),
  SMALLINT: (a, v) => a.appendSmallInt(v as number),
  INTEGER: (a, v) => a.appendInteger(v as number),
  BIGINT: (a, v) => a.appendBigInt(v as bigint),
  HUGEINT: (a, v) => a.appendHugeInt(v as bigint),
  UTINYINT: (a, v) => a.appendUTinyInt(v as number),
  USMALLINT: (a, v) => a.appendUSmallInt(v as number),
  UINTEGER: (a, v) => a.appendUInteger(v as number),
  UBIGINT: (a, v) => a.appendUBigInt(v as bigint),
  UHUGEINT: (a, v) => a.appendUHugeInt(v as bigint),
  FLOAT: (a, v) => a.appendFloat(v as number),
  DOUBLE: (a, v) => a.appendDouble(v as number),
  VARCHAR: (a, v) => a.appendVarchar(v as string),
  BLOB: (a, v) => a.appendBlob(v as Uint8Array),
  DATE: (a, v) => a.appendDate(new DuckDBDateValue(Number(per(ns(v), 86_400_000_000_000n)))),
  TIMESTAMP: (a, v) => a.appendTimestamp(new DuckDBTimestampValue(per(ns(v), 1_000n))),
  TIMESTAMP_S: (a, v) => a.appendTimestampSeconds(new DuckDBTimestampSecondsValue(per(ns(v), 1_000_000_000n))),
  TIMESTAMP_MS: (a, v) => a.appendTimestampMilliseconds(new DuckDBTimestampMillisecondsValue(per(ns(v), 1_000_000n))),
  TIMESTAMP_NS: (a, v) => a.appendTimestampNanoseconds(new DuckDBTimestampNanosecondsValue(ns(v))),
  TIMESTAMPTZ: (a, v) => a.appendTimestampTZ(new DuckDBTimestampTZValue(per(ns(v), 1_000n))),
};

/** The Appender call for a column type (nulls are appended with `appendNull` by the caller). */
export function appendFn(type: ColumnType): AppendFn {
  return APPEND[type];
}
