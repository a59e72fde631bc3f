/**
 * The storage stage of a schema (spec §8): publishes → column batches → DuckDB, off the
 * routing path. The broker only calls `messages$.next`; mapping is synchronous and cheap (an
 * object or a list of scalars is read from the publisher's CBOR bytes straight into typed column
 * buffers, cbor-fields.ts), writes run later, in order, through the database's serialised write
 * queue, column-wise through data chunks. Mapping stays in the publisher's call rather than
 * being deferred in batches: deferred, each publish would wait as an object (its frame kept
 * alive) instead of a few typed-array cells, for the same CPU on the same thread.
 */
import { BehaviorSubject, filter, firstValueFrom, Subject, type Subscription } from 'rxjs';
import { silentLogger, errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';
import { collectRows } from './collect-rows.js';
import { ColumnBatch } from './column-batch.js';
import { CommitFeed } from './commit-feed.js';
import { ensureTable, isDuckLake, type TableCatalog } from './ddl.js';
import { PendingWrites, type PendingGroup } from './pending-writes.js';
import { tableRpcHandlers } from './rpc.js';
import type { SchemaStage, SchemaStageContext, SchemaStageStats, TableDef } from './types.js';
import { TableWriter } from './writer.js';

interface Ready { readonly writers: Map<TableDef, TableWriter>; readonly catalogs: Map<TableDef, TableCatalog>; readonly duckLake: boolean }

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * Default of `maxPendingBytes`: about 1.6 M telemetry rows of five columns (≈ 80 bytes each by
 * the estimate), several seconds of the most one broker thread ingests (≈ 300–400k rows/s of
 * DataFrame rows on the reference 2-core box). A burst of a million rows at wire speed, which
 * the writer can only follow at a fraction while the same thread reads it, fits; with 64 MiB
 * it overflowed by a batch (W8b).
 */
export const DEFAULT_MAX_PENDING_BYTES = 128 * 1024 * 1024;
/**
 * Default `batchSize`. A transaction costs DuckDB a fixed ~1–1.5 ms of the broker's main thread
 * and ~5 ms of its own threads whatever its size (`bench/storage-micro.ts --step txn`): at 5,000
 * rows per write that was 0.5 µs/row on the routing thread and 1.8 µs/row of process CPU, at
 * 20,000 rows 0.3 and 1.2. Below the rate that fills a batch within `flushInterval`, the
 * interval decides and the batch size does not matter.
 */
export const DEFAULT_BATCH_SIZE = 20_000;
/**
 * A backlog is written in transactions of up to this many rows: each write costs a few
 * event-loop round trips (BEGIN, Appender, COMMIT) that a busy routing thread delays by 100–300
 * ms, so a backlog drains in few, large transactions — but below one DuckDB row group (122,880
 * rows): a transaction that fills row groups has DuckDB compress and write them on the calling
 * (main) thread, and cost 1.5–1.6 µs/row of process CPU at 200,000 rows against 0.8–1.0 at
 * 100,000. A batch larger than this is still one transaction. The appends of one write yield to
 * routing every 32,768 rows (appendColumns).
 */
const GROUP_COMMIT_ROWS = 100_000;

class SchemaStageImpl implements SchemaStage {
  readonly ready: Promise<void>;
  /** The seam "rows were committed to table T" (commit-feed.ts): live queries listen here. */
  readonly commits = new CommitFeed();
  private readonly setup: Promise<Ready>;
  private readonly logger: Logger;
  private readonly counters = { persisted: 0, rejected: 0, batches: 0 };
  private readonly flush$ = new Subject<void>();
  /** Seq of the last group settled (written or given up). */
  private readonly settled$ = new BehaviorSubject(0);
  private readonly pending: PendingWrites;
  private readonly batchSize: number;
  private draining = false;
  private readonly subscription: Subscription;
  private readonly unexpose: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly ctx: SchemaStageContext) {
    this.logger = ctx.logger ?? silentLogger;
    this.batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
    this.pending = new PendingWrites({ maxBytes: ctx.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      overflow: ctx.overflow ?? 'dropOldest', logger: this.logger });
    this.setup = ctx.db.write(async (c) => {
      const writers = new Map<TableDef, TableWriter>(), catalogs = new Map<TableDef, TableCatalog>();
      for (const [i, table] of ctx.schema.tables.entries()) {
        const catalog = await ensureTable(c, table, i);
        catalogs.set(table, catalog);
        writers.set(table, new TableWriter(table, catalog));
      }
      return { writers, catalogs, duckLake: await isDuckLake(c) };
    });
    this.ready = this.setup.then(() => undefined);
    this.ready.catch((err: unknown) => this.logger.error({ err: errorText(err) }, 'schema tables could not be set up'));
    for (const table of ctx.schema.tables) this.exposeTable(table);
    this.subscription = ctx.messages$.pipe(
      collectRows({ schema: ctx.schema, maxRows: this.batchSize, maxWait: ctx.flushInterval ?? 200, flush$: this.flush$,
        onReject: (msg, table, reason) => {
          this.counters.rejected++;
          this.logger.warn({ topic: msg.topic, table: table.name, reason }, 'publish does not fit its table: not stored');
        } }),
    ).subscribe({
      next: (batches) => this.enqueue(batches),
      error: (err: unknown) => this.logger.error({ err: errorText(err) }, 'schema stage input failed'),
    });
  }

  stats(): SchemaStageStats {
    return { ...this.counters, dropped: this.pending.dropped, pendingRows: this.pending.rows, pendingBytes: this.pending.bytes };
  }

  async flush(): Promise<void> {
    this.flush$.next();
    const target = this.pending.lastSeq;
    await firstValueFrom(this.settled$.pipe(filter((seq) => seq >= target)));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flush$.next();
      this.subscription.unsubscribe();
      await this.flush();
      for (const off of this.unexpose.splice(0)) off();
    })();
    return this.closing;
  }

  private enqueue(batches: ColumnBatch[]): void {
    this.pending.push(batches);
    if (!this.draining) void this.drain();
  }

  /** Write queued groups in order; a backlog goes several groups per transaction. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      const ready = await this.setup.catch(() => undefined);
      const maxRows = Math.max(this.batchSize, GROUP_COMMIT_ROWS);
      for (let groups = this.pending.take(maxRows); groups.length > 0; groups = this.pending.take(maxRows)) {
        if (ready === undefined) for (const g of groups) this.counters.rejected += g.rows;
        else await this.writeGroups(ready, groups);
        this.pending.settle(groups);
        this.settled$.next(groups.at(-1)!.seq);
      }
    } finally {
      this.draining = false;
    }
  }

  /** One transaction per table; a failed one is retried row by row. */
  private async writeGroups(ready: Ready, groups: readonly PendingGroup[]): Promise<void> {
    const byTable = new Map<TableDef, ColumnBatch[]>();
    for (const group of groups) {
      for (const batch of group.batches) {
        const list = byTable.get(batch.table);
        if (list === undefined) byTable.set(batch.table, [batch]); else list.push(batch);
      }
    }
    for (const [table, batches] of byTable) {
      const writer = ready.writers.get(table)!;
      try {
        const seq = this.commits.next(); // numbered as it is queued: see CommitFeed
        await this.ctx.db.transaction(async (c) => {
          await writer.write(c, batches);
          await this.ctx.onCommit?.(c, table, batches);
        });
        this.commits.committed(table, seq, () => batches.flatMap((b) => Array.from({ length: b.length }, (_, r) => b.row(r))));
        for (const b of batches) this.counters.persisted += b.length;
      } catch (err) {
        const rows = batches.reduce((n, b) => n + b.length, 0);
        this.logger.error({ table: table.name, rows, err: errorText(err) }, 'batch write failed: retrying row by row');
        for (const batch of batches) {
          for (let r = 0; r < batch.length; r++) {
            try {
              const seq = this.commits.next();
              await this.ctx.db.transaction((c) => writer.writeRows(c, [batch.row(r)]));
              this.commits.committed(table, seq, () => [batch.row(r)]);
              this.counters.persisted++;
            } catch {
              this.counters.rejected++;
            }
          }
        }
        // Row by row, the position is recorded after the rows (at-least-once on this rare path).
        const hook = this.ctx.onCommit;
        if (hook !== undefined) await this.ctx.db.transaction((c) => hook(c, table, batches)).catch(() => undefined);
      }
    }
    this.counters.batches += groups.length;
  }

  private exposeTable(table: TableDef): void {
    const handlers = tableRpcHandlers({
      table, db: this.ctx.db, now: nowNs, flush: () => this.flush(),
      ready: async () => {
        const ready = await this.setup;
        return { catalog: ready.catalogs.get(table)!, duckLake: ready.duckLake };
      },
      write: async (rows, nulls) => {
        const writer = (await this.setup).writers.get(table)!;
        const seq = this.commits.next();
        await this.ctx.db.transaction((c) => writer.writeRows(c, rows, { nulls }));
        this.commits.committed(table, seq, () => rows);
      },
    });
    for (const [method, handler] of Object.entries(handlers)) this.unexpose.push(this.ctx.expose(method, handler));
  }
}

/**
 * Attach the storage stage of a schema to a broker: create or migrate its tables, store every
 * matching publish, and expose `query_<t>`, `delete_<t>` and `upsert_<t>` (spec §8.4).
 *
 * Rows are batched by count (`batchSize`, 20,000) and time (`flushInterval`, 200 ms) and appended in order,
 * column-wise, one transaction per table and write; when DuckDB falls behind, queued batches
 * are merged into larger writes. A publish that does not fit its table is logged at warn and
 * counted in `stats().rejected`.
 *
 * Memory bound: the rows waiting for DuckDB (`stats().pendingBytes`, estimated) stay under
 * `maxPendingBytes` (128 MiB) plus the write in flight. Routing never waits for storage, so past
 * the bound rows are dropped as `overflow` says — `dropOldest` (default: queued batches, oldest
 * first) or `dropNewest` (the batch that does not fit) — counted in `stats().dropped` and
 * logged at warn at the first drop, at each doubling of the overload's total, and once storage
 * has caught up.
 *
 * @example
 * ```ts
 * import { attachSchema, loadSchemaFile } from 'rembus/broker';
 * const stage = attachSchema({ schema: await loadSchemaFile('schema.json'), db,
 *   messages$: broker.messages$, expose: (m, h) => broker.expose(m, h), logger });
 * await stage.ready;           // tables exist
 * await stage.close();         // on shutdown, before db.close()
 * ```
 * @param ctx The schema, database, publish stream and RPC registration.
 * @returns The running stage; `ready` rejects with SchemaError when a table cannot be migrated.
 */
export function attachSchema(ctx: SchemaStageContext): SchemaStage {
  return new SchemaStageImpl(ctx);
}
