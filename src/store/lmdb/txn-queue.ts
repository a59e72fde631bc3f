/**
 * The LMDB store's operations in call order: each runs after every one queued before it, so
 * reads see the writes queued before them, and a write is one transaction. Once closed, new
 * operations are refused with ConnectionClosedError.
 */
import type { RootDatabase } from 'lmdb';
import { ConnectionClosedError } from '../../errors.js';
import { StoreWriteError } from '../errors.js';
import { engineError } from './lmdb-engine.js';

export class TxnQueue {
  /** The last queued operation (never rejects). */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `offLoop`: commit on lmdb's write thread (`fsync: 'always'`: the sync must not block the event loop). */
  constructor(private readonly root: RootDatabase, private readonly offLoop: boolean) {}

  /** Run `op` after every operation queued before it. */
  serial<T>(op: () => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectionClosedError('store closed'));
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
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
  write(action: () => void, written?: () => void): Promise<void> {
    return this.serial(() => this.writeNow(action, written));
  }

  /** {@link write} without the queue: for an operation already in it. */
  async writeNow(action: () => void, written?: () => void): Promise<void> {
    try {
      if (!this.offLoop) this.root.transactionSync(action);
      else await this.root.batch(action);
      written?.();
    } catch (err) {
      const detail = await engineError(err);
      throw new StoreWriteError(`lmdb commit failed: ${(detail as Error).message}`, { cause: detail });
    }
  }

  /** Refuse new operations from now on; resolves once the queued ones have run. */
  close(): Promise<void> {
    this.closed = true;
    return this.queue.then(() => undefined);
  }
}
