/**
 * Scatter-gather: call every connected exposer of a method (their names come from the broker's
 * `__exposers__`) with targeted calls, and emit their answers as they arrive under the
 * `gatherQuorum` rule.
 */
import { catchError, map, merge, type Observable, of, switchMap } from 'rxjs';
import { gatherQuorum, type GatherSettled } from '../../operators/gather-quorum.js';
import { EXPOSERS_METHOD } from '../protocol/messages.js';
import type { CallOptions, GatherOptions, GatherReply } from '../types.js';

/** What gather needs of a component. */
export interface GatherClient {
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
}

export function gather$<R>(client: GatherClient, method: string, args: unknown[], options: GatherOptions,
  defaultTimeout: number): Observable<GatherReply<R>> {
  const timeout = options.timeout ?? defaultTimeout;
  return client.call$<unknown>(EXPOSERS_METHOD, [method], { stream: false, timeout }).pipe(
    switchMap((names) => {
      const exposers = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
      const calls = exposers.map((from) => client.call$<R>(method, args, { target: from, stream: false, timeout }).pipe(
        map((result): GatherSettled<R> => ({ from, result })),
        catchError((error: unknown) => of<GatherSettled<R>>({ from, error })),
      ));
      const quorum = options.quorum ?? Math.max(1, exposers.length);
      return merge(...calls).pipe(gatherQuorum<R>({ quorum, total: exposers.length, timeout, method }));
    }),
  );
}
