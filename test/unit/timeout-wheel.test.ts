import fc from 'fast-check';
import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { TimeoutWheel, type Timed } from '../../src/component/timeout-wheel.js';

/** A virtual clock that counts the actions scheduled on it. */
function clock(): { scheduler: TestScheduler; counted: SchedulerLike; scheduled: () => number } {
  const scheduler = new TestScheduler(() => undefined);
  scheduler.maxFrames = Number.POSITIVE_INFINITY; // virtual time without the marble-diagram bound
  let scheduled = 0;
  /** Counts the wheel's own actions (the test schedules on `scheduler` directly). */
  const counted: SchedulerLike = {
    now: () => scheduler.now(),
    schedule: ((work: never, delay?: number, state?: never) => {
      scheduled++;
      return scheduler.schedule(work, delay, state);
    }) as SchedulerLike['schedule'],
  };
  return { scheduler, counted, scheduled: () => scheduled };
}

/** An entry that logs `[name, virtual time]` when it expires. */
function entry(name: string, log: [string, number][], now: () => number, onExpire?: () => void): Timed {
  return {
    deadline: 0, prevTimed: null, nextTimed: null, inWheel: false,
    expire: () => {
      log.push([name, now()]);
      onExpire?.();
    },
  };
}

describe('TimeoutWheel', () => {
  it('expires exactly the entries not removed in time, each at its deadline, in deadline order', () => {
    const plan = fc.array(fc.record({
      at: fc.nat({ max: 300 }), timeout: fc.integer({ min: 1, max: 500 }), removeAfter: fc.option(fc.nat({ max: 600 })),
    }), { minLength: 1, maxLength: 300 });
    fc.assert(fc.property(plan, (calls) => {
      const { scheduler, counted } = clock();
      const wheel = new TimeoutWheel(counted);
      const log: [string, number][] = [];
      const expected: [string, number][] = [];
      calls.forEach((c, i) => {
        const e = entry(String(i), log, () => scheduler.now());
        scheduler.schedule(() => wheel.add(e, c.timeout), c.at);
        // A removal at the deadline itself races the expiry: such an entry is not removed.
        const removed = c.removeAfter !== null && c.removeAfter < c.timeout;
        if (removed) scheduler.schedule(() => wheel.remove(e), c.at + c.removeAfter!);
        else expected.push([String(i), c.at + c.timeout]);
      });
      scheduler.flush();
      expect(log.map(([, t]) => t)).toEqual([...log.map(([, t]) => t)].sort((a, b) => a - b));
      expect([...log].sort()).toEqual([...expected].sort());
      expect(wheel.size).toBe(0);
      expect(wheel.armed).toBe(false);
    }), { numRuns: 200 });
  });

  it('schedules one action per timeout period, not one per entry, when entries share a timeout', () => {
    const { scheduler, counted, scheduled } = clock();
    const wheel = new TimeoutWheel(counted);
    const log: [string, number][] = [];
    // 10,000 sequential calls, each answered 1 ms after it starts, with a 100 ms timeout.
    let calls = 0;
    const call = (): void => {
      const e = entry(String(calls), log, () => scheduler.now());
      wheel.add(e, 100);
      scheduler.schedule(() => {
        wheel.remove(e);
        if (++calls < 10_000) call();
      }, 1);
    };
    call();
    scheduler.flush();
    expect([calls, scheduler.now()]).toEqual([10_000, 10_000 + 99]); // the wheel's last tick finds nothing
    expect(log).toEqual([]);
    expect(scheduled()).toBeLessThanOrEqual(10_000 / 100 + 2);
    expect([wheel.size, wheel.armed]).toEqual([0, false]);
  });

  it('re-arms earlier for an entry with a shorter timeout, and for entries added by an expiry', () => {
    const { scheduler, counted } = clock();
    const wheel = new TimeoutWheel(counted);
    const log: [string, number][] = [];
    const now = (): number => scheduler.now();
    wheel.add(entry('long', log, now), 100);
    wheel.add(entry('short', log, now, () => wheel.add(entry('again', log, now), 5)), 10);
    wheel.add(entry('never', log, now), Number.POSITIVE_INFINITY);
    expect(wheel.size).toBe(2);
    scheduler.flush();
    expect(log).toEqual([['short', 10], ['again', 15], ['long', 100]]);
    expect(wheel.armed).toBe(false);
  });

  it('clear() forgets every entry without expiring it and releases the timer', () => {
    const { scheduler, counted } = clock();
    const wheel = new TimeoutWheel(counted);
    const log: [string, number][] = [];
    const entries = Array.from({ length: 50 }, (_, i) => entry(String(i), log, () => scheduler.now()));
    entries.forEach((e, i) => wheel.add(e, 10 + i));
    wheel.clear();
    expect([wheel.size, wheel.armed]).toEqual([0, false]);
    wheel.remove(entries[3]!); // already out: a no-op
    scheduler.flush();
    expect(log).toEqual([]);
  });
});
