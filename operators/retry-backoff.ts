import { retry, throwError, timer, type MonoTypeOperatorFunction, type Observable } from 'rxjs';

/** Options of {@link retryBackoff}. */
export interface RetryBackoffConfig {
  /** Delay before the first resubscription, in ms. Default `250`. */
  initialDelay?: number;
  /** Upper bound of any single delay, in ms. Default `30_000`. */
  maxDelay?: number;
  /**
   * How many consecutive resubscriptions to try before the error is passed on.
   * Default `Infinity` (retry forever). `0` disables retrying.
   */
  maxRetries?: number;
  /** Whether an error is worth retrying; `false` passes it on at once. Default: always `true`. */
  shouldRetry?: (error: unknown) => boolean;
  /**
   * Reset the attempt counter (and so the delay) when the source emits a value, so a link that
   * worked for a while starts again at `initialDelay`. Default `true`.
   */
  resetOnSuccess?: boolean;
  /**
   * Called before each wait with the 1-based attempt number, the delay about to be waited and
   * the error that caused it (logging, `status$` updates). Default: none.
   */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /**
   * Share of each delay drawn at random, from `0` (exact delays) to `1` ("full jitter": anywhere
   * between 0 and the delay). With `0.5` a delay of 1 s becomes 0.5–1 s, so clients dropped
   * together by one broker restart do not reconnect in lock-step. Default `0`.
   */
  jitter?: number;
  /** Source of randomness in [0, 1) for `jitter` (tests pass a fixed sequence). Default `Math.random`. */
  random?: () => number;
}

/**
 * Resubscribe to the source after an error, waiting `initialDelay * 2^(attempt - 1)` ms
 * (1×, 2×, 4× … `initialDelay`) capped at `maxDelay`, less a random share `jitter` of it.
 * This is the component's reconnect loop.
 *
 * Delays use RxJS `timer`, so they follow the active scheduler (and `TestScheduler.run`).
 *
 * @example
 * ```ts
 * import { retryBackoff } from 'rembus/operators';
 *
 * const link$ = defer(() => dial(url)).pipe(
 *   retryBackoff({
 *     initialDelay: 500,
 *     maxDelay: 10_000,
 *     jitter: 0.5,
 *     shouldRetry: (e) => !(e instanceof AuthError),
 *     onRetry: (attempt, delayMs) => status$.next({ type: 'reconnecting', attempt, delayMs }),
 *   }),
 * );
 * ```
 *
 * @param config - backoff settings; every field is optional (see {@link RetryBackoffConfig}).
 * @returns an operator mirroring the source, resubscribing to it after errors.
 * Errors: the source's last error once `maxRetries` is exhausted or `shouldRetry` returns
 * `false`; an error thrown by `shouldRetry` or `onRetry` (the stream errors with it).
 * @see bufferWhileOffline to hold outgoing values while the link is down.
 * @see ackRetry for per-message retransmission.
 */
export function retryBackoff<T>({
  initialDelay = 250,
  maxDelay = 30_000,
  maxRetries = Infinity,
  shouldRetry = () => true,
  resetOnSuccess = true,
  onRetry,
  jitter = 0,
  random = Math.random,
}: RetryBackoffConfig = {}): MonoTypeOperatorFunction<T> {
  const share = Math.min(1, Math.max(0, jitter));
  return retry<T>({
    count: maxRetries,
    resetOnSuccess,
    delay: (error: unknown, attempt: number): Observable<unknown> => {
      // User callbacks must error the stream, never throw out of the retry machinery.
      try {
        if (!shouldRetry(error)) return throwError(() => error);
        const capped = Math.min(maxDelay, initialDelay * 2 ** (attempt - 1));
        const delayMs = share === 0 ? capped : Math.round(capped * (1 - share * random()));
        onRetry?.(attempt, delayMs, error);
        return timer(delayMs);
      } catch (callbackError) {
        return throwError(() => callbackError);
      }
    },
  });
}
