/**
 * Writing rows of one schema table (spec §8.3 step 7). Append-only tables take the rows
 * through DuckDB's Appender; keyed tables collapse the batch by key, append it to a temporary
 * table and merge it with `INSERT … ON CONFLICT (keys) DO UPDATE`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EpochNs } from '../dataframe/columns.js';
import { appendRows } from '../store/duckdb/database.js';
import { appendFn, type AppendFn } from './append.js';
import { ident } from './column-types.js';
import { mergeTableName, type TableCatalog } from './ddl.js';
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
  /** Per database column: the layout index of its value, or -1 (the column's default). */
  private readonly physical: number[];
  private readonly fns: AppendFn[];
  private readonly keyIdx: number[];
  private readonly upsertSql: { keep: string; overwrite: string } | undefined;

  constructor(readonly table: TableDef, catalog: TableCatalog) {
    const lower = table.layout.map((c) => c.name.toLowerCase());
    this.physical = catalog.columns.map((c) => lower.indexOf(c.name.toLowerCase()));
    this.fns = table.layout.map((c) => appendFn(c.type));
    this.keyIdx = table.keys.map((k) => lower.indexOf(k.toLowerCase()));
    this.upsertSql = table.keys.length === 0 ? undefined
      : { keep: this.mergeSql(false), overwrite: this.mergeSql(true) };
  }

  /**
   * Write `rows` (layout order). Call inside a transaction so a batch lands whole or not at all.
   * @returns The number of rows written (after collapsing by key).
   */
  async write(c: DuckDBConnection, rows: readonly Row[], { nulls = false }: MergeOptions = {}): Promise<number> {
    if (rows.length === 0) return 0;
    if (this.upsertSql === undefined) {
      await appendRows(c, this.table.name, (a) => {
        for (const row of rows) {
          for (const i of this.physical) {
            if (i < 0) a.appendDefault();
            else this.appendCell(a, i, row[i]);
          }
          a.endRow();
        }
      });
      return rows.length;
    }
    const merged = this.collapse(rows, nulls);
    const stage = ident(mergeTableName(this.table));
    await c.run(`DELETE FROM ${stage}`);
    await appendRows(c, mergeTableName(this.table), (a) => {
      for (const row of merged) {
        for (let i = 0; i < row.length; i++) this.appendCell(a, i, row[i]);
        a.endRow();
      }
    });
    await c.run(nulls ? this.upsertSql.overwrite : this.upsertSql.keep);
    await c.run(`DELETE FROM ${stage}`);
    return merged.length;
  }

  private appendCell(a: Parameters<AppendFn>[0], i: number, value: unknown): void {
    if (value === null || value === undefined) a.appendNull();
    else this.fns[i]!(a, value);
  }

  /** Last row per key wins; without `nulls`, its null cells keep the earlier rows' values. */
  private collapse(rows: readonly Row[], nulls: boolean): Row[] {
    const byKey = new Map<string, Row>();
    for (const row of rows) {
      const key = this.keyIdx.map((i) => keyPart(row[i])).join('\u0000');
      const prev = byKey.get(key);
      if (prev === undefined || nulls) { byKey.delete(key); byKey.set(key, row); continue; }
      byKey.delete(key);
      byKey.set(key, row.map((v, i) => (v === null ? prev[i] : v)));
    }
    return [...byKey.values()];
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
