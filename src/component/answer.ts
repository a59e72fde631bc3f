import { lastValueFrom, type Observable } from 'rxjs';

/**
 * The Promise helpers' rule (`rpc`, `call`): resolve with the call's last value (null when it
 * ends with none); with a `signal`, reject with `signal.reason` once it is aborted.
 */
export function lastAnswer<R>(call$: Observable<R>, signal: AbortSignal | undefined): Promise<R> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return lastValueFrom(call$, { defaultValue: null as R }).then((value) => {
    // An abort completes the call (takeUntil) with no value: that is a rejection, not null.
    if (signal?.aborted) throw signal.reason;
    return value;
  }, (err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
