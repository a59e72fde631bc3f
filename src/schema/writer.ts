/**
 * Writing rows of one schema table (spec §8.3 step 7), column-wise through DuckDB data chunks.
 * Append-only tables take the chunks directly; keyed tables collapse the rows by key, append
 * them to a temporary table and merge it with `INSERT … ON CONFLICT (keys) DO UPDATE`; tables
 * with columns the schema lacks go through the same temporary table so those get their defaults.
 */
import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import { EpochNs } from '../dataframe/columns.js';
import { appendColumns, type ColumnSource, type RawVector } from '../store/duckdb/append-columns.js';
import { ColumnBatch } from './column-batch.js';
import { ident } from './column-types.js';
import { isStaged, mergeTableName, type TableCatalog } from './ddl.js';
import type { Row, TableDef } from './types.js';

/** How a keyed write treats nulls: PY keeps the stored value unless `nulls` is set (§8.4). */
export interface MergeOptions {
  /** Overwrite stored values with nulls. Default false. */
  nulls?: boolean;
}

function keyPart(v: unknown): string {
  if (v instanceof EpochNs) return `t${v.ns}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
  return `${typeof v}${String(v)}`;
}

/** Writes batches of one table; build it once the table is ensured, use it on the write connection. */
export class TableWriter {
  /** Per database column: the layout index of its value (every one is found unless staged). */
  private readonly physical: number[];
  /** The layout is the table's physical order: batches are sources as they are. */
  private readonly direct: boolean;
  private readonly staged: boolean;
  private readonly keyIdx: number[];
  private readonly sql: { keep: string; overwrite: string; insert: string };

  constructor(readonly table: TableDef, catalog: TableCatalog) {
    const lower = table.layout.map((c) => c.name.toLowerCase());
    this.physical = catalog.columns.map((c) => lower.indexOf(c.name.toLowerCase()));
    this.direct = this.physical.length === lower.length && this.physical.every((p, i) => p === i);
    this.staged = isStaged(table, catalog.columns);
    this.keyIdx = table.keys.map((k) => lower.indexOf(k.toLowerCase()));
    const cols = table.layout.map((c) => ident(c.name)).join(', ');
    this.sql = { keep: this.mergeSql(false), overwrite: this.mergeSql(true),
      insert: `INSERT INTO ${ident(table.name)} (${cols}) SELECT ${cols} FROM ${ident(mergeTableName(table))}` };
  }

  /**
   * Write the rows of `batches`, in order. Call inside a transaction so they land whole or not
   * at all.
   * @returns The number of rows written (after collapsing by key).
   */
  async write(c: DuckDBConnection, batches: readonly ColumnBatch[], { nulls = false }: MergeOptions = {}): Promise<number> {
    const rows = batches.reduce((n, b) => n + b.length, 0);
    if (rows === 0) return 0;
    if (!this.staged) return appendColumns(c, this.table.name, batches.map((b) => this.source(b)));
    const keyed = this.table.keys.length > 0;
    const input = keyed ? [this.collapse(batches, nulls)] : batches;
    const stage = ident(mergeTableName(this.table));
    await c.run(`DELETE FROM ${stage}`);
    // The merge table has the layout's columns in layout order: a batch is its source as is.
    const written = await appendColumns(c, mergeTableName(this.table), input);
    await c.run(!keyed ? this.sql.insert : nulls ? this.sql.overwrite : this.sql.keep);
    await c.run(`DELETE FROM ${stage}`);
    return written;
  }

  /** {@link TableWriter.write} for rows as arrays (layout order, coerced): the upsert RPC. */
  writeRows(c: DuckDBConnection, rows: readonly Row[], options?: MergeOptions): Promise<number> {
    return this.write(c, [ColumnBatch.fromRows(this.table, rows)], options);
  }

  /** `batch` in the table's physical column order. */
  private source(batch: ColumnBatch): ColumnSource {
    if (this.direct) return batch;
    const { physical } = this;
    return {
      length: batch.length,
      fill: (column: number, vector: DuckDBVector, from: number, count: number, raw: RawVector) =>
        batch.fill(physical[column]!, vector, from, count, raw),
    };
  }

  /** Last row per key wins; without `nulls`, its null cells keep the earlier rows' values. */
  private collapse(batches: readonly ColumnBatch[], nulls: boolean): ColumnBatch {
    const byKey = new Map<string, Row>();
    for (const batch of batches) {
      for (let r = 0; r < batch.length; r++) {
        const row = batch.row(r);
        const key = this.keyIdx.map((i) => keyPart(row[i])).join('\u0000');
        const prev = byKey.get(key);
        byKey.delete(key); // re-inserted last: rows keep the order of their last write
        byKey.set(key, prev === undefined || nulls ? row : row.map((v, i) => (v === null ? prev[i] : v)));
      }
    }
    return ColumnBatch.fromRows(this.table, [...byKey.values()]);
  }

  private mergeSql(overwrite: boolean): string {
    const t = ident(this.table.name);
    const cols = this.table.layout.map((c) => ident(c.name));
    const keys = new Set(this.table.keys.map((k) => k.toLowerCase()));
    const set = this.table.layout.filter((c) => !keys.has(c.name.toLowerCase())).map((c) => {
      const col = ident(c.name);
      return overwrite ? `${col} = excluded.${col}` : `${col} = COALESCE(excluded.${col}, ${t}.${col})`;
    });
    const action = set.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${set.join(', ')}`;
    return `INSERT INTO ${t} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${ident(mergeTableName(this.table))}
      ON CONFLICT (${this.table.keys.map(ident).join(', ')}) ${action}`;
  }
}
