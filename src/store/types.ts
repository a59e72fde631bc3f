/**
 * The broker's durable state (spec §4.7, §8.1): the message log, and each named twin's
 * subscriptions, exposed methods, delivery mark and QoS2 "awaiting ACK2" ids.
 * Every backend passes `storeContract` from `rembus/testing`.
 */

/** One logged publish (table `message`). */
export interface StoredMessage {
  /** Broker receive time, ns since the epoch; strictly increasing within one broker. */
  readonly recv: bigint;
  /** The slot of a slotted publish, else null. */
  readonly slot: number | null;
  /** The PUB flags byte: 0x00, 0x10, 0x30, possibly | 0x40. */
  readonly qos: number;
  /** The message id as uint64, null for QoS0 without slot. */
  readonly uid: bigint | null;
  readonly topic: string;
  /** CBOR encoding of the args array (the PY form; DataFrames stay tag 80). */
  readonly data: Uint8Array;
  /** When it expires (a TS publish `ttl`), ns since the epoch; absent or null: never. Never replayed after. */
  readonly expires?: bigint | null;
  /**
   * Published with `retain` (TS): besides the log row, the store keeps it as its topic's
   * retained value, in the same commit; empty args (`data` = `[]`) clear that value instead.
   */
  readonly retain?: boolean;
  /**
   * The publisher, kept while tenants are isolated (a replay stays in its tenant) and with
   * retained values: its name ('' anonymous), or null for the broker's own publish (bridges,
   * `broker.publish`: every tenant). Absent: none kept (logged without isolation, or before
   * the log kept it) — with isolated tenants such a row replays to no tenant (guard.ts).
   */
  readonly origin?: string | null;
}

/** What the broker remembers of a named component between its connections. */
export interface TwinRecord {
  readonly name: string;
  /** topic or pattern → msg_from (ns; 0 Now, +Infinity LastReceived). */
  readonly subscriptions: ReadonlyMap<string, number>;
  readonly exposed: readonly string[];
  /** recv of the last message delivered to it; 0n when none. */
  readonly mark: bigint;
  /** QoS2 ids received from it and not yet released by ACK2. */
  readonly awaitingAck2: readonly bigint[];
}

/** What one trim of the log to its size bound removed (`Store.trimMessages`). */
export interface LogTrim {
  /** Messages removed, oldest first. */
  readonly messages: number;
  /** Bytes the log took before and after (`Store.logBytes`). */
  readonly before: number;
  readonly after: number;
  /** recv of the oldest message kept; 0n when none is (or none was removed). */
  readonly oldest: bigint;
}

/** A window of the log to read, oldest first. */
export interface LogQuery {
  /** Exclusive lower bound on recv. */
  readonly after: bigint;
  /** Inclusive upper bound on recv. */
  readonly upTo: bigint;
  /** At most this many rows. */
  readonly limit: number;
}

/**
 * What changed in one named twin since the last commit. Absent fields are unchanged; in the
 * maps, `null` / `false` removes the entry.
 */
export interface TwinDelta {
  readonly name: string;
  /** The new delivery mark. */
  readonly mark?: bigint;
  /** topic or pattern → msg_from, or null when unsubscribed. */
  readonly subscriptions?: ReadonlyMap<string, number | null>;
  /** method → exposed (true) or withdrawn (false). */
  readonly exposed?: ReadonlyMap<string, boolean>;
  /** QoS2 id → awaiting ACK2 (true) or released (false); additions keep their order. */
  readonly awaitingAck2?: ReadonlyMap<bigint, boolean>;
}

/** One atomic write: log rows and the twin state that refers to them. */
export interface StoreBatch {
  /** Messages to append, already in recv order. */
  readonly messages: readonly StoredMessage[];
  readonly twins: readonly TwinDelta[];
}

/** Durable broker state. Methods may be called concurrently; writes apply in call order. */
export interface Store {
  /**
   * Messages per `appendMessages` call this backend handles best: the broker's log hands over
   * a batch as soon as this many wait, rather than on its interval only. Default: the interval
   * alone decides.
   */
  readonly appendBatch?: number;
  /**
   * Take one row into the log now, synchronously: for a store whose write is a copy in memory
   * and that keeps nothing across a crash anyway (the memory store). The broker's log then
   * hands each row over as it logs it instead of holding it for `commit` (whose batches then
   * carry the twins' changes alone): the row is readable at once, and nothing of the publish
   * outlives its turn. Rows come in recv order, after every row of an earlier `commit`. The
   * broker still acknowledges only after the next `commit` resolves (group commit, twins with
   * it). Throwing means not taken: the broker then holds that row, and the rows after it, for
   * `commit`, as for a store without this method.
   *
   * A store that keeps the rows it took for its next `commit` to write (LMDB: packed at once)
   * returns true: the broker then commits them as it would buffered rows (on its interval, when
   * `appendBatch` wait, before any acknowledgement), with the twins' changes made since. Such a
   * `commit` writes every row taken before it was called, and on failure keeps them (readable)
   * for the next.
   */
  appendNow?(row: StoredMessage): boolean | void;
  /**
   * Apply a batch atomically: after a crash either all of it is found or none. Resolved means
   * written as the backend's durability setting promises (at least handed to the OS). This is
   * the broker's only write on its hot path: a twin's mark and QoS2 set are never stored apart
   * from the log rows they refer to.
   */
  commit(batch: StoreBatch): Promise<void>;
  /** Append messages (already in recv order) durably: resolved means written. */
  appendMessages(batch: readonly StoredMessage[]): Promise<void>;
  /** Logged messages in (after, upTo], oldest first, at most `limit`. */
  readMessages(query: LogQuery): Promise<StoredMessage[]>;
  /** The largest recv logged, or 0n. */
  lastRecv(): Promise<bigint>;
  /** Drop messages with recv < `before`; resolves with how many were removed. */
  pruneMessages(before: bigint): Promise<number>;
  /**
   * Bytes the log takes in the store now (LMDB: its pages), an estimate read synchronously:
   * a broker with `maxLogBytes` reads it after each commit. Absent: the log cannot be bounded
   * by size through the broker (the memory store bounds itself, see `evictedMessages`).
   */
  logBytes?(): number;
  /**
   * Remove the oldest messages, whole commits at a time, until the log takes at most
   * `maxBytes`; never the newest commit. Goes after every write queued before it.
   */
  trimMessages?(maxBytes: number): Promise<LogTrim>;
  /** Messages the store dropped by its own bounds so far (the memory store's ring). */
  evictedMessages?(): number;
  /** Replace everything known of a twin. */
  saveTwin(twin: TwinRecord): Promise<void>;
  /** Update only marks (the frequent write). */
  saveMarks(marks: ReadonlyMap<string, bigint>): Promise<void>;
  loadTwins(): Promise<TwinRecord[]>;
  deleteTwin(name: string): Promise<void>;
  /**
   * The retained values (rows committed with `retain`, latest per topic, cleared by an empty
   * one), in no particular order; they are never pruned with the log. A backend without it
   * keeps none: the broker then holds retained values in memory only (lost on restart).
   */
  loadRetained?(): Promise<StoredMessage[]>;
  /** Release every resource. Idempotent. */
  close(): Promise<void>;
}
