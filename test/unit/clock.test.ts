import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { every, housekeeping, HOUSEKEEPING, later, now, sleep, soon } from '../../src/internal/clock.js';

const virtual = (): TestScheduler => new TestScheduler((a, e) => expect(a).toEqual(e));
const actions = (s: TestScheduler): { delay: number; work: Record<symbol, unknown> }[] =>
  (s as unknown as { actions: { delay: number; work: Record<symbol, unknown> }[] }).actions;

describe('clock helper', () => {
  it('runs later/every/soon at their virtual times and cancels them, twice harmlessly', () => {
    const s = virtual();
    const log: string[] = [];
    later(s, 30, () => log.push(`later@${s.now()}`));
    const cancelLater = later(s, 40, () => log.push('never'));
    const stop = every(s, 10, () => log.push(`every@${s.now()}`));
    soon(s, () => log.push(`soon@${s.now()}`));
    cancelLater();
    cancelLater();
    s.schedule(() => { stop(); stop(); }, 25);
    s.flush();
    expect(log).toEqual(['soon@0', 'every@10', 'every@20', 'later@30']);
    expect(actions(s)).toHaveLength(0);
  });

  it('marks housekeeping actions, and only those, for the virtual-time runner', () => {
    const s = virtual();
    const stopHousekeeping = housekeeping(s, 10, () => undefined);
    const stopEvery = every(s, 10, () => undefined);
    expect(actions(s).map((a) => a.work[HOUSEKEEPING] === true)).toEqual([true, false]);
    s.maxFrames = 35;
    s.flush(); // re-scheduled actions keep the mark
    expect(actions(s).map((a) => a.work[HOUSEKEEPING] === true).sort()).toEqual([false, true]);
    stopHousekeeping();
    stopEvery();
    expect(actions(s)).toHaveLength(0);
  });

  it('reads the scheduler\'s time, or Date.now() without one', () => {
    const s = virtual();
    s.schedule(() => expect(now(s)).toBe(42), 42);
    s.flush();
    const before = Date.now();
    expect(now(undefined)).toBeGreaterThanOrEqual(before);
  });

  it('uses real, cancellable timers without a scheduler', async () => {
    const log: string[] = [];
    const cancel = later(undefined, 1, () => log.push('cancelled'));
    cancel();
    const stop = every(undefined, 1, () => log.push('every'));
    soon(undefined, () => log.push('soon'))();
    await sleep(undefined, 20);
    stop();
    const count = log.length;
    await sleep(undefined, 10);
    expect(log.length).toBe(count); // stopped
    expect(log).not.toContain('cancelled');
    expect(log).not.toContain('soon');
    expect(log).toContain('every');
  });
});
