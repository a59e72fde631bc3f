/**
 * The schema stage's seam "rows were committed to table T" (live queries listen to it).
 *
 * Contract for whoever writes the tables (stage.ts today): number each write with
 * {@link CommitFeed.next} in the same synchronous step that queues it on the database handle,
 * and call {@link CommitFeed.committed} once it is committed, in number order. Then a read
 * queued on the same handle right after looking at {@link CommitFeed.queued} sees exactly the
 * writes numbered up to it (`DuckDbHandle.read` sees every write called before it and none
 * after), which is how a live query joins its snapshot to its live part with no gap and no
 * duplicate. Rows are materialised only for tables someone listens to: no cost otherwise.
 */
import type { Row, TableDef } from './types.js';

/** One committed write of one table. */
export interface TableCommit {
  readonly table: TableDef;
  /** Its number (see {@link CommitFeed.next}). */
  readonly seq: number;
  /** The rows written, in {@link TableDef.layout} order and canonical form, in write order. */
  readonly rows: readonly Row[];
}

export type CommitListener = (commit: TableCommit) => void;

export class CommitFeed {
  private last = 0;
  private readonly listeners = new Map<TableDef, Set<CommitListener>>();

  /** The number of the last write queued so far. */
  get queued(): number {
    return this.last;
  }

  /** Number the write about to be queued. */
  next(): number {
    return ++this.last;
  }

  /** Whether someone listens to `table` (skip building rows otherwise). */
  watched(table: TableDef): boolean {
    return (this.listeners.get(table)?.size ?? 0) > 0;
  }

  /**
   * Write `seq` of `table` is committed. `rows` is called only when someone listens.
   * A listener that throws is dropped from this call only; the writer never sees it.
   */
  committed(table: TableDef, seq: number, rows: () => readonly Row[]): void {
    const set = this.listeners.get(table);
    if (set === undefined || set.size === 0) return;
    const commit: TableCommit = { table, seq, rows: rows() };
    for (const listener of [...set]) {
      try { listener(commit); } catch { /* a live query's failure is its own (it ends itself) */ }
    }
  }

  /** Listen to the commits of `table`; returns the teardown. */
  listen(table: TableDef, listener: CommitListener): () => void {
    let set = this.listeners.get(table);
    if (set === undefined) this.listeners.set(table, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(table) === set) this.listeners.delete(table);
    };
  }
}
