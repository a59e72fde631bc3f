/**
 * The broker side of data at rest in a cluster (README "Data at rest in a cluster"): the schema
 * stage of a broker in a cluster is fed by this gate instead of the broker's `messages$`, and its
 * table RPCs (`query_<t>`, `delete_<t>`, `upsert_<t>`) go through it. The cluster's schema
 * writer (schema-writer.ts) decides, from the leader lease, whether this broker
 *
 * - **leads**: the writer pushes the stream's rows (and the QoS0 rows this broker routes) here,
 *   and the RPCs run on this broker's tables once they have caught up with the stream; or
 * - **follows**: nothing is pushed (this broker writes no rows) and the RPCs are forwarded to
 *   the leader; or
 * - finds **no leader**: the RPCs fail at once with {@link ClusterNoLeaderError}.
 *
 * Each table's commit records, in the same transaction, the highest stream sequence it holds
 * (`_rembus_stream_seq`): the position from which a broker resumes when it leads again, so a
 * row of the stream lands in a broker's tables once, whatever kills happen in between.
 * No NATS import here: broker.ts loads this module only in a cluster with tables.
 */
import { Subject } from 'rxjs';
import { RembusError } from '../errors.js';
import type { DataStageGate } from '../broker/data-stage.js';
import type { Schema, SchemaStage } from '../schema/index.js';
import type { Published, SchemaStageContext } from '../schema/types.js';
import type { DuckDbHandle } from '../store/duckdb/database.js';
import type { Handler } from '../types.js';

/** A table RPC was called while the cluster has no leader to answer it. */
export class ClusterNoLeaderError extends RembusError {
  readonly code = 'CLUSTER_NO_LEADER';
  constructor(readonly method: string, readonly cluster: string, readonly why: string, options?: ErrorOptions) {
    super(`${method}: cluster '${cluster}' has no leader to answer (${why}); try again once one takes over`, options);
    this.name = 'ClusterNoLeaderError';
  }
}

/** Where the table RPCs of this broker go now. */
export type DataRoute =
  | { readonly kind: 'local'; ready(): Promise<void> }
  | { readonly kind: 'remote'; forward(method: string, args: unknown[]): Promise<unknown> }
  | { readonly kind: 'none'; readonly why: string };

const SEQ_TABLE = '_rembus_stream_seq';

export class ClusterDataGate implements DataStageGate {
  private readonly feed = new Subject<Published>();
  readonly messages$ = this.feed.asObservable();
  private route: DataRoute = { kind: 'none', why: 'the cluster link is not up yet' };
  private readonly handlers = new Map<string, Handler>();
  private bound: { db: DuckDbHandle; schema: Schema; stage: SchemaStage } | undefined;

  constructor(private readonly broker: { expose(method: string, handler: Handler): () => void }, readonly cluster: string) {}

  get db(): DuckDbHandle | undefined { return this.bound?.db; }
  get schema(): Schema | undefined { return this.bound?.schema; }
  get stage(): SchemaStage | undefined { return this.bound?.stage; }

  expose(method: string, handler: Handler): () => void {
    this.handlers.set(method, handler);
    const off = this.broker.expose(method, async (...args: unknown[]) => {
      const route = this.route;
      if (route.kind === 'remote') return route.forward(method, args);
      if (route.kind === 'none') throw new ClusterNoLeaderError(method, this.cluster, route.why);
      await route.ready();
      return handler(...args);
    });
    return () => {
      off();
      if (this.handlers.get(method) === handler) this.handlers.delete(method);
    };
  }

  /** A call forwarded by another broker: answered here while this broker leads, never forwarded again. */
  async serve(method: string, args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(method);
    if (handler === undefined) throw new Error(`${method}: no such table here`);
    const route = this.route;
    if (route.kind !== 'local') throw new ClusterNoLeaderError(method, this.cluster, 'the broker asked is no longer the leader');
    await route.ready();
    return handler(...args);
  }

  /** Route the table RPCs (schema-writer.ts). */
  use(route: DataRoute): void {
    this.route = route;
  }

  /** A row for the stage (only the leader's writer pushes). */
  push(p: Published): void {
    this.feed.next(p);
  }

  readonly onCommit: NonNullable<SchemaStageContext['onCommit']> = async (c, table, batches) => {
    const seq = batches.reduce((max, b) => Math.max(max, b.seq), 0);
    if (seq === 0) return;
    await c.run(`INSERT INTO ${SEQ_TABLE} VALUES ($1, $2) ON CONFLICT (tbl) DO UPDATE SET seq = greatest(${SEQ_TABLE}.seq, excluded.seq)`,
      [table.name, seq]);
  };

  async bind(db: DuckDbHandle, schema: Schema, stage: SchemaStage): Promise<void> {
    await db.write((c) => c.run(`CREATE TABLE IF NOT EXISTS ${SEQ_TABLE} (tbl VARCHAR PRIMARY KEY, seq BIGINT NOT NULL)`));
    this.bound = { db, schema, stage };
  }

  /** The stream sequence each table holds rows up to (0: none). */
  async positions(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (this.bound === undefined) return out;
    for (const row of await this.bound.db.read(`SELECT tbl, seq FROM ${SEQ_TABLE}`)) out.set(String(row['tbl']), Number(row['seq']));
    return out;
  }

  close(): void {
    this.route = { kind: 'none', why: 'this broker is closing' };
  }
}
