/**
 * Schema-driven tables (spec §8): parse a schema, map publishes to rows, and the storage stage
 * with its per-table RPCs. Node only (DuckDB).
 */
export { parseSchema, loadSchemaFile, IDENTIFIER } from './parse.js';
export { matchTable, MAX_CACHED_TOPICS } from './match.js';
export type { TableMatch } from './match.js';
export { mapPublish, rowsFor, rowsForUpsert } from './rows.js';
export { ColumnBatch } from './column-batch.js';
export type { RowTarget } from './column-batch.js';
export { collectRows } from './collect-rows.js';
export type { CollectRowsConfig } from './collect-rows.js';
export { compileWhere, parseWhere, WHERE_FUNCTIONS } from './where.js';
export { whereToSql } from './where-ast.js';
export type { WhereNode } from './where-ast.js';
export { compileLivePredicate, UnsupportedConstruct } from './where-eval.js';
export { CommitFeed } from './commit-feed.js';
export type { CommitListener, TableCommit } from './commit-feed.js';
export { LiveQueryHub, DEFAULT_LIVE_MAX_PENDING } from './live-query.js';
export type { LiveQuery, LiveQueryContext, LiveSink, PreparedQuery } from './live-query.js';
export { createTableSql, ensureTable, isStaged } from './ddl.js';
export type { DbColumn, TableCatalog } from './ddl.js';
export { TableWriter } from './writer.js';
export type { MergeOptions } from './writer.js';
export { attachSchema, DEFAULT_BATCH_SIZE, DEFAULT_MAX_PENDING_BYTES } from './stage.js';
export { COLUMN_TYPES, columnType, parseInstant } from './column-types.js';
export type { ColumnType } from './column-types.js';
export { SchemaError, TableRpcError, WhereClauseError } from './errors.js';
export type {
  ColumnDef, DefaultValue, Published, Row, Schema, SchemaStage, SchemaStageContext, SchemaStageStats, StorageOverflow, TableDef,
} from './types.js';
