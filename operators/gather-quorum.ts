import { Observable, Subscription, timer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { QuorumError } from '../src/errors.js';
import type { GatherReply } from '../src/types.js';

/** How one call of a scatter-gather ended: its result, or its error. */
export type GatherSettled<R> =
  | { readonly from: string; readonly result: R }
  | { readonly from: string; readonly error: unknown };

/** Options of {@link gatherQuorum}. */
export interface GatherQuorumConfig {
  /** Answers that complete the stream. Required. */
  quorum: number;
  /** Calls that were made: each settles once on the source. Required. */
  total: number;
  /** Fail with `QuorumError` if the quorum is not met within this many ms. Default: no deadline. */
  timeout?: number;
  /** Named in `QuorumError`. Default `'gather'`. */
  method?: string;
  /** Scheduler of the deadline. Default: the async scheduler. */
  scheduler?: SchedulerLike;
}

/**
 * The rule of a scatter-gather: emit each successful answer as it arrives; complete once
 * `quorum` answers have arrived (unsubscribing the source, which cancels the calls still
 * running); fail as soon as the quorum can no longer be met.
 *
 * @example
 * ```ts
 * import { catchError, map, merge, of } from 'rxjs';
 * import { gatherQuorum } from 'rembus/operators';
 *
 * const calls = names.map((from) => node.call$('health', [], { target: from }).pipe(
 *   map((result) => ({ from, result })), catchError((error) => of({ from, error }))));
 * merge(...calls).pipe(gatherQuorum({ quorum: 2, total: names.length, timeout: 1_000 }))
 *   .subscribe(({ from, result }) => console.log(from, result));
 * ```
 *
 * @param config - quorum, number of calls, deadline.
 * @returns an operator from settled calls to the answers (`{ from, result }`).
 * Errors: `QuorumError` when failed calls leave fewer than `quorum` possible answers (its
 * `cause` is the last failure), when the source completes short of the quorum, or when the
 * deadline passes first; errors of the source itself.
 * @see gather$ on the component, which makes the calls.
 */
export function gatherQuorum<R>({ quorum, total, timeout, method = 'gather', scheduler }: GatherQuorumConfig,
): OperatorFunction<GatherSettled<R>, GatherReply<R>> {
  return (source) => new Observable<GatherReply<R>>((subscriber) => {
    let answered = 0;
    let failed = 0;
    const fail = (reason: string, cause?: unknown): void =>
      subscriber.error(new QuorumError(method, quorum, answered, reason, cause === undefined ? undefined : { cause }));
    if (quorum <= 0) {
      subscriber.complete();
      return undefined;
    }
    const subscription = new Subscription();
    if (timeout !== undefined && Number.isFinite(timeout)) {
      subscription.add(timer(timeout, scheduler).subscribe(() => fail(`timed out after ${timeout} ms`)));
    }
    subscription.add(source.subscribe({
      next: (settled) => {
        if (subscriber.closed) return;
        if ('error' in settled) {
          failed++;
          if (total - failed < quorum) fail(`${failed} of ${total} calls failed`, settled.error);
          return;
        }
        answered++;
        subscriber.next({ from: settled.from, result: settled.result });
        if (answered >= quorum) subscriber.complete();
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => fail('every call has settled'),
    }));
    return subscription;
  });
}
