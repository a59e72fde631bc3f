/**
 * Actions (goal → feedback → result, as robotics stacks use them) built on streaming RPC: the
 * server side `exposeAction` and the caller side `action$`. Transport-neutral: they need only
 * `call$` and `expose`, so the MQTT component has them too (there: no feedback, no cancel).
 */
import { defaultIfEmpty, defer, from, isObservable, Observable, takeLast } from 'rxjs';
import { actionEvents, type ActionItem } from '../../operators/action-events.js';
import { ActionPreemptedError } from '../errors.js';
import type {
  ActionContext, ActionEvent, ActionHandler, ActionOptions, CallOptions, ExposeOptions, Handler, RpcContext,
} from '../types.js';

/** What actions need of a component. */
export interface ActionClient {
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
  expose(method: string, handler: Handler, options?: ExposeOptions): () => void;
}

/** Send `goal` to action `name` and follow it: feedback events, then the result. */
export function action$<F, R>(client: ActionClient, name: string, goal: unknown,
  options: ActionOptions = {}): Observable<ActionEvent<F, R>> {
  return client.call$<unknown>(name, [goal], { ...options, stream: true }).pipe(actionEvents<F, R>(name));
}

/**
 * Serve action `name`. Each goal is one streaming call whose items are `accepted` (at once, so
 * a long goal answers within the caller's timeout), `feedback`s and the `result`; a newer goal
 * preempts the running one, whose call ends with `preempted`.
 */
export function exposeAction<G, F, R>(client: ActionClient, name: string, handler: ActionHandler<G, F, R>): () => void {
  let preemptRunning: (() => void) | undefined;
  const serve: Handler = (...args: unknown[]) => {
    const ctx = args.pop() as RpcContext;
    return new Observable<ActionItem<F, R>>((subscriber) => {
      preemptRunning?.();
      const abort = new AbortController();
      const preempt = (): void => {
        abort.abort(new ActionPreemptedError(name));
        subscriber.next({ type: 'preempted' });
        subscriber.complete();
      };
      preemptRunning = preempt;
      const onCancel = (): void => abort.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onCancel);
      subscriber.next({ type: 'accepted' });
      const actionCtx: ActionContext<F> = {
        feedback: (value) => { if (!subscriber.closed) subscriber.next({ type: 'feedback', value }); },
        signal: abort.signal,
      };
      let ended = false;
      const result$ = defer(() => resultOf(handler(args[0] as G, actionCtx)));
      const subscription = result$.pipe(takeLast(1), defaultIfEmpty(null)).subscribe({
        next: (value) => subscriber.next({ type: 'result', value: value as R }),
        error: (err: unknown) => { ended = true; subscriber.error(err); },
        complete: () => { ended = true; subscriber.complete(); },
      });
      return () => {
        if (preemptRunning === preempt) preemptRunning = undefined;
        ctx.signal.removeEventListener('abort', onCancel);
        // Torn down before its end: cancelled (the call's signal may not have fired yet).
        if (!ended && !abort.signal.aborted) abort.abort(ctx.signal.aborted ? ctx.signal.reason : undefined);
        subscription.unsubscribe();
      };
    });
  };
  return client.expose(name, serve, { context: true });
}

function resultOf<R>(result: R | Promise<R> | Observable<R>): Observable<R> {
  return isObservable(result) ? result : from(Promise.resolve(result));
}
