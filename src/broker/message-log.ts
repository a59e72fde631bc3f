/**
 * The broker's message log (spec §4.7): every accepted publish gets a receive time and is
 * appended to an in-memory buffer, flushed to the Store on an interval — and at once when a
 * QoS1/2 publisher waits for its ACK, which is sent only after the flush (an acknowledged
 * message survives a crash). Reads merge the Store with the not-yet-flushed buffer.
 */
import { encodeValue } from '../codec/cbor.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import type { LogQuery, Store, StoredMessage } from '../store/types.js';
import type { Logger } from '../types.js';

/** Extra work done by every flush, after the log rows are durable (twin state, marks). */
export type FlushHook = () => Promise<void>;

export class MessageLog {
  private buffer: StoredMessage[] = [];
  /** Rows handed to the store but not yet confirmed: still served to readers. */
  private writing: StoredMessage[] = [];
  private last = 0n;
  private flushing: Promise<void> | undefined;
  private again = false;
  private readonly waiters: (() => void)[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  /**
   * The hooks (twin marks and QoS2 sets, O(twins)) run on the interval and for durable()
   * callers, not for every batch a busy log hands over.
   */
  private hooksDue = false;
  /** Entries that trigger a flush before the interval (the store's `appendBatch`). */
  private readonly batch: number;

  constructor(
    private readonly store: Store,
    interval: number,
    private readonly capacity: number,
    private readonly log: Logger,
    private readonly hooks: FlushHook[] = [],
  ) {
    this.batch = store.appendBatch ?? Infinity;
    this.timer = setInterval(() => {
      this.hooksDue = true;
      void this.flush();
    }, interval);
    this.timer.unref();
  }

  /** Continue the receive clock after what the store already holds. */
  async init(): Promise<void> {
    this.last = await this.store.lastRecv();
  }

  /** Entries not yet confirmed by the store. */
  get buffered(): number {
    return this.buffer.length + this.writing.length;
  }

  /** The newest receive time handed out. */
  get head(): bigint {
    return this.last;
  }

  /** A strictly increasing receive time, ns since the epoch. */
  private now(): bigint {
    const ns = BigInt(Date.now()) * 1_000_000n;
    this.last = ns > this.last ? ns : this.last + 1n;
    return this.last;
  }

  /**
   * Log one publish; returns its receive time. `argsBytes`, when given, are the publisher's own
   * encoding of the args (no re-encoding on the hot path).
   */
  append(msg: PubMsg, slot: number | undefined, argsBytes?: Uint8Array): bigint {
    const recv = this.now();
    if (this.closed) return recv;
    if (this.buffer.length >= this.capacity) {
      // The store cannot keep up: shed the oldest unflushed QoS0 entry rather than grow.
      const at = this.buffer.findIndex((m) => (m.qos & 0x30) === 0);
      this.buffer.splice(at >= 0 ? at : 0, 1);
      this.log.warn({ capacity: this.capacity }, 'message log buffer full: oldest entry dropped');
    }
    this.buffer.push({
      recv, slot: slot ?? null, qos: msg.flags & 0xf0, uid: msg.id ?? null, topic: msg.topic, data: argsBytes ?? encodeValue(msg.args),
    });
    // A full batch goes now rather than on the interval, in the size the store appends well.
    if (this.buffer.length >= this.batch) void this.flush();
    return recv;
  }

  /** Resolves once everything appended so far is in the store (group commit). */
  durable(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setImmediate(() => void this.flush());
    });
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
      this.again = false;
      const batch = this.buffer;
      const waiters = this.waiters.splice(0);
      this.buffer = [];
      this.writing = batch;
      try {
        if (batch.length > 0) await this.store.appendMessages(batch);
        if (this.hooksDue || waiters.length > 0) {
          this.hooksDue = false;
          for (const hook of this.hooks) await hook();
        }
      } catch (err) {
        // Keep the rows for the next attempt; their publishers stay unacknowledged.
        this.log.error({ err: errorText(err) }, 'message log flush failed');
        this.buffer = batch.concat(this.buffer);
        this.waiters.unshift(...waiters);
        this.writing = [];
        this.hooksDue = true;
        return;
      }
      this.writing = [];
      for (const resolve of waiters) resolve();
    } while (this.again || this.waiters.length > 0);
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
    const before = BigInt(Date.now() - maxAge) * 1_000_000n;
    return this.store.pruneMessages(before);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.hooksDue = true; // the twins' last marks go with the last batch
    await this.flush();
    this.closed = true;
  }
}
