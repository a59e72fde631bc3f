import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { QueueFullError } from '../src/errors.js';

/** Options of {@link bufferWhileOffline}. */
export interface BufferWhileOfflineConfig<T = unknown> {
  /** Maximum number of values held while offline. Required: every buffer is bounded. */
  capacity: number;
  /**
   * What to do with a value arriving while the queue is full. Default `'error'`.
   * - `'dropOldest'`: discard the oldest queued value and queue the new one;
   * - `'dropNewest'`: discard the arriving value;
   * - `'error'`: error the stream with `QueueFullError`.
   */
  overflow?: 'dropOldest' | 'dropNewest' | 'error';
  /** Called with each value discarded by a drop policy. Default: none. */
  onDrop?: (value: T) => void;
}

/**
 * Pass source values straight through while `online$` last said `true`; while offline (and
 * before `online$` first emits) queue them, and flush the queue in order as soon as `online$`
 * emits `true` again. After the source completes the result completes once the queue is drained.
 *
 * A source error is passed on at once (queued values are discarded). If `online$` completes,
 * its last state stays in force; if it completes while offline, queued values wait forever.
 *
 * @example
 * ```ts
 * import { bufferWhileOffline } from 'rembus/operators';
 *
 * const online$ = node.status$.pipe(map((s) => s.type === 'connected'));
 * readings$
 *   .pipe(bufferWhileOffline(online$, { capacity: 1_000, overflow: 'dropOldest' }))
 *   .subscribe((reading) => node.publish('plant/7/telemetry', reading));
 * ```
 *
 * @param online$ - link state; `true` = online. Subscribed for as long as the result is.
 * @param config - capacity (required), overflow policy and drop hook.
 * @returns an operator that emits the source's values, held back while offline.
 * Errors: `QueueFullError` when the queue is full and `overflow` is `'error'`; errors of the
 * source or of `online$`; an error thrown by `onDrop`.
 * @see retryBackoff for the reconnect loop that drives `online$`.
 * @see ackRetry for acknowledged delivery once a value is sent.
 */
export function bufferWhileOffline<T>(
  online$: Observable<boolean>,
  { capacity, overflow = 'error', onDrop }: BufferWhileOfflineConfig<T>,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const queue: T[] = []; // per-subscription state
      let online = false;
      let sourceDone = false;

      const flush = () => {
        while (online && queue.length > 0 && !subscriber.closed) subscriber.next(queue.shift()!);
        if (sourceDone && queue.length === 0) subscriber.complete();
      };

      const drop = (value: T) => {
        try {
          onDrop?.(value);
        } catch (err) {
          subscriber.error(err); // user-callback errors go to the stream, never out of next
        }
      };

      const enqueue = (value: T) => {
        if (queue.length < capacity) {
          queue.push(value);
        } else if (overflow === 'dropOldest') {
          const oldest = queue.shift();
          if (capacity > 0) queue.push(value);
          drop(capacity > 0 ? oldest! : value);
        } else if (overflow === 'dropNewest') {
          drop(value);
        } else {
          subscriber.error(new QueueFullError(capacity, 'offline buffer'));
        }
      };

      const subscription = online$.subscribe({
        next: (up) => {
          online = up;
          flush();
        },
        error: (err: unknown) => subscriber.error(err),
      });
      subscription.add(
        source.subscribe({
          next: (value) => {
            if (subscriber.closed) return;
            // Values queued earlier go first, even if one arrives during a flush.
            if (online && queue.length === 0) subscriber.next(value);
            else enqueue(value);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true;
            flush();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        queue.length = 0;
      };
    });
}
