/**
 * Stores for MessageLog tests: a memory store seen without `appendNow` (so the log buffers its
 * rows for commits, as over LMDB or DuckDB), and one whose commits a test holds or fails.
 */
import type { Store, StoreBatch } from '../../src/store/types.js';

/** `store` without `appendNow`: the broker's log buffers rows for `commit`. */
export function buffering(store: Store): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'appendNow') return undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What a {@link controlled} store's commit does: go on, or throw this error. */
export type CommitPlan = (batch: StoreBatch) => Promise<void> | void;

/**
 * `store` whose `commit` runs `plan` first (which may wait or throw), then commits, recording
 * every batch it was given; `appendNow` (if any) is kept and counted.
 */
export function controlled(store: Store, plan: CommitPlan): Store & { readonly commits: StoreBatch[]; appendedNow: number } {
  const commits: StoreBatch[] = [];
  const spy = { commits, appendedNow: 0 };
  return new Proxy(store, {
    get(target, key) {
      if (key === 'commits') return commits;
      if (key === 'appendedNow') return spy.appendedNow;
      if (key === 'commit') {
        return async (batch: StoreBatch) => {
          commits.push(batch);
          await plan(batch);
          await target.commit(batch);
        };
      }
      if (key === 'appendNow' && target.appendNow !== undefined) {
        return (row: Parameters<NonNullable<Store['appendNow']>>[0]) => {
          const held = target.appendNow!(row);
          spy.appendedNow++;
          return held;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store & { readonly commits: StoreBatch[]; appendedNow: number };
}
