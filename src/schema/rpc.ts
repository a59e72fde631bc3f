/**
 * The per-table RPCs of spec §8.4: `query_<t>`, `delete_<t>`, `upsert_<t>`. Bad arguments
 * throw {@link TableRpcError} (the broker answers status 40 with its message).
 */
import type { DataFrame } from 'nodejs-polars';
import type { DuckDbHandle } from '../store/duckdb/database.js';
import { ident } from './column-types.js';
import type { DbColumn, TableCatalog } from './ddl.js';
import { TableRpcError, WhereClauseError } from './errors.js';
import { rowsToDataFrame, selectExpr } from './frame.js';
import { rowsForUpsert } from './rows.js';
import type { Row, TableDef } from './types.js';
import { compileWhere } from './where.js';

/** What the handlers of one table need from the stage. */
export interface TableRpcContext {
  readonly table: TableDef;
  readonly db: DuckDbHandle;
  /** Resolves with the table's catalog once it exists (rejects when the schema failed). */
  ready(): Promise<{ catalog: TableCatalog; duckLake: boolean }>;
  /** Write every publish received so far, so a call sees what was published before it. */
  flush(): Promise<void>;
  /** Write rows through the serialised write queue, in one transaction. */
  write(rows: Row[], nulls: boolean): Promise<void>;
  /** Now, ns since the epoch (the `recv_ts` of upserted rows). */
  now(): bigint;
}

type Options = Record<string, unknown>;

function options(method: string, args: unknown[], allowed: readonly string[], max = 1): Options {
  if (args.length > max) throw new TableRpcError(method, `expected at most ${max} argument(s), got ${args.length}`);
  const opts = args[0];
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Uint8Array) {
    throw new TableRpcError(method, `expected a map with keys from {${allowed.join(', ')}}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new TableRpcError(method, `unknown key '${key}' (allowed: ${allowed.join(', ')})`);
  }
  return opts as Options;
}

function whereSql(method: string, where: unknown, columns: readonly DbColumn[]): string {
  if (where === undefined || where === null) return '';
  if (typeof where !== 'string') throw new TableRpcError(method, "'where' must be a string");
  if (where.trim() === '') return '';
  try {
    return ` WHERE ${compileWhere(where, columns.map((c) => c.name))}`;
  } catch (err) {
    if (err instanceof WhereClauseError) throw new TableRpcError(method, err.message, { cause: err });
    throw err;
  }
}

function selected(method: string, cols: unknown, columns: readonly DbColumn[]): DbColumn[] {
  if (cols === undefined || cols === null) return [...columns];
  const names = typeof cols === 'string' ? cols.split(',') : Array.isArray(cols) ? cols : undefined;
  if (names === undefined || names.some((n) => typeof n !== 'string')) {
    throw new TableRpcError(method, "'cols' must be a list of column names or a comma-separated string");
  }
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const picked = (names as string[]).map((n) => n.trim()).filter((n) => n !== '').map((n) => {
    const col = byName.get(n.toLowerCase());
    if (col === undefined) throw new TableRpcError(method, `unknown column '${n}'`);
    return col;
  });
  if (picked.length === 0) throw new TableRpcError(method, "'cols' names no column");
  return picked;
}

const WHEN = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$/;

function atClause(method: string, when: unknown, duckLake: boolean): string {
  if (when === undefined || when === null) return '';
  if (!duckLake) {
    throw new TableRpcError(method, "'when' (time travel) needs a DuckLake catalog; this broker's database is plain DuckDB, which has no AT clause");
  }
  let text: string;
  if (typeof when === 'number' && Number.isFinite(when)) text = new Date(when * 1000).toISOString().replace('T', ' ').replace('Z', '');
  else if (typeof when === 'string' && WHEN.test(when.trim())) text = when.trim();
  else throw new TableRpcError(method, "'when' must be epoch seconds or 'YYYY-MM-DD HH:MM:SS'");
  return ` AT (TIMESTAMP => CAST('${text}' AS TIMESTAMP))`;
}

/**
 * The handlers of one table, keyed by method name (`query_<t>`, `delete_<t>`, `upsert_<t>`).
 * @param ctx The table and what the handlers need from the stage.
 */
export function tableRpcHandlers(ctx: TableRpcContext): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const t = ctx.table.name;
  const query = `query_${t}`, del = `delete_${t}`, upsert = `upsert_${t}`;
  return {
    [query]: async (...args: unknown[]): Promise<DataFrame> => {
      const opts = options(query, args, ['where', 'when', 'cols']);
      const { catalog, duckLake } = await ctx.ready();
      const cols = selected(query, opts['cols'], catalog.columns);
      const sql = `SELECT ${cols.map(selectExpr).join(', ')} FROM ${ident(t)}${atClause(query, opts['when'], duckLake)}`
        + whereSql(query, opts['where'], catalog.columns);
      await ctx.flush();
      return rowsToDataFrame(cols, await ctx.db.read(sql));
    },
    [del]: async (...args: unknown[]): Promise<null> => {
      // PY tolerates `when` on delete and ignores it; so does this.
      const opts = options(del, args, ['where', 'when']);
      const { catalog } = await ctx.ready();
      const sql = `DELETE FROM ${ident(t)}${whereSql(del, opts['where'], catalog.columns)}`;
      await ctx.flush();
      await ctx.db.write((c) => c.run(sql));
      return null;
    },
    [upsert]: async (...args: unknown[]): Promise<null> => {
      if (args.length === 0) throw new TableRpcError(upsert, 'expected a map, an array of maps or a DataFrame');
      const opts = options(upsert, args.slice(1), ['nulls']);
      if (opts['nulls'] !== undefined && typeof opts['nulls'] !== 'boolean') throw new TableRpcError(upsert, "'nulls' must be a boolean");
      await ctx.ready();
      const rows = rowsForUpsert(ctx.table, args[0], ctx.now());
      if (typeof rows === 'string') throw new TableRpcError(upsert, rows);
      await ctx.flush();
      await ctx.write(rows, opts['nulls'] === true);
      return null;
    },
  };
}
