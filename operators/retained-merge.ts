import { Observable, Subscription, type MonoTypeOperatorFunction } from 'rxjs';
import { QueueFullError } from '../src/errors.js';

/** Options of {@link retainedMerge}. */
export interface RetainedMergeConfig<T> {
  /** The identity of a value (for messages: the broker's id). A live value whose key a retained value had is dropped. Required. */
  key: (value: T) => unknown;
  /** Live values held while the retained ones are still coming. Default `10_000`. */
  capacity?: number;
  /**
   * When that buffer is full. Default `'error'`.
   * - `'error'`: error the stream with `QueueFullError` (nothing is lost silently);
   * - `'dropOldest'` / `'dropNewest'`: drop a held live value.
   */
  overflow?: 'error' | 'dropOldest' | 'dropNewest';
}

/**
 * Retained values first, then live ones, with no gap and no duplicate (README "Retained
 * values"): subscribes to the live source **first** and holds what it emits while `retained$`
 * runs, emits every retained value, then — once `retained$` completes — the held live values
 * and from then on the live ones as they come. A live value with the key of a retained value
 * already emitted is dropped (the same message, sent both ways).
 *
 * The component uses it so that a second local subscriber of an already shared topic stream
 * first gets the retained values the first one received.
 *
 * @example
 * ```ts
 * import { retainedMerge } from 'rembus/operators';
 * live$.pipe(retainedMerge(snapshot$, { key: (m) => m.id })).subscribe(render);
 * ```
 *
 * @param retained$ - the retained values; must complete for live values to flow.
 * @param config - key function and the bound of the held live values.
 * @returns an operator emitting the retained values, then the live ones.
 * Errors: those of the source and of `retained$`; an error thrown by `key`; `QueueFullError`
 * when the held live values reach `capacity` and `overflow` is `'error'`. Completes when the
 * source completes and `retained$` has completed. Unsubscribing unsubscribes both.
 */
export function retainedMerge<T>(retained$: Observable<T>,
  { key, capacity = 10_000, overflow = 'error' }: RetainedMergeConfig<T>): MonoTypeOperatorFunction<T> {
  return (source) => new Observable<T>((subscriber) => {
    const held: T[] = [];
    const seen = new Set<unknown>();
    let retaining = true;
    let sourceDone = false;
    const fresh = (value: T): boolean => seen.size === 0 || !seen.has(key(value));
    const subscription = new Subscription();
    subscription.add(source.subscribe({
      next: (value) => {
        try {
          if (!retaining) {
            if (fresh(value)) subscriber.next(value);
            return;
          }
          if (held.length >= capacity) {
            if (overflow === 'error') return subscriber.error(new QueueFullError(capacity, 'held live values'));
            if (overflow === 'dropNewest') return;
            held.shift();
          }
          held.push(value);
        } catch (err) {
          subscriber.error(err);
        }
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        sourceDone = true;
        if (!retaining) subscriber.complete();
      },
    }));
    if (subscriber.closed) return subscription;
    subscription.add(retained$.subscribe({
      next: (value) => {
        try {
          seen.add(key(value));
        } catch (err) {
          return subscriber.error(err);
        }
        subscriber.next(value);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        retaining = false;
        try {
          for (const value of held.splice(0)) {
            if (subscriber.closed) return;
            if (fresh(value)) subscriber.next(value);
          }
        } catch (err) {
          return subscriber.error(err);
        }
        if (sourceDone) subscriber.complete();
      },
    }));
    return () => {
      subscription.unsubscribe();
      held.length = 0;
      seen.clear();
    };
  });
}
