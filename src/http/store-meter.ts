/**
 * Storage health for `/readyz` and `/metrics`: wraps a Store so each `commit` and
 * `appendMessages` (the message log's flush) is timed and its failures remembered. Every other
 * method passes through.
 */
import type { Store } from '../store/types.js';
import { RpcLatency } from './rpc-latency.js';

export class StoreMeter {
  /** Flush latency under the key `"append"`; `errors` counts failed flushes. */
  readonly flushes = new RpcLatency();
  /** The error of the latest flush when it failed; undefined once a flush succeeds again. */
  lastError: string | undefined;

  /** `store`, with its `commit` and `appendMessages` timed. */
  wrap(store: Store): Store {
    const meter = this;
    const timed = <B>(write: (batch: B) => Promise<void>) => async (batch: B): Promise<void> => {
      const start = performance.now();
      try {
        await write(batch);
        meter.lastError = undefined;
        meter.flushes.observe('append', (performance.now() - start) / 1000, false);
      } catch (err) {
        meter.lastError = err instanceof Error ? err.message : String(err);
        meter.flushes.observe('append', (performance.now() - start) / 1000, true);
        throw err;
      }
    };
    const append = timed((batch: Parameters<Store['appendMessages']>[0]) => store.appendMessages(batch));
    const commit = timed((batch: Parameters<Store['commit']>[0]) => store.commit(batch));
    return new Proxy(store, {
      get(target, key) {
        if (key === 'appendMessages') return append;
        if (key === 'commit') return commit;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
