/**
 * Types of schema-driven tables (spec §8): the parsed schema, a published message as the
 * broker hands it to the storage stage, and the stage's contract.
 */
import type { Observable } from 'rxjs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnBatch } from './column-batch.js';
import type { DuckDbHandle } from '../store/duckdb/database.js';
import type { Logger } from '../types.js';
import type { ColumnType } from './column-types.js';
import type { CommitFeed } from './commit-feed.js';
import type { StorageOverflow } from './pending-writes.js';

export type { StorageOverflow } from './pending-writes.js';

/** A value literal allowed as a column `default` (spec §8.2). */
export type DefaultValue = number | string | boolean | null;

/** One schema column (spec §8.2 `columns[]`). */
export interface ColumnDef {
  /** Column name: a safe SQL identifier. */
  readonly name: string;
  /** The DuckDB type, canonical spelling (`TEXT` is read as `VARCHAR`). */
  readonly type: ColumnType;
  /** Whether null is allowed (default true; key columns never are). */
  readonly nullable: boolean;
  /** The declared default, already checked against `type`; absent when none. */
  readonly default?: DefaultValue;
  /** True for the `recv_ts`/`slot` extra columns. */
  readonly extra?: 'recv_ts' | 'slot';
}

/** One table of the schema (spec §8.2 `tables[]`). */
export interface TableDef {
  /** Table name: a safe SQL identifier. */
  readonly name: string;
  /** Topic pattern split on `/`; a `:name` segment is a variable (default: the table name). */
  readonly topic: string;
  /** The payload columns, in file order (extras excluded). */
  readonly columns: readonly ColumnDef[];
  /** Key columns: non-empty means upsert on key, empty means append-only. */
  readonly keys: readonly string[];
  /** Extra column names filled by the broker. */
  readonly extras: { readonly recvTs?: string; readonly slot?: string };
  /** `columns` followed by the extra columns: the order of a row's values. */
  readonly layout: readonly ColumnDef[];
}

/** A parsed, validated schema. */
export interface Schema {
  readonly tables: readonly TableDef[];
}

/** A publish as the broker hands it to the storage stage. */
export interface Published {
  topic: string;
  /**
   * Decoded arguments; a DataFrame may be a polars DataFrame or still a tag 80. May be decoded
   * on first read (and throw then) when `argsBytes` is given.
   */
  readonly args: unknown[];
  /** The args item as the publisher encoded it (CBOR), when known: mapped without decoding. */
  readonly argsBytes?: Uint8Array;
  /**
   * The publisher's frame and the offset in it of the args item, which runs to the frame's end
   * (both or neither): the same bytes as `argsBytes`, read in place without making that view.
   */
  readonly argsFrame?: Uint8Array;
  readonly argsAt?: number;
  /** PUB flags (QoS and slot bits). */
  flags: number;
  id?: bigint;
  /** The message slot (spec §2.4), when the SLOT flag was set. */
  slot?: number;
  /** Broker receive time, ns since the epoch. */
  recv: bigint;
  /** Name of the publishing twin; '' for the broker itself. */
  origin: string;
  /** Its sequence in the cluster's stream, when a cluster's schema writer feeds it (src/cluster/schema-writer.ts). */
  seq?: number;
}

/** One row: values in {@link TableDef.layout} order, already coerced to the column types. */
export type Row = unknown[];

/** What {@link attachSchema} needs from the broker. */
export interface SchemaStageContext {
  /** The parsed schema. */
  schema: Schema;
  /** The database the tables live in (the stage never closes it). */
  db: DuckDbHandle;
  /** Every publish the broker receives. */
  messages$: Observable<Published>;
  /** Register a broker-local RPC; returns its teardown. */
  expose(method: string, handler: (...args: any[]) => unknown): () => void;
  /** Where rejected messages and dropped rows are reported. Default: silent. */
  logger?: Logger;
  /** Rows per batch before it is written at once. Default 20 000 (`DEFAULT_BATCH_SIZE`). */
  batchSize?: number;
  /** Longest a row waits in the batch buffer, ms. Default 200. */
  flushInterval?: number;
  /**
   * Estimated bytes of rows that may wait for DuckDB (queued and being written; 8 per number,
   * text and blobs by their length, see `stats().pendingBytes`) before `overflow` applies.
   * Default 128 MiB (`DEFAULT_MAX_PENDING_BYTES`): about 1.6 M rows of five columns, over ten
   * seconds of stalled storage at 100,000 rows/s.
   */
  maxPendingBytes?: number;
  /**
   * Which rows are dropped past `maxPendingBytes`: `'dropOldest'` (the oldest queued batches:
   * the newest readings are kept) or `'dropNewest'` (the batch that does not fit: what is
   * stored stays a gap-free prefix). Default `'dropOldest'`.
   */
  overflow?: StorageOverflow;
  /**
   * Called inside the transaction that writes `batches` of `table`, after the rows: what it
   * writes commits with them or not at all (a cluster's writer records the stream position).
   */
  onCommit?: (connection: DuckDBConnection, table: TableDef, batches: readonly ColumnBatch[]) => Promise<void>;
}

/** Counters of a {@link SchemaStage}. */
export interface SchemaStageStats {
  /** Rows written. */
  persisted: number;
  /** Messages (or RPC-less rows of a failed batch) not stored: bad payload or write failure. */
  rejected: number;
  /** Batches written. */
  batches: number;
  /** Rows dropped because `maxPendingBytes` of rows were waiting for DuckDB. */
  dropped: number;
  /** Rows waiting for DuckDB now (queued or being written; not those still being collected). */
  pendingRows: number;
  /** Their estimated bytes, the measure `maxPendingBytes` bounds. */
  pendingBytes: number;
}

/** The running storage stage of a schema. */
export interface SchemaStage {
  /** Resolves once every table is created or migrated and the RPCs are exposed. */
  readonly ready: Promise<void>;
  /** Counters so far. */
  stats(): SchemaStageStats;
  /** Write every row received so far; resolves once DuckDB has them. */
  flush(): Promise<void>;
  /** Committed rows per table, for live queries (commit-feed.ts). */
  readonly commits: CommitFeed;
  /** Flush, stop taking messages and unexpose the RPCs. Idempotent; never closes `db`. */
  close(): Promise<void>;
}
