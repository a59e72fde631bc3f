/**
 * The broker Store on LMDB (the `lmdb` package), the default of a durable broker. The log is
 * written in packed batches: one record per commit (at most {@link RECORD_ROWS} messages),
 * keyed by the recv of its first message, so a commit costs one put whatever its size; replay
 * reads the records that overlap its window and filters. The twins' state lives in a second
 * database of small keys (one per subscription, method, QoS2 id, mark), so a declaration
 * writes one key, never the twin's whole record. A commit is one LMDB transaction: the log
 * rows, marks and QoS2 sets it carries are found together after a crash, or not at all.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Logger } from '../../types.js';
import { ConnectionClosedError, MissingPackageError } from '../../errors.js';
import { importOptional } from '../../internal/optional.js';
import { silentLogger } from '../../internal/logger.js';
import { StoreUnavailableError, StoreWriteError } from '../errors.js';
import type { LogQuery, Store, StoreBatch, StoredMessage, TwinDelta, TwinRecord } from '../types.js';
import { clearsRetained } from '../retained-rows.js';
import { decodeRecord, encodeRecord, recvKey, type LogRecord } from './log-record.js';
import { twinKey, twinPrefix, parseTwinKey } from './twin-keys.js';

/** Messages packed in one log record at most. */
export const RECORD_ROWS = 4096;

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
  /** The last queued operation: calls apply in call order, reads see the writes queued before them. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Orders the QoS2 ids of a twin as they were added (the broker evicts the oldest). */
  private seq = Date.now() * 1000;

  constructor(private readonly root: RootDatabase, private readonly log: Database<Uint8Array, Buffer>,
    private readonly twins: Database<unknown, Buffer>, private readonly retained: Database<Uint8Array, string>,
    private readonly syncTimer: ReturnType<typeof setInterval> | undefined,
    private readonly logger: Logger,
    /** Commit on lmdb's write thread (`fsync: 'always'`: the sync must not block the event loop). */
    private readonly offLoop: boolean) {}

  commit({ messages, twins }: StoreBatch): Promise<void> {
    return this.write(() => {
      for (let at = 0; at < messages.length; at += RECORD_ROWS) {
        void this.log.put(recvKey(messages[at]!.recv), encodeRecord(messages, at, Math.min(messages.length, at + RECORD_ROWS)));
      }
      // Retained values: one key per topic, in the same transaction as their log rows.
      for (const m of messages) {
        if (m.retain !== true) continue;
        if (clearsRetained(m)) void this.retained.remove(m.topic);
        else void this.retained.put(m.topic, encodeRecord([m]));
      }
      for (const delta of twins) this.applyDelta(delta);
    });
  }

  appendMessages(batch: readonly StoredMessage[]): Promise<void> {
    return this.commit({ messages: batch, twins: [] });
  }

  readMessages(query: LogQuery): Promise<StoredMessage[]> {
    return this.serial(() => this.readNow(query));
  }

  private readNow({ after, upTo, limit }: LogQuery): StoredMessage[] {
    const out: StoredMessage[] = [];
    if (limit <= 0 || upTo <= after) return out;
    for (const record of this.records(after < 0n ? 0n : after + 1n)) {
      if (record.first > upTo) break;
      for (const m of record.rows) {
        if (m.recv <= after) continue;
        if (m.recv > upTo || out.length >= limit) return out;
        out.push(m);
      }
    }
    return out;
  }

  loadRetained(): Promise<StoredMessage[]> {
    return this.serial(() => [...this.retained.getRange({})].flatMap(({ value }) => decodeRecord(value).rows));
  }

  lastRecv(): Promise<bigint> {
    return this.serial(() => {
      for (const { value } of this.log.getRange({ reverse: true, limit: 1 })) return decodeRecord(value).last;
      return 0n;
    });
  }

  async pruneMessages(before: bigint): Promise<number> {
    let removed = 0;
    await this.write(() => {
      // Read first, then change: no removal under a live cursor.
      const drop: Buffer[] = [];
      let kept: StoredMessage[] = [];
      for (const { key, value } of this.log.getRange({})) {
        const record = decodeRecord(value);
        if (record.first >= before) break;
        drop.push(key);
        kept = record.rows.filter((m) => m.recv >= before);
        removed += record.rows.length - kept.length;
        if (kept.length > 0) break;
      }
      for (const key of drop) void this.log.remove(key);
      if (kept.length > 0) void this.log.put(recvKey(kept[0]!.recv), encodeRecord(kept));
    });
    return removed;
  }

  saveTwin(twin: TwinRecord): Promise<void> {
    return this.write(() => {
      this.removeTwin(twin.name);
      this.applyDelta({
        name: twin.name, mark: twin.mark,
        subscriptions: new Map(twin.subscriptions),
        exposed: new Map(twin.exposed.map((m) => [m, true])),
        awaitingAck2: new Map(twin.awaitingAck2.map((id) => [id, true])),
      });
    });
  }

  saveMarks(marks: ReadonlyMap<string, bigint>): Promise<void> {
    return this.commit({ messages: [], twins: [...marks].map(([name, mark]) => ({ name, mark })) });
  }

  loadTwins(): Promise<TwinRecord[]> {
    return this.serial(() => this.loadNow());
  }

  private loadNow(): TwinRecord[] {
    type Building = { name: string; mark: bigint; subscriptions: Map<string, number>; exposed: string[] };
    const twins = new Map<string, { record: Building; ack2: [number, bigint][] }>();
    for (const { key, value } of this.twins.getRange({})) {
      const k = parseTwinKey(key);
      let t = twins.get(k.twin);
      if (t === undefined) twins.set(k.twin, t = { record: { name: k.twin, mark: 0n, subscriptions: new Map(), exposed: [] }, ack2: [] });
      const r = t.record;
      if (k.kind === 'm') r.mark = BigInt(value as string);
      else if (k.kind === 's') r.subscriptions.set(k.rest, value as number);
      else if (k.kind === 'e') r.exposed.push(k.rest);
      else t.ack2.push([value as number, BigInt(k.rest)]);
    }
    return [...twins.values()].map(({ record, ack2 }) => ({
      ...record, awaitingAck2: ack2.sort((a, b) => a[0] - b[0]).map(([, id]) => id),
    }));
  }

  deleteTwin(name: string): Promise<void> {
    return this.write(() => this.removeTwin(name));
  }

  close(): Promise<void> {
    return this.closing ??= (async () => {
      clearInterval(this.syncTimer);
      await this.queue.catch(() => undefined);
      this.logger.debug('closing lmdb store');
      await this.root.close();
    })();
  }

  /**
   * One transaction, in call order. The action writes with `put`/`remove`, which apply at once
   * inside a synchronous transaction and are queued inside a `batch`.
   *
   * `fsync: 'off' | 'interval'`: committed synchronously, a `write(2)` to the OS of a few tens
   * of µs that the broker would wait for anyway. `fsync: 'always'`: the action runs now, on
   * the event loop, and the transaction commits and syncs on lmdb's write thread (`batch`:
   * one transaction; lmdb's async transaction callbacks never resolve with lmdb 3.5.6 here), so
   * the loop keeps serving while the disk syncs and the promise resolves once the data is on
   * disk. A failed commit rejects with {@link StoreWriteError}; lmdb's own second rejection of
   * it (`commitError`) is handled here, so a full disk cannot become an unhandled rejection.
   */
  private write(action: () => void): Promise<void> {
    return this.serial(async () => {
      try {
        if (!this.offLoop) this.root.transactionSync(action);
        else await this.root.batch(action);
      } catch (err) {
        const detail = await engineError(err);
        throw new StoreWriteError(`lmdb commit failed: ${(detail as Error).message}`, { cause: detail });
      }
    });
  }

  /** Run `op` after every operation queued before it. */
  private serial<T>(op: () => T | Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(closedError());
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Log records from the one holding `from` on, oldest first. */
  private *records(from: bigint): Generator<LogRecord> {
    let start: Buffer | undefined;
    for (const key of this.log.getKeys({ start: recvKey(from), reverse: true, limit: 1 })) start = key;
    for (const { value } of this.log.getRange(start === undefined ? {} : { start })) yield decodeRecord(value);
  }

  private applyDelta(d: TwinDelta): void {
    const { name } = d;
    const markKey = twinKey('m', name);
    if (d.mark !== undefined) void this.twins.put(markKey, d.mark.toString());
    else if (this.twins.get(markKey) === undefined) void this.twins.put(markKey, '0'); // the twin exists
    for (const [topic, from] of d.subscriptions ?? []) {
      if (from === null) void this.twins.remove(twinKey('s', name, topic));
      else void this.twins.put(twinKey('s', name, topic), from);
    }
    for (const [method, on] of d.exposed ?? []) {
      if (on) void this.twins.put(twinKey('e', name, method), true);
      else void this.twins.remove(twinKey('e', name, method));
    }
    for (const [id, on] of d.awaitingAck2 ?? []) {
      if (on) void this.twins.put(twinKey('q', name, id.toString()), this.seq++);
      else void this.twins.remove(twinKey('q', name, id.toString()));
    }
  }

  private removeTwin(name: string): void {
    for (const kind of ['m', 's', 'e', 'q'] as const) {
      const { start, end } = twinPrefix(kind, name);
      for (const key of [...this.twins.getKeys({ start, end })]) void this.twins.remove(key);
    }
  }
}

/**
 * The engine's own error behind lmdb's "Commit failed (see commitError for details)": lmdb
 * rejects `commitError` in the same callback as the commit, so one macrotask bounds the wait.
 */
function engineError(err: unknown): Promise<unknown> {
  const inner = (err as { commitError?: Promise<unknown> }).commitError;
  if (inner === undefined) return Promise.resolve(err);
  return Promise.race([inner.then(() => err, (e: unknown) => e), new Promise((done) => setImmediate(() => done(err)))]);
}

function closedError(): Error {
  return new ConnectionClosedError('store closed');
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
  let timer: ReturnType<typeof setInterval> | undefined;
  if (fsync === 'interval') {
    const sync = (root as unknown as { sync(cb: (err?: unknown) => void): void }).sync.bind(root);
    timer = setInterval(() => sync(() => undefined), options.fsyncInterval ?? 1_000);
    timer.unref();
  }
  return new LmdbStoreImpl(root, log, twins, retained, timer, options.logger ?? silentLogger, fsync === 'always');
}

async function loadLmdb(): Promise<typeof import('lmdb')> {
  try {
    return await importOptional('lmdb', 'the durable broker store (--data-dir; --no-persist runs without it)', () => import('lmdb'));
  } catch (err) {
    if (err instanceof MissingPackageError) throw err;
    throw new StoreUnavailableError(`the lmdb package could not be loaded: ${String((err as Error).message)}`, { cause: err });
  }
}
