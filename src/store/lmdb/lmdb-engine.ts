/**
 * Loading the `lmdb` package (optional: a broker in memory or a client never maps its native
 * library) and reading the engine's error behind a failed commit.
 */
import { MissingPackageError } from '../../errors.js';
import { importOptional } from '../../internal/optional.js';
import { StoreUnavailableError } from '../errors.js';

/**
 * The engine's own error behind lmdb's "Commit failed (see commitError for details)": lmdb
 * rejects `commitError` in the same callback as the commit, so one macrotask bounds the wait.
 */
export function engineError(err: unknown): Promise<unknown> {
  const inner = (err as { commitError?: Promise<unknown> }).commitError;
  if (inner === undefined) return Promise.resolve(err);
  return Promise.race([inner.then(() => err, (e: unknown) => e), new Promise((done) => setImmediate(() => done(err)))]);
}

/** The `lmdb` package, loaded on first use. */
export async function loadLmdb(): Promise<typeof import('lmdb')> {
  try {
    return await importOptional('lmdb', 'the durable broker store (--data-dir; --no-persist runs without it)', () => import('lmdb'));
  } catch (err) {
    if (err instanceof MissingPackageError) throw err;
    throw new StoreUnavailableError(`the lmdb package could not be loaded: ${String((err as Error).message)}`, { cause: err });
  }
}
