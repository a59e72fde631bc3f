/**
 * Query results as polars DataFrames with the dtypes of the DuckDB columns (spec §8.4
 * `query_<t>` returns a DataFrame). Values go through the exact builders of the polars adapter.
 */
import type { DataFrame, Series } from 'nodejs-polars';
import type { DuckDBValue } from '@duckdb/node-api';
import { dateSeries, datetimeSeries, int64Series, requirePolars, type TimeUnit } from '../dataframe/index.js';
import { columnType, ident } from './column-types.js';
import type { DbColumn } from './ddl.js';

/** The instant of a DuckDB DATE/TIMESTAMP value in ns (the value classes name their field by unit). */
export function instantNs(v: DuckDBValue): bigint | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as unknown as Record<string, unknown>;
  if (typeof o['nanos'] === 'bigint') return o['nanos'];
  if (typeof o['micros'] === 'bigint') return o['micros'] * 1_000n;
  if (typeof o['millis'] === 'bigint') return o['millis'] * 1_000_000n;
  if (typeof o['seconds'] === 'bigint') return o['seconds'] * 1_000_000_000n;
  if (typeof o['days'] === 'number') return BigInt(o['days']) * 86_400_000_000_000n;
  return null;
}

const TIME_UNITS: Record<string, [TimeUnit, string | undefined]> = {
  TIMESTAMP: ['us', undefined], TIMESTAMP_S: ['ms', undefined], TIMESTAMP_MS: ['ms', undefined],
  TIMESTAMP_NS: ['ns', undefined], TIMESTAMPTZ: ['us', 'UTC'],
};

/**
 * The SELECT expression of a column: types polars cannot hold exactly are converted in SQL
 * (HUGEINT/UHUGEINT and anything outside the schema types → DOUBLE or VARCHAR).
 */
export function selectExpr(col: DbColumn): string {
  const type = columnType(col.type);
  const name = ident(col.name);
  if (type === 'HUGEINT' || type === 'UHUGEINT' || /^DECIMAL/i.test(col.type)) return `CAST(${name} AS DOUBLE) AS ${name}`;
  if (type === undefined) return `CAST(${name} AS VARCHAR) AS ${name}`;
  return name;
}

function series(col: DbColumn, values: DuckDBValue[]): Series {
  const pl = requirePolars();
  const type = columnType(col.type);
  const name = col.name;
  switch (type) {
    case 'BOOLEAN': return pl.Series(name, values, pl.Bool);
    case 'TINYINT': return pl.Series(name, values, pl.Int8);
    case 'SMALLINT': return pl.Series(name, values, pl.Int16);
    case 'INTEGER': return pl.Series(name, values, pl.Int32);
    case 'UTINYINT': return pl.Series(name, values, pl.UInt8);
    case 'USMALLINT': return pl.Series(name, values, pl.UInt16);
    case 'UINTEGER': return pl.Series(name, values, pl.UInt32);
    case 'BIGINT': return int64Series(name, values as (bigint | null)[]);
    case 'UBIGINT': return pl.Series(name, values, pl.UInt64);
    case 'FLOAT': return pl.Series(name, values, pl.Float32);
    case 'DATE': return dateSeries(name, values.map(instantNs));
    case 'BLOB':
      return pl.Series(name, values.map((v) => (v === null ? null : [...(v as unknown as { bytes: Uint8Array }).bytes])), pl.List(pl.UInt8));
    case 'VARCHAR': case undefined: return pl.Series(name, values, pl.Utf8);
    default: {
      const unit = TIME_UNITS[type];
      if (unit !== undefined) return datetimeSeries(name, values.map(instantNs), unit[0], unit[1]);
      return pl.Series(name, values.map((v) => (v === null ? null : Number(v))), pl.Float64); // DOUBLE, HUGEINT
    }
  }
}

/**
 * A DataFrame from DuckDB row objects, one series per column with the column's dtype:
 * integers keep their width and sign, UBIGINT/BIGINT are exact, TIMESTAMP → Datetime('us'),
 * TIMESTAMP_NS → Datetime('ns'), TIMESTAMP_MS/_S → Datetime('ms'), TIMESTAMPTZ →
 * Datetime('us', 'UTC'), DATE → Date, BLOB → List(UInt8), HUGEINT → Float64.
 * @param columns The selected columns, in order.
 * @param rows The rows `DuckDbHandle.read` returned.
 */
export function rowsToDataFrame(columns: readonly DbColumn[], rows: readonly Record<string, DuckDBValue>[]): DataFrame {
  const pl = requirePolars();
  return pl.DataFrame(columns.map((col) => series(col, rows.map((r) => r[col.name] ?? null))));
}
