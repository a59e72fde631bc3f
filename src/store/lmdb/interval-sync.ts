/**
 * `fsync: 'interval'`: the LMDB file synced every few ms on libuv's thread pool. lmdb's sync
 * worker reads the environment when it runs, not when queued, and `close()` sets it to NULL:
 * a sync still queued or running when the store closes crashes the process (SIGSEGV in
 * `mdb_env_sync`). So at most one sync is in flight (a tick while one is skips: a slow disk
 * or a busy pool never piles them up), and {@link IntervalSync.stop} waits for it.
 */
import type { RootDatabase } from 'lmdb';

type SyncFn = (done: (err?: unknown) => void) => void;

export class IntervalSync {
  private readonly timer: ReturnType<typeof setInterval>;
  private inFlight: Promise<void> | undefined;

  constructor(root: RootDatabase, intervalMs: number) {
    const sync = (root as unknown as { sync: SyncFn }).sync.bind(root);
    this.timer = setInterval(() => {
      // A failed sync is the next commit's to report (it fails on the same disk).
      this.inFlight ??= new Promise<void>((done) => sync(() => done()))
        .catch(() => undefined) // sync() throws once the env is closed: nothing left to sync
        .finally(() => { this.inFlight = undefined; });
    }, intervalMs);
    this.timer.unref();
  }

  /** No sync starts after this; resolves once the one in flight (if any) is done. Idempotent. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.inFlight ?? Promise.resolve();
  }
}
