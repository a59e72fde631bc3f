/**
 * A Store in memory: for tests and for brokers started without persistence. Its log is
 * bounded by the broker's retention and by its own size limits.
 */
import { MessageRing } from './message-ring.js';
import { applyRetained } from './retained-rows.js';
import { applyTwinDelta } from './twin-delta.js';
import type { LogQuery, LogTrim, Store, StoreBatch, StoredMessage, TwinRecord } from './types.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most logged messages kept; past it the oldest 4,096 go at once. Default 10,000: the last
   * few seconds of a busy broker, for `msg_from` replays and named components that reconnect,
   * in about 2 MiB. Raise it (and `maxBytes`) for longer replays from memory, or give the
   * broker a `dataDir`.
   */
  readonly maxMessages?: number;
  /** Most bytes of logged topics and args kept; past it the oldest go. Default 8 MiB. */
  readonly maxBytes?: number;
}

/** Defaults of {@link MemoryStoreOptions}. */
export const MEMORY_LOG_DEFAULTS = { maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 } as const;
/**
 * Log entries the broker buffers before it commits them to a memory store (`Store.appendBatch`):
 * only when `appendNow` refused a row (the broker then buffers until a commit took them).
 */
export const MEMORY_APPEND_BATCH = 64;

class MemoryStore implements Store {
  /**
   * Small batches for the broker's fallback buffer (see `appendNow`): log entries waiting in it
   * survive the young generation's collections and make V8 grow it (issue 20, W7).
   */
  readonly appendBatch = MEMORY_APPEND_BATCH;
  private readonly log: MessageRing;
  private readonly twins = new Map<string, TwinRecord>();
  /** topic → its retained row (bounded by the broker's retained limits). */
  private readonly retained = new Map<string, StoredMessage>();

  constructor({ maxMessages = MEMORY_LOG_DEFAULTS.maxMessages, maxBytes = MEMORY_LOG_DEFAULTS.maxBytes }: MemoryStoreOptions) {
    this.log = new MessageRing({ maxMessages, maxBytes });
  }

  async commit({ messages, twins }: StoreBatch): Promise<void> {
    for (const m of messages) this.log.append(m);
    applyRetained(this.retained, messages);
    for (const delta of twins) this.twins.set(delta.name, applyTwinDelta(this.twins.get(delta.name), delta));
  }

  /**
   * The broker's log hands each row over as it logs it (issue 20, W7): a copy into the ring, so
   * no row, and no frame it is a view of, waits across the turn for a commit. Rows buffered
   * for a commit instead survived W2's scavenges (45–130 KiB each) and grew the young generation.
   */
  appendNow(row: StoredMessage): void {
    this.log.append(row);
    if (row.retain === true) applyRetained(this.retained, [row]);
  }

  async appendMessages(batch: readonly StoredMessage[]): Promise<void> {
    for (const m of batch) this.log.append(m);
    applyRetained(this.retained, batch);
  }

  async loadRetained(): Promise<StoredMessage[]> {
    return [...this.retained.values()];
  }

  async readMessages(query: LogQuery): Promise<StoredMessage[]> {
    return this.log.read(query);
  }

  async lastRecv(): Promise<bigint> {
    return this.log.lastRecv;
  }

  async pruneMessages(before: bigint): Promise<number> {
    return this.log.prune(before);
  }

  /** Arena bytes the ring holds (its segments, 512 KiB each). */
  logBytes(): number {
    return this.log.byteSize;
  }

  async trimMessages(maxBytes: number): Promise<LogTrim> {
    const before = this.log.byteSize;
    const messages = this.log.trim(maxBytes);
    return { messages, before, after: this.log.byteSize, oldest: messages === 0 ? 0n : this.log.firstRecv };
  }

  /** Messages dropped past `maxMessages` / `maxBytes` (the broker counts and logs them). */
  evictedMessages(): number {
    return this.log.evicted;
  }

  async saveTwin(twin: TwinRecord): Promise<void> {
    this.twins.set(twin.name, { ...twin, subscriptions: new Map(twin.subscriptions), exposed: [...twin.exposed],
      awaitingAck2: [...twin.awaitingAck2] });
  }

  async saveMarks(marks: ReadonlyMap<string, bigint>): Promise<void> {
    for (const [name, mark] of marks) {
      const twin = this.twins.get(name);
      this.twins.set(name, twin === undefined
        ? { name, subscriptions: new Map(), exposed: [], mark, awaitingAck2: [] }
        : { ...twin, mark });
    }
  }

  async loadTwins(): Promise<TwinRecord[]> {
    return [...this.twins.values()];
  }

  async deleteTwin(name: string): Promise<void> {
    this.twins.delete(name);
  }

  async close(): Promise<void> {
    /* nothing held */
  }
}

/**
 * A Store that keeps everything in memory (lost when the process ends). Its message log is
 * bounded (`maxMessages`, `maxBytes`): past either bound the oldest messages are dropped, so
 * a replay then starts later than asked; the twins are kept whole.
 *
 * @example
 * ```ts
 * import { broker } from 'rembus/broker';
 * import { memoryStore } from 'rembus/broker';
 * const b = await broker({ port: 0, store: memoryStore() });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  return new MemoryStore(options);
}
