/**
 * Tables of a schema in DuckDB (spec §8.2 DDL): created when missing, migrated when the schema
 * adds columns, and a unique index on `keys` so keyed writes can `ON CONFLICT … DO UPDATE`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { columnType, ident, sqlLiteral } from './column-types.js';
import { SchemaError } from './errors.js';
import type { ColumnDef, TableDef } from './types.js';

/** A column as the database has it. */
export interface DbColumn {
  readonly name: string;
  /** DuckDB's `data_type` text (e.g. `VARCHAR`, `TIMESTAMP WITH TIME ZONE`). */
  readonly type: string;
}

/** A table as the database has it after {@link ensureTable}. */
export interface TableCatalog {
  /** Columns in the table's physical order (the Appender's order). */
  readonly columns: readonly DbColumn[];
}

function columnSql(col: ColumnDef, create: boolean): string {
  // DuckDB cannot add a column with a constraint: a migrated NOT NULL column is enforced by
  // the row mapping only (spec §8.3), not by the database.
  const notNull = create && !col.nullable ? ' NOT NULL' : '';
  const dflt = col.default === undefined ? '' : ` DEFAULT ${sqlLiteral(col.default)}`;
  return `${ident(col.name)} ${col.type}${notNull}${dflt}`;
}

/**
 * `CREATE TABLE IF NOT EXISTS` for a schema table: payload columns, then extras, then the
 * primary key when `keys` is not empty.
 * @param table A parsed table (names already validated as identifiers).
 */
export function createTableSql(table: TableDef): string {
  const parts = table.layout.map((c) => columnSql(c, true));
  if (table.keys.length > 0) parts.push(`PRIMARY KEY (${table.keys.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${ident(table.name)} (${parts.join(', ')})`;
}

/** The name of the temporary table staged writes (see {@link isStaged}) put their rows in first. */
export function mergeTableName(table: TableDef): string {
  return `__rembus_merge_${table.name}`;
}

/**
 * Do writes to `table` go through its temporary merge table? Keyed tables do (the merge is an
 * `INSERT … ON CONFLICT`), and so do tables with columns the schema no longer lists: a data
 * chunk must fill every column, and only an `INSERT … SELECT` gives those their defaults.
 */
export function isStaged(table: TableDef, columns: readonly DbColumn[]): boolean {
  if (table.keys.length > 0) return true;
  const layout = new Set(table.layout.map((c) => c.name.toLowerCase()));
  return columns.some((c) => !layout.has(c.name.toLowerCase()));
}

async function readColumns(c: DuckDBConnection, table: string): Promise<DbColumn[]> {
  const reader = await c.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = current_schema() AND lower(table_name) = lower($t)
    ORDER BY column_index`, { t: table });
  return reader.getRowObjects().map((r) => ({ name: r['column_name'] as string, type: r['data_type'] as string }));
}

async function hasKeyConstraint(c: DuckDBConnection, table: TableDef): Promise<boolean> {
  const want = table.keys.map((k) => k.toLowerCase()).sort().join(',');
  const reader = await c.runAndReadAll(`SELECT constraint_column_names AS cols FROM duckdb_constraints()
    WHERE database_name = current_database() AND schema_name = current_schema() AND lower(table_name) = lower($t)
      AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`, { t: table.name });
  return reader.getRowObjectsJson().some((r) => (r['cols'] as string[]).map((k) => k.toLowerCase()).sort().join(',') === want);
}

/**
 * Create `table` when missing, otherwise add the columns the schema has and the table lacks
 * (`ALTER TABLE … ADD COLUMN`, with their defaults), and a unique index on `keys` when the
 * table has no primary key on them. Staged tables (keyed, or with columns the schema lacks,
 * see {@link isStaged}) also get their (per connection) temporary merge table. Run it on the
 * write connection.
 * @param c The write connection.
 * @param table The schema table.
 * @param index The table's position in the schema, for error paths.
 * @returns The table's columns as the database now has them.
 * @throws SchemaError when an existing column has another type than the schema says.
 */
export async function ensureTable(c: DuckDBConnection, table: TableDef, index: number): Promise<TableCatalog> {
  let existing = await readColumns(c, table.name);
  if (existing.length === 0) {
    await c.run(createTableSql(table));
  } else {
    const have = new Map(existing.map((col) => [col.name.toLowerCase(), col]));
    for (const col of table.layout) {
      const found = have.get(col.name.toLowerCase());
      if (found === undefined) {
        await c.run(`ALTER TABLE ${ident(table.name)} ADD COLUMN ${columnSql(col, false)}`);
      } else if (columnType(found.type) !== col.type) {
        const i = table.columns.indexOf(col);
        const path = i >= 0 ? `tables[${index}].columns[${i}].type` : `tables[${index}].extras.${col.extra ?? ''}`;
        throw new SchemaError(path, `table '${table.name}' already has column '${found.name}' as ${found.type}; changing a column's type is not supported`);
      }
    }
    if (table.keys.length > 0 && !(await hasKeyConstraint(c, table))) {
      await c.run(`CREATE UNIQUE INDEX IF NOT EXISTS ${ident(`${table.name}__keys`)} ON ${ident(table.name)} (${table.keys.map(ident).join(', ')})`);
    }
  }
  existing = await readColumns(c, table.name);
  if (isStaged(table, existing)) {
    await c.run(`CREATE OR REPLACE TEMP TABLE ${ident(mergeTableName(table))} AS
      SELECT ${table.layout.map((col) => ident(col.name)).join(', ')} FROM ${ident(table.name)} LIMIT 0`);
  }
  return { columns: existing };
}

/**
 * Is the current database a DuckLake catalog (the only kind with `AT (TIMESTAMP => …)` time
 * travel)? Plain DuckDB files are not.
 */
export async function isDuckLake(c: DuckDBConnection): Promise<boolean> {
  const reader = await c.runAndReadAll('SELECT type FROM duckdb_databases() WHERE database_name = current_database()');
  return reader.getRowObjects().some((r) => String(r['type']).toLowerCase() === 'ducklake');
}
