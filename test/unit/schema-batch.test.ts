/**
 * batchBy: the batching operator of the schema stage (by weight, by time from the first
 * value, on a flush signal, on completion), as marble tests.
 */
import { beforeEach, describe, it } from 'vitest';
import type { TestScheduler } from 'rxjs/testing';
import { createScheduler } from '../../marbles/helpers.js';
import { batchBy } from '../../src/schema/index.js';

describe('batchBy', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('emits a batch when it reaches maxSize', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -a-b-c-d-|');
      const expected = '    -----x---(y|)';
      expectObservable(source.pipe(batchBy({ maxSize: 3, maxWait: 100 }))).toBe(expected, { x: ['a', 'b', 'c'], y: ['d'] });
    });
  });

  it('emits a batch maxWait after its first value, and nothing while idle', () => {
    scheduler.run(({ hot, expectObservable, time }) => {
      const wait = time('   ----|');
      const source = hot('  -a-b-------c------|');
      const expected = '    -----x---------y--|';
      expectObservable(source.pipe(batchBy({ maxSize: 10, maxWait: wait, scheduler }))).toBe(expected, { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('weighs values with weight()', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -a-b-c-|', { a: 2, b: 3, c: 1 });
      const expected = '    ---x---(y|)';
      expectObservable(source.pipe(batchBy({ maxSize: 5, maxWait: 100, weight: (n: number) => n })))
        .toBe(expected, { x: [2, 3], y: [1] });
    });
  });

  it('emits the current batch when flush$ emits, skipping empty ones', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const flush = hot('   f---f---f---');
      const source = hot('  -a-b---c----');
      const expected = '    ----x---y---';
      expectObservable(source.pipe(batchBy({ maxSize: 10, maxWait: 100, flush$: flush }))).toBe(expected, { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('passes errors on and releases source, flush$ and timer on unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-#');
      const expected = '    ---#';
      expectObservable(source.pipe(batchBy({ maxSize: 10, maxWait: 100 }))).toBe(expected);
      const other = hot('   -a---b---');
      const flush = hot('   ---------');
      const unsub = '       ------!';
      const subs = '        ^-----!';
      // b is still waiting when the subscriber leaves: it is released, not emitted.
      expectObservable(other.pipe(batchBy({ maxSize: 10, maxWait: 2, flush$: flush, scheduler })), unsub)
        .toBe('---x---', { x: ['a'] });
      expectSubscriptions(other.subscriptions).toBe(subs);
      expectSubscriptions(flush.subscriptions).toBe(subs);
    });
  });
});
