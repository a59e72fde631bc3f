/**
 * The component's connection loop: one `connection$` attempt after another with jittered
 * exponential backoff, over a failover list of broker URLs (Rembus.jl `failovers`). An attempt
 * that fails moves on to the next URL; a link that drops starts again at the first. While up on
 * a failover URL, the first is probed every `failback` ms, and once it answers the failover link
 * is dropped so the loop returns to it.
 */
import { catchError, defer, EMPTY, exhaustMap, interval, map, merge, Observable, take, tap } from 'rxjs';
import { retryBackoff } from '../../operators/retry-backoff.js';
import { ConnectionClosedError } from '../errors.js';
import { connection$, dial$, type ClientSession, type ConnectionHooks } from './connection.js';
import type { Dialer } from './types.js';

/** Settings of {@link links$}. */
export interface LinksConfig {
  initialDelay: number;
  maxDelay: number;
  maxRetries: number;
  jitter: number;
  /** Probe the first URL this often while up on another, ms; 0 never. */
  failback: number;
  /** Errors that end the loop (refused logins) rather than being retried. */
  isFatal: (error: unknown, url: string) => boolean;
  /** Before each wait (logging, `status$`). */
  onRetry: (attempt: number, delayMs: number, error: unknown, nextUrl: string) => void;
}

/**
 * Emits each session as it comes up; errors only with a fatal error or when `maxRetries`
 * consecutive attempts failed.
 * @param urls what to dial, in order of preference (at least one)
 */
export function links$(urls: readonly string[], dial: Dialer, hooks: ConnectionHooks,
  config: LinksConfig): Observable<ClientSession> {
  let next = 0;
  const attempt$ = defer(() => {
    const at = next;
    const url = urls[at]!;
    let up = false;
    const session$ = connection$(url, dial, hooks);
    const attempt = at === 0 || config.failback <= 0 ? session$ : merge(session$, failback$(urls[0]!, dial, config.failback));
    return attempt.pipe(tap({
      next: () => { up = true; },
      // Dropped (or failed back) after being up: start again at the first URL; failed to come up: try the next.
      error: () => { next = up ? 0 : (at + 1) % urls.length; },
    }));
  });
  let lastError: unknown;
  return attempt$.pipe(
    tap({ error: (err: unknown) => { lastError = err; } }),
    retryBackoff({
      initialDelay: config.initialDelay, maxDelay: config.maxDelay, maxRetries: config.maxRetries,
      jitter: config.jitter,
      shouldRetry: (err) => !config.isFatal(err, urls[next]!),
      onRetry: (attempt, delayMs, error) => config.onRetry(attempt, delayMs, error ?? lastError, urls[next]!),
    }),
  );
}

/** Errors (to end the failover attempt) once `primary` accepts a WebSocket again. */
function failback$(primary: string, dial: Dialer, period: number): Observable<never> {
  return interval(period).pipe(
    // Still down: keep the failover link and probe again next period.
    exhaustMap(() => dial$(primary, dial).pipe(catchError(() => EMPTY))),
    take(1),
    map((link): never => {
      link.close();
      throw new ConnectionClosedError(`the first broker ${primary} answers again: switching back to it`);
    }),
  );
}
