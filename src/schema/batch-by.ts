/**
 * `batchBy`: group values into arrays by size and by time, with a flush trigger. The time
 * window opens at the first value of a batch, so an idle stream emits nothing.
 */
import { asyncScheduler, Observable, timer, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

/** Options of {@link batchBy}. */
export interface BatchByConfig<T> {
  /** Emit once the batch weighs this much. */
  maxSize: number;
  /** Emit once the first value of the batch has waited this long, ms. */
  maxWait: number;
  /** Each emission emits the current batch at once (if not empty). */
  flush$?: Observable<unknown>;
  /** Weight of a value (e.g. its row count). Default 1. */
  weight?: (value: T) => number;
  /** Scheduler of the `maxWait` timer. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/**
 * Collect values into batches that are emitted when their total weight reaches `maxSize`,
 * when `maxWait` ms passed since their first value, when `flush$` emits, or when the source
 * completes. Empty batches are never emitted.
 *
 * @example
 * ```ts
 * import { batchBy } from './batch-by.js';
 * rows$.pipe(batchBy({ maxSize: 5_000, maxWait: 200 })).subscribe(writeBatch);
 * ```
 */
export function batchBy<T>({ maxSize, maxWait, flush$, weight = () => 1, scheduler = asyncScheduler }: BatchByConfig<T>,
): OperatorFunction<T, T[]> {
  return (source) => new Observable<T[]>((subscriber) => {
    let batch: T[] = [];
    let size = 0;
    let timeout: Subscription | undefined;
    const emit = (): void => {
      timeout?.unsubscribe();
      timeout = undefined;
      if (batch.length === 0) return;
      const out = batch;
      batch = [];
      size = 0;
      subscriber.next(out);
    };
    const subscription = flush$?.subscribe({ next: emit, error: (err: unknown) => subscriber.error(err) }) ?? undefined;
    const main = source.subscribe({
      next: (value) => {
        batch.push(value);
        size += weight(value);
        if (size >= maxSize) emit();
        else timeout ??= timer(maxWait, scheduler).subscribe(emit);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => { emit(); subscriber.complete(); },
    });
    return () => {
      main.unsubscribe();
      subscription?.unsubscribe();
      timeout?.unsubscribe();
      batch = [];
    };
  });
}
