/**
 * The message log's size bound (`maxLogBytes`, README "Durability"): past it the oldest
 * messages are dropped, whole commits at a time, down to 15/16 of the bound (so a full log
 * trims once per 1/16 of the bound written, not at every commit). Nothing is dropped
 * silently: every message removed is counted (`stats().logDropped`, with those the memory
 * store drops past its own bounds), logged at warn at the first drop and at each doubling,
 * and at every trim that removes messages a named twin had not been sent — an offline twin
 * with a replaying subscription whose mark is older than the oldest message kept; its replay
 * then starts at that message. A replay asked from earlier gets what is kept.
 *
 * The check runs after a commit resolves, never inside it: one size read per commit, and the
 * trim is one more transaction queued behind the commits (the ACKs it follows are not delayed).
 */
import { errorText } from '../internal/logger.js';
import type { LogTrim, Store } from '../store/types.js';
import type { Logger } from '../types.js';

/** Named twins a trim may have cut from messages they were waiting for, by name. */
export type TwinsBehind = (oldest: bigint) => string[];

/** Names listed in one log line at most. */
const NAMES_LOGGED = 10;

export class LogBound {
  private trimmed = 0;
  private warnAt = 1;
  private trimming: Promise<void> | undefined;
  private evictedSeen = 0;
  /** The store's methods, read once (a metered store is a Proxy that binds at every read). */
  private readonly logBytes: (() => number) | undefined;
  private readonly trimTo: ((maxBytes: number) => Promise<LogTrim>) | undefined;
  private readonly evicted: () => number;
  /** Whether the store can be bounded through the broker (the memory store bounds itself). */
  readonly applies: boolean;

  constructor(store: Store, private readonly maxBytes: number | undefined,
    private readonly log: Logger, private readonly behind: TwinsBehind) {
    this.logBytes = store.logBytes?.bind(store);
    this.trimTo = store.trimMessages?.bind(store);
    this.evicted = store.evictedMessages?.bind(store) ?? (() => 0);
    this.applies = maxBytes !== undefined && this.logBytes !== undefined && this.trimTo !== undefined;
  }

  /** Messages dropped so far by the bound and by the store's own bounds. */
  get dropped(): number {
    return this.trimmed + this.evicted();
  }

  /** After a commit: trim in the background when the log is past its bound. */
  check(): void {
    if (!this.applies || this.trimming !== undefined || this.logBytes!() <= this.maxBytes!) return;
    this.trimming = this.trim().finally(() => { this.trimming = undefined; });
  }

  /** Trim now if past the bound (at start: a log left larger by an earlier run). Resolves when done. */
  async start(): Promise<void> {
    if (this.maxBytes !== undefined && !this.applies) {
      this.log.warn({ maxLogBytes: this.maxBytes }, 'maxLogBytes not applied: this store cannot bound its log by size');
    }
    if (!this.applies) return;
    await (this.trimming ?? this.trim());
  }

  /** The memory store's own drops, logged like the bound's (periodically: it drops as it appends). */
  sweep(): void {
    const evicted = this.evicted();
    if (evicted === this.evictedSeen) return;
    const now = evicted - this.evictedSeen;
    this.evictedSeen = evicted;
    if (this.dropped >= this.warnAt) this.warned(now, 'message log full (memory store maxMessages/maxBytes): oldest messages dropped');
  }

  private async trim(): Promise<void> {
    let trim: LogTrim;
    try {
      if (this.logBytes!() <= this.maxBytes!) return;
      trim = await this.trimTo!(this.maxBytes! - Math.floor(this.maxBytes! / 16));
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'message log trim failed: retried after the next commit');
      return;
    }
    if (trim.messages === 0) return;
    this.trimmed += trim.messages;
    const names = this.behind(trim.oldest);
    const fields = { bytesBefore: trim.before, bytesAfter: trim.after, oldest: String(trim.oldest), maxLogBytes: this.maxBytes };
    if (names.length > 0) {
      this.log.warn({ ...fields, dropped: trim.messages, total: this.dropped, twinsBehind: names.length,
        names: names.slice(0, NAMES_LOGGED) }, 'message log at its size bound: oldest messages dropped, some not yet sent to these offline twins');
    } else if (this.dropped >= this.warnAt) {
      this.warned(trim.messages, 'message log at its size bound (maxLogBytes): oldest messages dropped', fields);
    } else {
      this.log.debug({ ...fields, dropped: trim.messages, total: this.dropped }, 'message log trimmed to its size bound');
    }
  }

  private warned(now: number, message: string, fields: object = {}): void {
    this.warnAt = this.dropped * 2;
    this.log.warn({ ...fields, dropped: now, total: this.dropped, nextWarningAt: this.warnAt }, message);
  }
}
