/**
 * `openLmdbStore` as the broker entry exports it: the LMDB store's modules are loaded by the
 * first call, so an application that imports `rembus/broker` and runs in memory does not carry
 * them (issue 20, W7). The store itself is `lmdb-store.ts`.
 */
import type { Store } from '../types.js';
import type { LmdbStoreOptions } from './lmdb-store.js';

/**
 * Open (or create) a durable Store in an LMDB environment at `options.path`.
 *
 * @example
 * ```ts
 * import { broker, openLmdbStore } from 'rembus/broker';
 * const b = await broker({ store: await openLmdbStore({ path: '/var/lib/rembus/broker.lmdb', fsync: 'always' }) });
 * ```
 * @throws MissingPackageError when the `lmdb` package is not installed; StoreUnavailableError when it cannot load
 */
export async function openLmdbStore(options: LmdbStoreOptions): Promise<Store> {
  return (await import('./lmdb-store.js')).openLmdbStore(options);
}
