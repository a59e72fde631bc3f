/**
 * `TestScheduler.run`, awaiting promises: the same virtual time and marble helpers, but between
 * two timer actions the runner lets pending promises settle (one real macrotask turn), so a flow
 * whose steps await a Promise (the broker's store commits before a QoS ACK, the security store
 * at login, a Promise-returning handler) still runs to the end in virtual time, deterministically.
 *
 * Like `run`, it installs the TestScheduler as the time source of RxJS's own schedulers
 * (`asyncScheduler`, `asapScheduler`, `Date`-based `now()`) for its duration. That is done
 * through RxJS's internal provider modules — the same ones `run` sets — since RxJS 7 has no
 * public hook for an asynchronous run.
 */
import type { TestScheduler } from 'rxjs/testing';
import { dateTimestampProvider } from 'rxjs/internal/scheduler/dateTimestampProvider';
import { immediateProvider } from 'rxjs/internal/scheduler/immediateProvider';
import { intervalProvider } from 'rxjs/internal/scheduler/intervalProvider';
import { performanceTimestampProvider } from 'rxjs/internal/scheduler/performanceTimestampProvider';
import { timeoutProvider } from 'rxjs/internal/scheduler/timeoutProvider';
import { HOUSEKEEPING } from '../internal/clock.js';

/** The helpers of {@link runInVirtualTime}: `TestScheduler.run`'s, plus a virtual `sleep`. */
export interface VirtualRunHelpers {
  cold: TestScheduler['createColdObservable'];
  hot: TestScheduler['createHotObservable'];
  time: TestScheduler['createTime'];
  expectObservable: TestScheduler['expectObservable'];
  expectSubscriptions: TestScheduler['expectSubscriptions'];
  /** A promise resolved `ms` virtual milliseconds from now (for an `async` body). */
  sleep(ms: number): Promise<void>;
  /** The virtual time, ms since the run began. */
  now(): number;
  /** Timers scheduled now, periodic housekeeping (the broker's sweeps) left out: 0 once a flow is torn down. */
  timers(): number;
}

/** Options of {@link runInVirtualTime}. */
export interface VirtualRunOptions {
  /**
   * Fail with {@link VirtualTimeHangError} rather than run a timer due later than this, virtual
   * ms: a flow that would never end (a retry loop, a call nobody answers) fails with a message.
   * Default 600_000 (ten virtual minutes).
   */
  readonly timeLimit?: number;
  /** Run after the expectations are checked, still in virtual time (closing what the body opened). */
  readonly teardown?: () => void | Promise<void>;
}

/** A virtual-time run that would not end: it names what it was still waiting for. */
export class VirtualTimeHangError extends Error {
  readonly code = 'VIRTUAL_TIME_HANG';
  override readonly name = 'VirtualTimeHangError';
}

/** What the runner reads of a TestScheduler beyond its public surface. */
interface Internals {
  actions: { delay: number; state: unknown; work: Record<symbol, unknown>; execute(state: unknown, delay: number): unknown }[];
  frame: number;
  maxFrames: number;
  runMode: boolean;
  hotObservables: { setup(): void }[];
  createDelegates(): { immediate: unknown; interval: unknown; timeout: unknown };
}

let running: TestScheduler | undefined;

/** The scheduler of the run in progress, if any. */
export function activeVirtualScheduler(): TestScheduler | undefined {
  return running;
}

/** One real macrotask turn: every promise that can settle now does, and what it scheduled is queued. */
const turn = (): Promise<void> => new Promise((resolve) => {
  if (typeof setImmediate === 'function') setImmediate(resolve);
  else setTimeout(resolve, 0);
});

/**
 * Run `body` in virtual time on `scheduler`, letting promises settle between timer actions.
 * Time advances while there is a timer to run that is not periodic housekeeping (the broker's
 * sweeps), or while `body`'s promise is pending; then the marble expectations are checked.
 *
 * @returns what `body` returned (awaited)
 * @throws VirtualTimeHangError when `body` awaits a promise nothing can settle (no timer left),
 * or a timer is due past `timeLimit`; the failed expectation of `expectObservable`
 */
export async function runInVirtualTime<T>(scheduler: TestScheduler, body: (helpers: VirtualRunHelpers) => T | Promise<T>,
  { timeLimit = 600_000, teardown }: VirtualRunOptions = {}): Promise<T> {
  if (running !== undefined) throw new Error('runInVirtualTime: a virtual-time run is already in progress (runs do not nest)');
  const s = scheduler as unknown as Internals;
  const Scheduler = scheduler.constructor as typeof TestScheduler;
  const prevFactor = Scheduler.frameTimeFactor;
  const prevMaxFrames = s.maxFrames;
  Scheduler.frameTimeFactor = 1;
  s.maxFrames = Infinity;
  s.runMode = true;
  const delegates = s.createDelegates();
  dateTimestampProvider.delegate = scheduler;
  performanceTimestampProvider.delegate = scheduler;
  immediateProvider.delegate = delegates.immediate as typeof immediateProvider.delegate;
  intervalProvider.delegate = delegates.interval as typeof intervalProvider.delegate;
  timeoutProvider.delegate = delegates.timeout as typeof timeoutProvider.delegate;
  running = scheduler;
  try {
    const helpers: VirtualRunHelpers = {
      cold: scheduler.createColdObservable.bind(scheduler),
      hot: scheduler.createHotObservable.bind(scheduler),
      time: scheduler.createTime.bind(scheduler),
      expectObservable: scheduler.expectObservable.bind(scheduler),
      expectSubscriptions: scheduler.expectSubscriptions.bind(scheduler),
      sleep: (ms) => new Promise((resolve) => { scheduler.schedule(() => resolve(), ms); }),
      now: () => scheduler.now(),
      timers: () => s.actions.filter((a) => a.work[HOUSEKEEPING] !== true).length,
    };
    const outcome = track(body(helpers));
    await drive(s, outcome, timeLimit);
    // Check the marble expectations now, leaving later housekeeping timers where they are.
    s.maxFrames = s.frame;
    scheduler.flush();
    s.maxFrames = Infinity;
    if (teardown !== undefined) await drive(s, track(teardown()), timeLimit);
    return outcome.value as T;
  } finally {
    running = undefined;
    Scheduler.frameTimeFactor = prevFactor;
    s.maxFrames = prevMaxFrames;
    s.runMode = false;
    dateTimestampProvider.delegate = undefined;
    performanceTimestampProvider.delegate = undefined;
    immediateProvider.delegate = undefined;
    intervalProvider.delegate = undefined;
    timeoutProvider.delegate = undefined;
  }
}

interface Outcome<T> { settled: boolean; failed: boolean; failure: unknown; value: T | undefined }

function track<T>(result: T | Promise<T>): Outcome<T> {
  const outcome: Outcome<T> = { settled: false, failed: false, failure: undefined, value: undefined };
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    (result as Promise<T>).then((v) => { outcome.settled = true; outcome.value = v; },
      (err: unknown) => { outcome.settled = outcome.failed = true; outcome.failure = err; });
  } else {
    outcome.settled = true;
    outcome.value = result as T;
  }
  return outcome;
}

/** Run timer actions, one real turn between each, until `outcome` settled and only housekeeping is left. */
async function drive(s: Internals, outcome: Outcome<unknown>, timeLimit: number): Promise<void> {
  for (;;) {
    while (s.hotObservables.length > 0) s.hotObservables.shift()!.setup();
    await turn();
    if (outcome.failed) throw outcome.failure;
    const next = s.actions[0];
    if (outcome.settled && !s.actions.some((a) => a.work[HOUSEKEEPING] !== true)) return;
    if (next === undefined) {
      throw new VirtualTimeHangError(`the flow awaits a promise that nothing will settle: no timer is left at ${s.frame} ms (virtual)`);
    }
    if (next.delay > timeLimit) {
      throw new VirtualTimeHangError(`the flow did not end within timeLimit ${timeLimit} ms (virtual): ${s.actions.length}`
        + ` timer(s) still scheduled, the next at ${next.delay} ms${outcome.settled ? '' : ', and the body is still awaiting'};`
        + ' close what keeps running (a retry loop, an unanswered call) or raise timeLimit');
    }
    s.actions.shift();
    s.frame = next.delay;
    const err = next.execute(next.state, next.delay);
    if (err !== undefined && err !== null) throw err;
  }
}
