/**
 * The broker's message log (spec §4.7): every accepted publish gets a receive time and is
 * appended to an in-memory buffer, committed to the Store on an interval — and at once when a
 * QoS1/2 publisher waits for its ACK, which is sent only after the commit (an acknowledged
 * message survives a crash). Each commit carries the twins' changed state (marks, QoS2 sets,
 * declarations) with the rows, atomically. Reads merge the Store with the uncommitted buffer.
 *
 * A failed commit keeps its rows and state for the next attempt (retried with backoff) and
 * acknowledges nothing; a store still failing after `failureTimeout` is reported to `onFatal`.
 *
 * A store with `appendNow` (the memory store) takes each row as it is logged, and its commits
 * carry the twins' changes alone: no row waits across the turn (issue 20, W7). The LMDB store
 * takes them too, packed for its next commit (it returns true; those rows count as buffered and
 * are committed as buffered rows are, issue 14). A row it refuses is buffered, and so is every
 * row after it until a commit took them (recv order).
 */
import type { SchedulerLike } from 'rxjs';
import { housekeeping, later, now as clockNow, soon, type Cancel } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import type { FrameRow } from '../store/frame-row.js';
import type { LogQuery, Store, StoredMessage } from '../store/types.js';
import type { Logger } from '../types.js';
import { logRow, type RowExtras } from './log-row.js';
import type { CollectedTwins } from './twin-persistence.js';

/** What a commit carries besides the rows, and whom to tell when the store is lost. */
export interface MessageLogDeps {
  /** The twins' changes to commit with the rows. */
  readonly collect: () => CollectedTwins;
  /** The store kept failing for `failureTimeout` ms: nothing more can be acknowledged. */
  readonly onFatal: (err: unknown) => void;
  /** Default 30_000. */
  readonly failureTimeout?: number;
  /** After each commit that succeeded (the log's size bound checks here, log-bound.ts). */
  readonly committed?: () => void;
  /** Virtual time (rembus/testing): receive times and timers follow it. Default the real clock. */
  readonly scheduler?: SchedulerLike | undefined;
}

/** First retry of a failed commit, ms; doubled up to {@link RETRY_MAX}. */
const RETRY_FIRST = 50;
const RETRY_MAX = 2_000;

export class MessageLog {
  private buffer: StoredMessage[] = [];
  /** Rows handed to the store but not yet confirmed: still served to readers. */
  private writing: StoredMessage[] = [];
  private last = 0n;
  /** The millisecond `last` was last derived from the clock (see `now`). */
  private lastMs = -1;
  private flushing: Promise<void> | undefined;
  private again = false;
  private readonly waiters: (() => void)[] = [];
  /** The store's `appendNow`, read once (a metered store is a Proxy). */
  private readonly appendNow: ((row: StoredMessage) => boolean | void) | undefined;
  /** Rows the store took at once and holds for a commit (it returned true), not yet committed. */
  private held = 0;
  private readonly timer: Cancel;
  private closed = false;
  /** Entries that trigger a flush before the interval (the store's `appendBatch`). */
  private readonly batch: number;
  private immediate: Cancel | undefined;
  /** Since when commits fail (0: they do not), and the pending retry. */
  private failingSince = 0;
  private retryDelay = RETRY_FIRST;
  private retry: Cancel | undefined;
  /** Set once the store is given up: nothing is acknowledged any more. */
  failed: unknown;

  constructor(
    private readonly store: Store,
    interval: number,
    private readonly capacity: number,
    private readonly log: Logger,
    private readonly deps: MessageLogDeps = { collect: () => ({ deltas: [], restore: () => undefined }), onFatal: () => undefined },
  ) {
    this.batch = store.appendBatch ?? Infinity;
    this.appendNow = store.appendNow?.bind(store);
    this.timer = housekeeping(deps.scheduler, interval, () => void this.flush());
  }

  /** Continue the receive clock after what the store already holds. */
  async init(): Promise<void> {
    this.last = await this.store.lastRecv();
    this.lastMs = -1;
  }

  /** Entries not yet confirmed by the store. */
  get buffered(): number {
    return this.buffer.length + this.writing.length + this.held;
  }

  /** The buffer is full: a QoS1/2 publish is not taken (not acked, so its publisher re-sends it). */
  get saturated(): boolean {
    return this.buffer.length >= this.capacity;
  }

  /** The newest receive time handed out. */
  get head(): bigint {
    return this.last;
  }

  /** A strictly increasing receive time, ns since the epoch. */
  private now(): bigint {
    // Within one millisecond the clock cannot pass `last`: one bigint increment, no conversion.
    const ms = clockNow(this.deps.scheduler);
    if (ms === this.lastMs) return ++this.last;
    this.lastMs = ms;
    const ns = BigInt(ms) * 1_000_000n;
    this.last = ns > this.last ? ns : this.last + 1n;
    return this.last;
  }

  /**
   * Log one publish; returns its receive time. `argsBytes`, when given, are the args encoded
   * (no re-encoding on the hot path); a publish read in place (`LazyPub`) without them is
   * logged as a {@link FrameRow}: topic and args stay in its frame until the commit, or until
   * `appendNow` copies them (at once).
   */
  append(msg: PubMsg, slot: number | undefined, argsBytes?: Uint8Array, extra?: RowExtras): bigint {
    const recv = this.now();
    if (this.closed) return recv;
    const row = logRow(msg, recv, slot, argsBytes, extra);
    // Handed over at once unless earlier rows still wait for a commit (they go first).
    if (this.appendNow !== undefined && this.buffer.length === 0 && this.writing.length === 0) {
      try {
        if (this.appendNow(row) === true && ++this.held >= this.batch) void this.flush();
        return recv;
      } catch (err) {
        this.log.warn({ err: errorText(err) }, 'message log row not taken at once: buffered for the next commit');
      }
    }
    if (this.buffer.length >= this.capacity) {
      // The store cannot keep up: shed the oldest unflushed QoS0 entry rather than grow. A
      // QoS1/2 entry is never shed (its ACK may be waiting): the publish path refuses new
      // ones while the buffer is `saturated`.
      const at = this.buffer.findIndex((m) => (m.qos & 0x30) === 0);
      if (at >= 0) this.buffer.splice(at, 1);
      this.log.warn({ capacity: this.capacity }, 'message log buffer full: oldest QoS0 entry dropped');
    }
    this.buffer.push(row);
    // A full batch goes now rather than on the interval, in the size the store appends well.
    if (this.buffer.length >= this.batch) void this.flush();
    return recv;
  }

  /**
   * Resolves once everything appended and every twin change made so far is in the store
   * (group commit: the callers of one event-loop turn share one commit). Never resolves once
   * the store is given up.
   */
  durable(): Promise<void> {
    return new Promise<void>((resolve) => this.afterCommit(resolve));
  }

  /**
   * Call `done` once everything appended and changed before this call is committed: the
   * callbacks registered before a commit starts are called, in order, when it succeeds.
   */
  afterCommit(done: () => void): void {
    this.waiters.push(done);
    if (this.immediate === undefined && this.retry === undefined && this.failed === undefined) {
      this.immediate = soon(this.deps.scheduler, () => {
        this.immediate = undefined;
        void this.flush();
      });
    }
  }

  /** Write the buffer; concurrent calls coalesce into at most one more write. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.flushLoop().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    do {
      if (this.failed !== undefined) return;
      this.again = false;
      const batch = this.buffer;
      const waiters = this.waiters.splice(0);
      const twins = this.deps.collect();
      const held = this.held;
      if (batch.length === 0 && twins.deltas.length === 0 && held === 0) {
        for (const resolve of waiters) resolve();
        continue;
      }
      this.buffer = [];
      this.writing = batch;
      this.held = 0;
      try {
        await this.store.commit({ messages: batch, twins: twins.deltas });
      } catch (err) {
        // Keep rows and twin state for the next attempt; their publishers stay unacknowledged.
        this.buffer = batch.concat(this.buffer);
        this.waiters.unshift(...waiters);
        this.writing = [];
        this.held += held;
        twins.restore();
        this.commitFailed(err);
        return;
      }
      if (this.failingSince !== 0) {
        this.log.warn({ failedFor: clockNow(this.deps.scheduler) - this.failingSince }, 'message log store writable again');
        this.failingSince = 0;
        this.retryDelay = RETRY_FIRST;
      }
      this.writing = [];
      for (const resolve of waiters) resolve();
      this.deps.committed?.();
    } while (this.again || this.waiters.length > 0);
  }

  /** Retry with backoff; past `failureTimeout` the store is given up. */
  private commitFailed(err: unknown): void {
    const now = clockNow(this.deps.scheduler);
    if (this.failingSince === 0) this.failingSince = now;
    const failedFor = now - this.failingSince;
    if (failedFor >= (this.deps.failureTimeout ?? 30_000)) {
      this.failed = err;
      this.log.error({ err: errorText(err), failedFor }, 'message log store failed for good: nothing more is acknowledged');
      this.deps.onFatal(err);
      return;
    }
    this.log.error({ err: errorText(err), retryIn: this.retryDelay }, 'message log commit failed: nothing acknowledged until it succeeds');
    if (this.retry === undefined && !this.closed) {
      this.retry = later(this.deps.scheduler, this.retryDelay, () => {
        this.retry = undefined;
        void this.flush();
      });
      this.retryDelay = Math.min(RETRY_MAX, this.retryDelay * 2);
    }
  }

  /** Logged messages in (after, upTo], oldest first: the store, then the unflushed buffer. */
  async read(query: LogQuery): Promise<StoredMessage[]> {
    const stored = await this.store.readMessages(query);
    if (stored.length >= query.limit) return stored;
    const lastStored = stored.at(-1)?.recv ?? query.after;
    for (const m of [...this.writing, ...this.buffer]) {
      if (stored.length >= query.limit) break;
      if (m.recv > lastStored && m.recv <= query.upTo) stored.push(m);
    }
    return stored;
  }

  /** Drop logged messages older than `maxAge` ms. */
  async prune(maxAge: number): Promise<number> {
    const before = BigInt(clockNow(this.deps.scheduler) - maxAge) * 1_000_000n;
    return this.store.pruneMessages(before);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.timer();
    this.retry?.();
    this.retry = undefined;
    this.immediate?.();
    this.immediate = undefined;
    if (this.failed === undefined) await this.flush(); // the twins' last marks go with the last rows
    this.closed = true;
  }
}
