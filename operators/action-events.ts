import { Observable, type OperatorFunction } from 'rxjs';
import { ActionPreemptedError, ProtocolError } from '../src/errors.js';
import type { ActionEvent } from '../src/types.js';

/**
 * One item of an action's stream as `exposeAction` sends it: the goal was accepted, feedback,
 * the result, or the goal was preempted by a newer one.
 */
export type ActionItem<F = unknown, R = unknown> =
  | { readonly type: 'accepted' }
  | { readonly type: 'feedback'; readonly value: F }
  | { readonly type: 'result'; readonly value: R }
  | { readonly type: 'preempted' };

/**
 * The caller's side of an action: turn the items of its stream into events. `accepted` is
 * dropped (it only answers the call in time), `feedback` passes, `result` passes (and the
 * stream completes when the source does), `preempted` fails with `ActionPreemptedError`.
 *
 * @example
 * ```ts
 * import { actionEvents } from 'rembus/operators';
 *
 * node.call$('navigate', [{ x: 3, y: 4 }]).pipe(actionEvents('navigate'))
 *   .subscribe((e) => console.log(e.type, e.value));
 * ```
 *
 * @param action - the action's name, for errors.
 * @returns an operator from stream items to `{ type: 'feedback' | 'result', value }` events.
 * Errors: `ActionPreemptedError` on `preempted`; `ProtocolError` for an item that is none of
 * the above or a stream that ends without a result; errors of the source.
 * @see action$ on the component, which makes the call.
 */
export function actionEvents<F = unknown, R = unknown>(action: string): OperatorFunction<unknown, ActionEvent<F, R>> {
  return (source) => new Observable<ActionEvent<F, R>>((subscriber) => {
    let ended = false; // a result arrived: the stream's end follows (waiting for it sends no cancel)
    return source.subscribe({
      next: (item) => {
        if (subscriber.closed || ended) return;
        const type = typeof item === 'object' && item !== null ? (item as { type?: unknown }).type : undefined;
        const value = (item as { value?: unknown } | null)?.value ?? null;
        switch (type) {
          case 'accepted': return;
          case 'feedback': return subscriber.next({ type, value: value as F });
          case 'result':
            ended = true;
            return subscriber.next({ type, value: value as R });
          case 'preempted': return subscriber.error(new ActionPreemptedError(action));
          default: return subscriber.error(new ProtocolError(`action '${action}': unexpected item ${describe(item)}`));
        }
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => (ended ? subscriber.complete()
        : subscriber.error(new ProtocolError(`action '${action}' ended without a result`))),
    });
  });
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
