/**
 * The storage stage of a schema (spec §8): publishes → rows → batches → DuckDB, off the
 * routing path. The broker only calls `messages$.next`; mapping is synchronous and cheap,
 * writes run later, in order, through the database's serialised write queue.
 */
import {
  asapScheduler, BehaviorSubject, filter, firstValueFrom, map, Observable, Subject, type MonoTypeOperatorFunction,
  type Subscription,
} from 'rxjs';
import { silentLogger, errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';
import { batchBy } from './batch-by.js';
import { ensureTable, isDuckLake, type TableCatalog } from './ddl.js';
import { matchTable } from './match.js';
import { rowsFor } from './rows.js';
import { tableRpcHandlers } from './rpc.js';
import type { Published, Row, SchemaStage, SchemaStageContext, SchemaStageStats, TableDef } from './types.js';
import { TableWriter } from './writer.js';

interface Item { readonly table: TableDef; readonly rows: Row[] }
interface Batch { readonly seq: number; readonly items: Item[]; readonly rows: number }
interface Ready { readonly writers: Map<TableDef, TableWriter>; readonly catalogs: Map<TableDef, TableCatalog>; readonly duckLake: boolean }

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
/**
 * Like `observeOn(asapScheduler)` but with one scheduled action per burst instead of one per
 * value: a backlog of N messages cost N actions, each removed from the scheduler's array in
 * O(N) (15% of broker time in the W8 benchmark). Values keep their order; errors and
 * completion wait for the values before them.
 */
function afterTurn<T>(): MonoTypeOperatorFunction<T> {
  return (source) => new Observable<T>((subscriber) => {
    let queue: T[] = [];
    let pending: Subscription | undefined;
    let ended: (() => void) | undefined;
    const drain = (): void => {
      pending = undefined;
      const batch = queue;
      queue = [];
      for (const value of batch) {
        if (subscriber.closed) return;
        subscriber.next(value);
      }
      ended?.();
    };
    const schedule = (): void => { pending ??= asapScheduler.schedule(drain); };
    const subscription = source.subscribe({
      next: (value) => { queue.push(value); schedule(); },
      error: (err: unknown) => { ended = () => subscriber.error(err); schedule(); },
      complete: () => { ended = () => subscriber.complete(); schedule(); },
    });
    return () => { subscription.unsubscribe(); pending?.unsubscribe(); queue = []; };
  });
}

/** Resolves after the asap actions queued so far: messages handed to observeOn reach the batch. */
const asapTick = (): Promise<void> => new Promise((resolve) => asapScheduler.schedule(() => resolve()));

class SchemaStageImpl implements SchemaStage {
  readonly ready: Promise<void>;
  private readonly setup: Promise<Ready>;
  private readonly logger: Logger;
  private readonly counters: SchemaStageStats = { persisted: 0, rejected: 0, batches: 0, dropped: 0 };
  private readonly flush$ = new Subject<void>();
  /** Seq of the last batch handed to the queue, and of the last one settled. */
  private enqueued = 0;
  private readonly settled$ = new BehaviorSubject(0);
  private readonly queue: Batch[] = [];
  private queuedRows = 0;
  private draining = false;
  private readonly subscription: Subscription;
  private readonly unexpose: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly ctx: SchemaStageContext) {
    this.logger = ctx.logger ?? silentLogger;
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
      // The broker's `next` returns at once: mapping (e.g. reading a DataFrame) runs after it.
      afterTurn(),
      map((msg) => this.toItem(msg)),
      filter((item): item is Item => item !== undefined),
      batchBy<Item>({ maxSize: ctx.batchSize ?? 5_000, maxWait: ctx.flushInterval ?? 200, flush$: this.flush$,
        weight: (item) => item.rows.length }),
    ).subscribe({
      next: (items) => this.enqueue(items),
      error: (err: unknown) => this.logger.error({ err: errorText(err) }, 'schema stage input failed'),
    });
  }

  stats(): SchemaStageStats {
    return { ...this.counters };
  }

  async flush(): Promise<void> {
    await asapTick();
    this.flush$.next();
    const target = this.enqueued;
    await firstValueFrom(this.settled$.pipe(filter((seq) => seq >= target)));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await asapTick();
      this.flush$.next();
      this.subscription.unsubscribe();
      await this.flush();
      for (const off of this.unexpose.splice(0)) off();
    })();
    return this.closing;
  }

  private toItem(msg: Published): Item | undefined {
    const match = matchTable(this.ctx.schema, msg.topic);
    if (match === undefined) return undefined;
    let rows: Row[] | string;
    try {
      rows = rowsFor(match.table, msg, match.vars);
    } catch (err) { // rowsFor is total; this guards the stage's subscription all the same
      rows = errorText(err);
    }
    if (typeof rows !== 'string') return { table: match.table, rows };
    this.counters.rejected++;
    this.logger.warn({ topic: msg.topic, table: match.table.name, reason: rows }, 'publish does not fit its table: not stored');
    return undefined;
  }

  /**
   * Memory bound: when more than `maxPendingRows` rows wait for DuckDB, the oldest waiting
   * batches are dropped (counted in `stats().dropped`, logged at warn) so live routing never
   * waits for storage and memory stays bounded.
   */
  private enqueue(items: Item[]): void {
    const rows = items.reduce((n, item) => n + item.rows.length, 0);
    this.queue.push({ seq: ++this.enqueued, items, rows });
    this.queuedRows += rows;
    const max = this.ctx.maxPendingRows ?? 100_000;
    while (this.queuedRows > max && this.queue.length > 1) {
      const old = this.queue.shift()!;
      this.queuedRows -= old.rows;
      this.counters.dropped += old.rows;
      // Not settled here: the batch being written is older, and a flush must wait for it.
      this.logger.warn({ rows: old.rows, pending: this.queuedRows, max }, 'storage is behind: oldest batch dropped');
    }
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      const ready = await this.setup.catch(() => undefined);
      for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
        this.queuedRows -= batch.rows;
        if (ready === undefined) this.counters.rejected += batch.rows;
        else await this.writeBatch(ready, batch);
        this.settled$.next(batch.seq);
      }
    } finally {
      this.draining = false;
    }
  }

  /** One transaction per table of the batch; a failed one is retried row by row. */
  private async writeBatch(ready: Ready, batch: Batch): Promise<void> {
    const byTable = new Map<TableDef, Row[]>();
    for (const item of batch.items) {
      const rows = byTable.get(item.table);
      if (rows === undefined) byTable.set(item.table, [...item.rows]); else rows.push(...item.rows);
    }
    for (const [table, rows] of byTable) {
      const writer = ready.writers.get(table)!;
      try {
        await this.ctx.db.transaction((c) => writer.write(c, rows));
        this.counters.persisted += rows.length;
      } catch (err) {
        this.logger.error({ table: table.name, rows: rows.length, err: errorText(err) }, 'batch write failed: retrying row by row');
        for (const row of rows) {
          try {
            await this.ctx.db.transaction((c) => writer.write(c, [row]));
            this.counters.persisted++;
          } catch {
            this.counters.rejected++;
          }
        }
      }
    }
    this.counters.batches++;
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
        await this.ctx.db.transaction((c) => writer.write(c, rows, { nulls }));
      },
    });
    for (const [method, handler] of Object.entries(handlers)) this.unexpose.push(this.ctx.expose(method, handler));
  }
}

/**
 * Attach the storage stage of a schema to a broker: create or migrate its tables, store every
 * matching publish, and expose `query_<t>`, `delete_<t>` and `upsert_<t>` (spec §8.4).
 *
 * Rows are batched by count (`batchSize`) and time (`flushInterval`) and appended in order,
 * one transaction per table and batch. A publish that does not fit its table is logged at
 * warn and counted in `stats().rejected`. When more than `maxPendingRows` rows wait for
 * DuckDB, the oldest waiting batch is dropped (warn, `stats().dropped`).
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
