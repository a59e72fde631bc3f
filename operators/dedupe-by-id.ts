import { Observable, Subscription, type MonoTypeOperatorFunction } from 'rxjs';
import { QueueFullError } from '../src/errors.js';

/** Options of {@link dedupeById}. */
export interface DedupeByIdConfig<T, K> {
  /** The identity of a value (for QoS2: the message id). Required. */
  key: (value: T) => K;
  /** Keys to forget (for QoS2: the id of each ACK2 received). Unknown keys are ignored. Default: none. */
  clear$?: Observable<K>;
  /** Maximum number of remembered keys. Default `100_000`. */
  capacity?: number;
  /**
   * What to do when a new key arrives and the set is full. Default `'dropOldest'`.
   * - `'dropOldest'`: forget the oldest key (insertion order). If a duplicate of a forgotten
   *   key arrives later it passes again, so a QoS2 message whose ACK2 never came may be
   *   delivered twice once `capacity` newer ids have been seen;
   * - `'error'`: error the stream with `QueueFullError`.
   */
  overflow?: 'dropOldest' | 'error';
  /**
   * A set to start from, used and mutated in place (so a broker can keep it per component
   * name across reconnects, spec §4.2). Default: a new empty set per subscription.
   */
  seen?: Set<K>;
}

/**
 * The QoS2 receiver's de-duplication (protocol spec §4.2): a value whose key is in the set is
 * dropped; otherwise its key is added and the value passes. A key emitted by `clear$` (ACK2)
 * is removed from the set, so a later value with that key passes again.
 *
 * The receiver still acks every copy; this operator only decides what is delivered.
 *
 * @example
 * ```ts
 * import { dedupeById } from 'rembus/operators';
 *
 * const seen = waitAck2.get(componentName) ?? new Set<number>();
 * qos2Pubs$
 *   .pipe(dedupeById({ key: (pub) => pub.id, clear$: ack2Ids$, seen }))
 *   .subscribe((pub) => deliver(pub));
 * ```
 *
 * @param config - key function, clear stream, bounds and optional initial set.
 * @returns an operator that emits each source value whose key is not remembered.
 * Errors: `QueueFullError` when the set is full and `overflow` is `'error'`; an error thrown
 * by `key`; errors of the source or of `clear$`.
 * @see ackRetry for the QoS2 sender's side.
 */
export function dedupeById<T, K>({
  key,
  clear$,
  capacity = 100_000,
  overflow = 'dropOldest',
  seen,
}: DedupeByIdConfig<T, K>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const set = seen ?? new Set<K>();
      const subscription = new Subscription();

      const admit = (value: T) => {
        const id = key(value);
        if (set.has(id)) return false;
        if (set.size >= capacity && overflow === 'error') throw new QueueFullError(capacity, 'dedupe set');
        // A Set iterates in insertion order, so its first key is the oldest. A loop: an
        // external `seen` set may start out larger than `capacity`.
        for (const oldest of set) {
          if (set.size < capacity) break;
          set.delete(oldest);
        }
        if (capacity > 0) set.add(id);
        return true;
      };

      if (clear$) {
        subscription.add(
          clear$.subscribe({ next: (id) => set.delete(id), error: (err: unknown) => subscriber.error(err) }),
        );
      }
      subscription.add(
        source.subscribe({
          next: (value) => {
            if (subscriber.closed) return;
            let pass: boolean;
            try {
              pass = admit(value);
            } catch (err) {
              subscriber.error(err); // user-callback and overflow errors go to the stream
              return;
            }
            if (pass) subscriber.next(value);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      );
      return subscription;
    });
}
