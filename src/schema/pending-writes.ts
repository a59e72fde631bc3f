/**
 * The schema stage's queue of batches waiting for DuckDB, bounded in bytes. Routing never waits
 * for storage, so when publishes keep arriving faster than DuckDB takes them something must
 * give: the queue first grows to `maxBytes` (128 MiB by default, seconds of telemetry at wire
 * speed), the writer meanwhile merges everything queued into fewer, larger transactions,
 * and only past the bound are rows dropped — by the overflow policy, every row counted, and
 * logged once per doubling of an overload episode plus once when storage has caught up.
 */
import type { Logger } from '../types.js';
import type { ColumnBatch } from './column-batch.js';

/** Which rows go when the stage's pending rows would exceed their bound. */
export type StorageOverflow = 'dropOldest' | 'dropNewest';

/** Batches collected together (one per table) and written together. */
export interface PendingGroup {
  /** Increasing number: `flush()` waits until the group it saw last is settled. */
  readonly seq: number;
  readonly batches: ColumnBatch[];
  readonly rows: number;
  readonly bytes: number;
}

/** Options of {@link PendingWrites}. */
export interface PendingWritesConfig {
  /** Bytes (estimated, see `ColumnBatch.bytes`) that may wait for DuckDB, in flight included. */
  readonly maxBytes: number;
  readonly overflow: StorageOverflow;
  readonly logger: Logger;
}

/** A bounded FIFO of {@link PendingGroup}s with the overflow policy and its reporting. */
export class PendingWrites {
  private readonly queue: PendingGroup[] = [];
  private seq = 0;
  /** Rows and bytes queued or being written. */
  rows = 0;
  bytes = 0;
  /** Rows dropped so far. */
  dropped = 0;
  /** Rows dropped since storage last caught up, and the total at which to log again. */
  private episode = 0;
  private nextReport = 1;

  constructor(private readonly config: PendingWritesConfig) {}

  /** The seq of the last group accepted (0: none yet). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Nothing is queued (a group may still be in flight). */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /**
   * Queue the batches of one collection window, applying the overflow policy when they do not
   * fit under `maxBytes`: `dropOldest` drops queued groups (never one in flight) until they do
   * or none is left; `dropNewest` drops these batches.
   * @returns Whether the batches were queued.
   */
  push(batches: ColumnBatch[]): boolean {
    let rows = 0, bytes = 0;
    for (const b of batches) { rows += b.length; bytes += b.bytes; }
    const { maxBytes, overflow } = this.config;
    if (this.bytes + bytes > maxBytes) {
      if (overflow === 'dropNewest') {
        this.drop(rows, 1);
        return false;
      }
      let droppedRows = 0, groups = 0;
      while (this.bytes + bytes > maxBytes && this.queue.length > 0) {
        const old = this.queue.shift()!;
        this.rows -= old.rows;
        this.bytes -= old.bytes;
        droppedRows += old.rows;
        groups++;
      }
      if (groups > 0) this.drop(droppedRows, groups);
    }
    // A seq only for groups that stay: a flush never waits for a dropped one.
    this.queue.push({ seq: ++this.seq, batches, rows, bytes });
    this.rows += rows;
    this.bytes += bytes;
    return true;
  }

  /**
   * Take the oldest groups to write in one go: at least one, more while their rows stay
   * within `maxRows` (a backlog is written in fewer, larger transactions). They stay counted
   * in `rows`/`bytes` until {@link PendingWrites.settle}.
   */
  take(maxRows: number): PendingGroup[] {
    const out: PendingGroup[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (out.length === 0 || rows + this.queue[0]!.rows <= maxRows)) {
      const group = this.queue.shift()!;
      rows += group.rows;
      out.push(group);
    }
    return out;
  }

  /** `groups` (from {@link PendingWrites.take}) are written or given up: release them. */
  settle(groups: readonly PendingGroup[]): void {
    for (const g of groups) {
      this.rows -= g.rows;
      this.bytes -= g.bytes;
    }
    if (this.queue.length === 0 && this.episode > 0) {
      this.config.logger.warn({ dropped: this.episode, droppedTotal: this.dropped },
        'storage caught up: rows were dropped while it was behind');
      this.episode = 0;
      this.nextReport = 1;
    }
  }

  private drop(rows: number, groups: number): void {
    this.dropped += rows;
    this.episode += rows;
    if (this.episode < this.nextReport) return;
    // Logged at the first drop, then each time the episode's total doubles: an overload is
    // visible at once and its size stays readable, without a line per batch.
    while (this.nextReport <= this.episode) this.nextReport *= 2;
    const { maxBytes, overflow } = this.config;
    this.config.logger.warn({ rows, groups, dropped: this.episode, pendingBytes: this.bytes, maxPendingBytes: maxBytes, overflow },
      'storage is behind: rows dropped');
  }
}
