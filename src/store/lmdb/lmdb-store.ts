/**
 * The broker Store on LMDB (the `lmdb` package), the default of a durable broker. The log is
 * written in packed batches: one record per commit (at most {@link RECORD_ROWS} messages),
 * keyed by the recv of its first message, so a commit costs one put whatever its size; replay
 * reads the records that overlap its window and filters. The twins' state lives in a second
 * database of small keys (one per subscription, method, QoS2 id, mark), so a declaration
 * writes one key, never the twin's whole record. A commit is one LMDB transaction: the log
 * rows, marks and QoS2 sets it carries are found together after a crash, or not at all.
 * Operations run in call order (txn-queue.ts); the log's reads and prunes are log-rows.ts.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Logger } from '../../types.js';
import { silentLogger } from '../../internal/logger.js';
import { loadLmdb } from './lmdb-engine.js';
import { IntervalSync } from './interval-sync.js';
import type { LogQuery, LogTrim, Store, StoreBatch, StoredMessage, TwinRecord } from '../types.js';
import { clearsRetained } from '../retained-rows.js';
import { decodeRecord, encodeRecord, recvKey } from './log-record.js';
import { pruneLogRows, readLogRows, type LogDatabase } from './log-rows.js';
import { pagesBytes, planTrim, type PageStats } from './log-trim.js';
import { PENDING_RECORD_ROWS, PendingLog } from './pending-log.js';
import { TxnQueue } from './txn-queue.js';
import { applyTwinDelta, loadTwinRows, removeTwinRows } from './twin-rows.js';

/** Messages packed in one log record at most. */
export const RECORD_ROWS = PENDING_RECORD_ROWS;

/** What an acknowledged write has reached (see the README, "Durability"). */
export type FsyncMode = 'off' | 'interval' | 'always';

/** Options of {@link openLmdbStore}. */
export interface LmdbStoreOptions {
  /** The database file (`<path>` and `<path>-lock`); its directory is created when missing. */
  readonly path: string;
  /**
   * `'off'` (default): a resolved commit is written to the OS (survives the process being
   * killed); `'interval'`: and the file is synced every `fsyncInterval` ms; `'always'`: a
   * commit resolves once synced to disk (group commit; survives power loss).
   */
  readonly fsync?: FsyncMode;
  /** Sync period of `fsync: 'interval'`, ms. Default 1_000. */
  readonly fsyncInterval?: number;
  readonly logger?: Logger;
}

class LmdbStoreImpl implements Store {
  readonly appendBatch = RECORD_ROWS;
  private closing: Promise<void> | undefined;
  /** Calls apply in call order, reads see the writes queued before them. */
  private readonly txns: TxnQueue;
  /** Orders the QoS2 ids of a twin as they were added (the broker evicts the oldest). */
  private seq = Date.now() * 1000;
  /** Rows taken by `appendNow`, packed, until a `commit` writes them. */
  private readonly pending = new PendingLog();
  /** The log's pages at the last measure (-1: not yet), and the record bytes put since (log-trim.ts). */
  private measured = -1;
  private written = 0;

  constructor(private readonly root: RootDatabase, private readonly log: LogDatabase,
    private readonly twins: Database<unknown, Buffer>, private readonly retained: Database<Uint8Array, string>,
    private readonly syncer: IntervalSync | undefined,
    private readonly logger: Logger,
    /** Commit on lmdb's write thread (`fsync: 'always'`: the sync must not block the event loop). */
    offLoop: boolean) {
    this.txns = new TxnQueue(root, offLoop);
  }

  /**
   * Writes the rows taken by `appendNow` before this call (packed then), `messages`, their
   * retained values and the twins' changes in one transaction. A failed commit leaves the
   * rows it took held (and readable) for the next.
   */
  commit(batch: StoreBatch): Promise<void> {
    const taken = this.pending.take();
    return this.txns.write(() => {
      for (const r of taken.records) {
        if (r.done) continue;
        void this.log.put(r.key, r.bytes);
        this.written += r.bytes.length;
      }
      for (const r of taken.retained) {
        if (r.done) continue;
        if (r.value === undefined) void this.retained.remove(r.topic);
        else void this.retained.put(r.topic, r.value);
      }
      this.writeBatch(batch);
    }, () => this.pending.committed(taken));
  }

  /**
   * Packs a row into the record the next `commit` writes (issue 14, W9: the copy is made while
   * the publish's frame is in cache, and nothing of it outlives the turn); true: held for the
   * next commit. Throws when too many wait: the broker then holds them itself.
   */
  appendNow(row: StoredMessage): boolean {
    this.pending.add(row);
    return true;
  }

  private writeBatch({ messages, twins }: StoreBatch): void {
    for (let at = 0; at < messages.length; at += RECORD_ROWS) {
      const record = encodeRecord(messages, at, Math.min(messages.length, at + RECORD_ROWS));
      void this.log.put(recvKey(messages[at]!.recv), record);
      this.written += record.length;
    }
    // Retained values: one key per topic, in the same transaction as their log rows.
    for (const m of messages) {
      if (m.retain !== true) continue;
      if (clearsRetained(m)) void this.retained.remove(m.topic);
      else void this.retained.put(m.topic, encodeRecord([m]));
    }
    for (const delta of twins) applyTwinDelta(this.twins, () => this.seq++, delta);
  }

  appendMessages(batch: readonly StoredMessage[]): Promise<void> {
    return this.txns.write(() => this.writeBatch({ messages: batch, twins: [] }));
  }

  readMessages(query: LogQuery): Promise<StoredMessage[]> {
    return this.txns.serial(() => readLogRows(this.log, this.pending, query));
  }

  loadRetained(): Promise<StoredMessage[]> {
    return this.txns.serial(() => {
      const values = new Map<string, StoredMessage[]>();
      for (const { key, value } of this.retained.getRange({})) values.set(key, decodeRecord(value).rows);
      // With the changes of rows taken at once and not committed yet.
      for (const c of this.pending.retainedChanges) {
        if (c.done) continue;
        if (c.value === undefined) values.delete(c.topic);
        else values.set(c.topic, decodeRecord(c.value).rows);
      }
      return [...values.values()].flat();
    });
  }

  lastRecv(): Promise<bigint> {
    return this.txns.serial(() => {
      if (this.pending.size > 0) return this.pending.lastRecv;
      for (const { value } of this.log.getRange({ reverse: true, limit: 1 })) return decodeRecord(value).last;
      return 0n;
    });
  }

  async pruneMessages(before: bigint): Promise<number> {
    let removed = 0;
    await this.txns.write(() => { removed = pruneLogRows(this.log, before); });
    return removed;
  }

  /** The log's pages at the last measure, plus the record bytes put since (an estimate). */
  logBytes(): number {
    if (this.measured < 0) this.measure();
    return this.measured + this.written;
  }

  trimMessages(maxBytes: number): Promise<LogTrim> {
    return this.txns.serial(async () => {
      const before = this.measure();
      const plan = planTrim(this.log.getRange({}), before, maxBytes, (this.log.getStats() as PageStats).pageSize);
      // Two transactions: LMDB reuses the pages a transaction freed only once a later one has
      // committed, so the next commit finds the first half's pages free even on a full disk.
      const half = Math.ceil(plan.keys.length / 2);
      for (const keys of [plan.keys.slice(0, half), plan.keys.slice(half)]) {
        if (keys.length > 0) await this.txns.writeNow(() => { for (const key of keys) void this.log.remove(key); });
      }
      return { messages: plan.messages, before, after: this.measure(), oldest: plan.oldest };
    });
  }

  private measure(): number {
    this.written = 0;
    return this.measured = pagesBytes(this.log.getStats() as PageStats);
  }

  saveTwin(twin: TwinRecord): Promise<void> {
    return this.txns.write(() => {
      removeTwinRows(this.twins, twin.name);
      applyTwinDelta(this.twins, () => this.seq++, {
        name: twin.name, mark: twin.mark,
        subscriptions: new Map(twin.subscriptions),
        exposed: new Map(twin.exposed.map((m) => [m, true])),
        awaitingAck2: new Map(twin.awaitingAck2.map((id) => [id, true])),
      });
    });
  }

  saveMarks(marks: ReadonlyMap<string, bigint>): Promise<void> {
    return this.txns.write(() => this.writeBatch({ messages: [], twins: [...marks].map(([name, mark]) => ({ name, mark })) }));
  }

  loadTwins(): Promise<TwinRecord[]> {
    return this.txns.serial(() => loadTwinRows(this.twins));
  }

  deleteTwin(name: string): Promise<void> {
    return this.txns.write(() => removeTwinRows(this.twins, name));
  }

  close(): Promise<void> {
    return this.closing ??= (async () => {
      const drained = this.txns.close();
      await this.syncer?.stop(); // lmdb's queued sync reads the env when it runs: closed, it crashes
      await drained;
      this.logger.debug('closing lmdb store');
      await this.root.close();
    })();
  }
}

/**
 * Open (or create) the LMDB broker Store. `lmdb` is loaded here, on first use: a broker in
 * memory or a client never maps its native library.
 *
 * @example
 * ```ts
 * import { broker, openLmdbStore } from 'rembus/broker';
 * const b = await broker({ store: await openLmdbStore({ path: '/var/lib/rembus/broker.lmdb', fsync: 'always' }) });
 * ```
 * @throws MissingPackageError when the `lmdb` package is not installed; StoreUnavailableError when it cannot load
 */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  const { open } = await loadLmdb();
  const fsync = options.fsync ?? 'off';
  const root = open({
    path: options.path,
    // 'off'/'interval': a commit is a write to the OS; 'always': it waits for the sync (group commit).
    noSync: fsync !== 'always',
    overlappingSync: false,
    // Our commits are explicit batches: no implicit per-turn batch, whose commit promise lmdb
    // rejects with nobody listening when the disk fails.
    eventTurnBatching: false,
  });
  const log = root.openDB<Uint8Array, Buffer>({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
  const twins = root.openDB<unknown, Buffer>({ name: 'twins', keyEncoding: 'binary' });
  const retained = root.openDB<Uint8Array, string>({ name: 'retained', encoding: 'binary' });
  const syncer = fsync === 'interval' ? new IntervalSync(root, options.fsyncInterval ?? 1_000) : undefined;
  return new LmdbStoreImpl(root, log, twins, retained, syncer, options.logger ?? silentLogger, fsync === 'always');
}
