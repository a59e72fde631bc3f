/**
 * `collectRows`: the schema stage's intake. Each publish is matched to its table and mapped
 * into that table's column batch at once, so a waiting row is a few typed-array cells rather
 * than a message object, a row array and per-cell boxes; the batches of all tables are
 * emitted together by size, by time, on a flush trigger, and when the source completes.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { errorText } from '../internal/logger.js';
import { ColumnBatch } from './column-batch.js';
import { matchTable, type TableMatch } from './match.js';
import { planOf, type Plan, type VarCells } from './plan.js';
import { cellsOf, mapPlanned } from './rows.js';
import type { Published, Schema, TableDef } from './types.js';

/** Options of {@link collectRows}. */
export interface CollectRowsConfig {
  /** The schema publishes are matched against. */
  schema: Schema;
  /** Emit once this many rows (over all tables) are collected. */
  maxRows: number;
  /** Emit once the first row collected has waited this long, ms. */
  maxWait: number;
  /** Each emission emits what is collected at once (if anything). */
  flush$?: Observable<unknown>;
  /** Called for a publish that matches a table but does not fit it; it is not stored. */
  onReject?: (msg: Published, table: TableDef, reason: string) => void;
  /** Scheduler of the `maxWait` timer. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/**
 * Map publishes to the rows of their tables (spec §8.3) and emit them as one column batch per
 * table that got rows, when `maxRows` rows are collected, `maxWait` ms after the first one,
 * when `flush$` emits, or when the source completes. Publishes matching no table are ignored;
 * empty emissions never happen. Mapping runs in the publisher's call (it is total: a payload
 * that does not fit goes to `onReject`, never to the stream's error).
 *
 * @example
 * ```ts
 * import { collectRows } from './collect-rows.js';
 * broker.messages$.pipe(collectRows({ schema, maxRows: 5_000, maxWait: 200 })).subscribe(writeBatches);
 * ```
 */
export function collectRows({ schema, maxRows, maxWait, flush$, onReject, scheduler = asyncScheduler }: CollectRowsConfig,
): OperatorFunction<Published, ColumnBatch[]> {
  return (source) => new Observable<ColumnBatch[]>((subscriber) => {
    let batches = new Map<TableDef, ColumnBatch>();
    /** The batch of the last table written: a busy table skips the map lookup. */
    let last: ColumnBatch | undefined;
    /** The last topic seen, its match, its table's plan and its variables' cells: a busy topic skips their lookups. */
    let lastTopic: string | undefined;
    let lastMatch: TableMatch | undefined;
    let lastPlan: Plan | undefined;
    let lastCells: VarCells = [];
    let rows = 0;
    let timeout: Subscription | undefined;
    const emit = (): void => {
      timeout?.unsubscribe();
      timeout = undefined;
      if (rows === 0) return;
      const out = [...batches.values()].filter((b) => b.length > 0);
      batches = new Map();
      last = undefined;
      rows = 0;
      subscriber.next(out);
    };
    const collect = (msg: Published): void => {
      const { topic } = msg;
      if (topic !== lastTopic) {
        lastTopic = topic;
        lastMatch = matchTable(schema, topic);
        if (lastMatch !== undefined) {
          lastPlan = planOf(lastMatch.table);
          lastCells = cellsOf(lastPlan, topic, lastMatch.vars);
        }
      }
      const match = lastMatch;
      if (match === undefined) return;
      let batch = last !== undefined && last.table === match.table ? last : batches.get(match.table);
      // A first capacity of 16 grows within the first publishes, while the intake still runs
      // unoptimised: the growth path then has type feedback when V8 optimises the publish path,
      // instead of a deoptimisation (and a recompilation of the whole inlined path) at row 1,025.
      if (batch === undefined) batches.set(match.table, batch = new ColumnBatch(match.table, 16, maxRows));
      last = batch;
      const before = batch.length;
      let added: number | string;
      try {
        added = mapPlanned(lastPlan!, lastCells, msg, batch);
      } catch (err) { // mapPublish is total; this guards the stage's subscription all the same
        batch.rollback(before);
        added = errorText(err);
      }
      if (typeof added === 'string') {
        onReject?.(msg, match.table, added);
        return;
      }
      rows += added;
      if (msg.seq !== undefined && msg.seq > batch.seq) batch.seq = msg.seq;
      if (rows >= maxRows) emit();
      // The scheduler's own action, not `timer(…).subscribe`: that timer's subscriber, stopped
      // when it fires, was the first rxjs Subscriber a W9 broker ever stopped, and V8 then
      // recompiled every optimised function that inlines `Subscriber.next` (the publish path).
      else if (added > 0) timeout ??= scheduler.schedule(emit, maxWait);
    };
    const subscription = flush$?.subscribe({ next: emit, error: (err: unknown) => subscriber.error(err) });
    const main = source.subscribe({
      next: collect,
      error: (err: unknown) => subscriber.error(err),
      complete: () => { emit(); subscriber.complete(); },
    });
    return () => {
      main.unsubscribe();
      subscription?.unsubscribe();
      timeout?.unsubscribe();
      batches = new Map();
      last = undefined;
    };
  });
}
