/**
 * Rows of a live query in their three forms: canonical (what the writer and the where
 * evaluator see, column-types.ts `coerce`), a polars DataFrame (what `query_<t>` answers, for
 * PY/JL clients) and plain maps (`format: 'rows'`, for TS components, which may have no
 * DataFrame library: timestamps as `Date`, 64-bit integers as bigint, blobs as Uint8Array).
 */
import type { DataFrame } from 'nodejs-polars';
import type { DuckDBValue } from '@duckdb/node-api';
import { EpochNs } from '../dataframe/columns.js';
import type { DbColumn } from './ddl.js';
import { instantNs, rowsToDataFrame } from './frame.js';
import type { ColumnDef, Row } from './types.js';

const INSTANT = /^(DATE|TIMESTAMP)/;

/** A value `DuckDbHandle.read` returned, in the canonical form of its column. */
function canonical(col: ColumnDef, v: DuckDBValue): unknown {
  if (v === null || v === undefined) return null;
  if (INSTANT.test(col.type)) { const ns = instantNs(v); return ns === null ? null : new EpochNs(ns); }
  if (col.type === 'BLOB') return (v as unknown as { bytes: Uint8Array }).bytes;
  return v;
}

/** Rows read by `SELECT <layout columns>` as canonical rows. */
export function canonicalRows(layout: readonly ColumnDef[], read: readonly Record<string, DuckDBValue>[]): Row[] {
  return read.map((r) => layout.map((col) => canonical(col, r[col.name] ?? null)));
}

/** Canonical rows as a DataFrame with the columns' dtypes (as `query_<t>` answers). */
export function rowsFrame(layout: readonly ColumnDef[], rows: readonly Row[]): DataFrame {
  const columns: DbColumn[] = layout.map((c) => ({ name: c.name, type: c.type }));
  return rowsToDataFrame(columns, rows.map((row) => {
    const o: Record<string, DuckDBValue> = {};
    layout.forEach((c, i) => {
      const v = row[i];
      o[c.name] = (v instanceof EpochNs ? { nanos: v.ns } : v instanceof Uint8Array ? { bytes: v } : v ?? null) as DuckDBValue;
    });
    return o;
  }));
}

/** Canonical rows as maps of column name → value (instants as `Date`). */
export function rowsMaps(layout: readonly ColumnDef[], rows: readonly Row[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const o: Record<string, unknown> = {};
    layout.forEach((c, i) => {
      const v = row[i];
      o[c.name] = v instanceof EpochNs ? v.toDate() : v ?? null;
    });
    return o;
  });
}
