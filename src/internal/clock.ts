/**
 * The broker's clock: every timer and every "now" of the broker paths goes through here, so a
 * broker given a `scheduler` (a `TestScheduler`, rembus/testing) runs in virtual time. Without
 * one (the default) these are the raw Node timers, `unref`'d, and `Date.now()`: the same calls,
 * the same cost as before, no allocation beyond the timer itself.
 */
import type { SchedulerLike } from 'rxjs';

/** Cancels a scheduled call; calling it again, or after the call ran, does nothing. */
export type Cancel = () => void;

/** The Node timer handle's optional `unref` (browsers have none). */
interface MaybeUnref { unref?: () => void }

const noop: Cancel = () => undefined;

/** Call `fn` once after `ms`. The real timer does not keep the process alive. */
export function later(scheduler: SchedulerLike | undefined, ms: number, fn: () => void): Cancel {
  if (scheduler !== undefined) {
    const action = scheduler.schedule(fn, ms);
    return () => action.unsubscribe();
  }
  const timer = setTimeout(fn, ms);
  (timer as MaybeUnref).unref?.();
  return () => clearTimeout(timer);
}

/** Call `fn` every `ms` until cancelled. The real timer does not keep the process alive. */
export function every(scheduler: SchedulerLike | undefined, ms: number, fn: () => void): Cancel {
  if (scheduler !== undefined) return periodic(scheduler, ms, fn, false);
  const timer = setInterval(fn, ms);
  (timer as MaybeUnref).unref?.();
  return () => clearInterval(timer);
}

/**
 * {@link every} for periodic housekeeping (sweeps, the log's flush interval): a virtual-time
 * runner (rembus/testing) does not wait for these to stop, as a process does not for `unref`'d
 * timers.
 */
export function housekeeping(scheduler: SchedulerLike | undefined, ms: number, fn: () => void): Cancel {
  if (scheduler !== undefined) return periodic(scheduler, ms, fn, true);
  const timer = setInterval(fn, ms);
  (timer as MaybeUnref).unref?.();
  return () => clearInterval(timer);
}

/** Call `fn` after the current I/O turn (`setImmediate`; a 0 ms action in virtual time). */
export function soon(scheduler: SchedulerLike | undefined, fn: () => void): Cancel {
  if (scheduler !== undefined) {
    const action = scheduler.schedule(fn, 0);
    return () => action.unsubscribe();
  }
  const immediate = setImmediate(fn);
  return () => clearImmediate(immediate);
}

/** A promise resolved after `ms` (the replay's pacing). */
export function sleep(scheduler: SchedulerLike | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => { later(scheduler, ms, resolve); });
}

/** Milliseconds since the epoch: `Date.now()`, or the scheduler's (virtual) time. */
export function now(scheduler: SchedulerLike | undefined): number {
  return scheduler === undefined ? Date.now() : scheduler.now();
}

/** A cancel that does nothing (a slot with no timer yet). */
export const NO_TIMER: Cancel = noop;

/** Marks the work of a {@link housekeeping} action (read by rembus/testing's runner). */
export const HOUSEKEEPING = Symbol.for('rembus.housekeeping');

function periodic(scheduler: SchedulerLike, ms: number, fn: () => void, background: boolean): Cancel {
  const work = function (this: { schedule(state?: unknown, delay?: number): unknown }): void {
    fn();
    this.schedule(undefined, ms);
  };
  if (background) (work as unknown as Record<symbol, boolean>)[HOUSEKEEPING] = true;
  const action = scheduler.schedule(work, ms);
  return () => action.unsubscribe();
}
