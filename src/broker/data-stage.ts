/**
 * Data at rest (spec §8): the schema stage fed by the broker's `messages$`, on the broker's
 * DuckDB database — or a DuckLake catalog when one is asked for and the extension loads.
 */
import { InvalidOptionError, RembusError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { attachSchema, loadSchemaFile, parseSchema, SchemaError, type Schema, type SchemaStage } from '../schema/index.js';
import type { Published, SchemaStageContext } from '../schema/types.js';
import { openDatabase, type DuckDbHandle } from '../store/duckdb/database.js';
import type { Store } from '../store/types.js';
import type { Handler, Logger } from '../types.js';
import type { SchemaWriteOptions } from './types.js';
import type { Observable } from 'rxjs';
import { LiveQueryHub } from '../schema/live-query.js';
import { attachLiveRpc, type LiveRpc, type LiveRpcHost } from './live-rpc.js';

/** DuckLake was asked for (`ducklake` / `DUCKLAKE_URL`) but cannot be used here. */
export class DuckLakeUnavailableError extends RembusError {
  readonly code = 'DUCKLAKE_UNAVAILABLE';
  constructor(readonly url: string, cause: unknown) {
    super(`DuckLake catalog '${url}' was requested but the ducklake extension cannot be loaded `
      + `(${errorText(cause)}); it is downloaded by DuckDB on first use, which needs network access. `
      + 'Without DUCKLAKE_URL the broker keeps its tables in a plain DuckDB file.', { cause });
    this.name = 'DuckLakeUnavailableError';
  }
}

/**
 * Default DuckDB worker threads of the tables' database. DuckDB's default (one per core) has a
 * query's calling thread busy-wait while another thread finishes the query's tasks, and the
 * stage's Appender flush and COMMIT are such queries: on a broker whose cores also route and
 * publish, that wait is CPU taken from them, and the more loaded the box, the longer it spins.
 * One thread runs each query on its calling thread alone (measured in docs/performance.md,
 * "Durable at wire speed"); `schemaWrites.threads` gives analytic `query_<t>` more.
 */
export const DEFAULT_DUCKDB_THREADS = 1;

export interface DataStageOptions {
  /** A schema file path or the parsed JSON object. */
  readonly schema?: string | object;
  /** Tables of `broker({ contracts })` in the schema file's form (src/contracts/table.ts), after the file's. */
  readonly contractTables?: readonly object[];
  /** A DuckLake catalog URL (`ducklake:sqlite:x.sqlite`, `ducklake:x.ducklake`, …). */
  readonly ducklake?: string;
  /** DuckLake DATA_PATH. */
  readonly dataPath?: string;
  readonly store?: Store;
  readonly logger: Logger;
  /** Batching and memory bound of the schema stage. Default: the stage's. */
  readonly writes?: SchemaWriteOptions;
  /** Bounds of live queries (`live_<t>`). Default: see {@link LiveQueryLimits}. */
  readonly liveQueries?: LiveQueryLimits;
  /** In a cluster: what feeds the tables and answers their RPCs (src/cluster/data-gate.ts). */
  readonly gate?: DataStageGate;
}

/** How a cluster takes over the stage's input and table RPCs: one writer, RPCs at the leader. */
export interface DataStageGate {
  readonly messages$: Observable<Published>;
  expose(method: string, handler: Handler): () => void;
  readonly onCommit: SchemaStageContext['onCommit'];
  /** The stage is ready on `db`. */
  bind(db: DuckDbHandle, schema: Schema, stage: SchemaStage): Promise<void>;
}

/** Bounds of live queries (README "Live queries"). */
export interface LiveQueryLimits {
  /** Live queries one connection may run at once; one more is refused (LIVE_QUERY_LIMIT). Default 32. */
  readonly maxPerConnection?: number;
  /** Rows held for one query while its snapshot is sent; past it the query ends. Default 100 000. */
  readonly maxPending?: number;
}

export interface DataStage {
  readonly stage: SchemaStage | undefined;
  /** The live queries of the stage's tables. */
  readonly live: LiveRpc | undefined;
  close(): Promise<void>;
}

interface BrokerSide extends LiveRpcHost {
  readonly messages$: Observable<Published>;
  expose(method: string, handler: Handler): () => void;
}

/** Open the schema stage (tables created or migrated before this resolves). */
export async function openDataStage(options: DataStageOptions, broker: BrokerSide): Promise<DataStage | undefined> {
  const contracts = options.contractTables === undefined || options.contractTables.length === 0 ? undefined
    : parseSchema({ tables: options.contractTables });
  if (options.schema === undefined && options.ducklake === undefined && contracts === undefined) return undefined;
  // Read and check the schema before opening anything: a bad file fails start-up naming the field.
  const file = options.schema === undefined ? undefined
    : typeof options.schema === 'string' ? await loadSchemaFile(options.schema) : parseSchema(options.schema);
  const schema = mergeSchemas(file, contracts);
  const { threads = DEFAULT_DUCKDB_THREADS, ...writes } = options.writes ?? {};
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new InvalidOptionError('schemaWrites.threads', `expected a positive integer, got ${String(threads)}`);
  }
  const shared = storeDb(options.store);
  const db = shared ?? await openDatabase(':memory:');
  try {
    // The whole database's setting: a store sharing it (the DuckDB store) takes it too.
    await db.write((c) => c.run(`SET threads = ${threads}`));
    if (options.ducklake !== undefined) await attachDuckLake(db, options.ducklake, options.dataPath);
    const stage = schema === undefined ? undefined : attachSchema({
      schema, db, messages$: options.gate?.messages$ ?? broker.messages$, expose: (m, h) => (options.gate ?? broker).expose(m, h),
      onCommit: options.gate?.onCommit, logger: options.logger.child({ component: 'schema' }), ...writes,
    });
    await stage?.ready;
    if (stage !== undefined && schema !== undefined) await options.gate?.bind(db, schema, stage);
    const live = stage === undefined || schema === undefined ? undefined
      : attachLiveRpc(new LiveQueryHub({ db, commits: stage.commits, ready: stage.ready, flush: () => stage.flush() }, options.liveQueries?.maxPending),
        schema, broker, options.liveQueries);
    return {
      stage,
      live,
      close: async () => {
        live?.close();
        await stage?.close();
        if (shared === undefined) await db.close();
      },
    };
  } catch (err) {
    if (shared === undefined) await db.close();
    throw err;
  }
}

/** The file's tables, then the contracts' (one stage, one path); a name in both fails start-up. */
function mergeSchemas(file: Schema | undefined, contracts: Schema | undefined): Schema | undefined {
  if (file === undefined || contracts === undefined) return file ?? contracts;
  const names = new Set(file.tables.map((t) => t.name.toLowerCase()));
  const twice = contracts.tables.find((t) => names.has(t.name.toLowerCase()));
  if (twice !== undefined) throw new SchemaError('tables', `contract table '${twice.name}' is also a table of the schema file`);
  return { tables: [...file.tables, ...contracts.tables] };
}

function storeDb(store: Store | undefined): DuckDbHandle | undefined {
  const db = (store as { db?: DuckDbHandle } | undefined)?.db;
  return db !== undefined && typeof db.write === 'function' ? db : undefined;
}

async function attachDuckLake(db: DuckDbHandle, url: string, dataPath: string | undefined): Promise<void> {
  try {
    await db.write(async (c) => {
      try {
        await c.run('LOAD ducklake');
      } catch {
        await c.run('INSTALL ducklake');
        await c.run('LOAD ducklake');
      }
    });
  } catch (err) {
    throw new DuckLakeUnavailableError(url, err);
  }
  const target = url.startsWith('ducklake:') ? url : `ducklake:${url}`;
  const options = dataPath === undefined ? '' : ` (DATA_PATH '${dataPath.replaceAll("'", "''")}')`;
  await db.write((c) => c.run(`ATTACH '${target.replaceAll("'", "''")}' AS rl${options}`).then(() => c.run('USE rl')));
}
