import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConnectionError } from '../../src/errors.js';
import { retryBackoff } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('retryBackoff', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });
  const dropped = new ConnectionError('link dropped');

  it('mirrors the source when it does not error', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-b-|');
      const sourceSubs = '   ^----!';
      const expected = '     -a-b-|';
      expectObservable(source.pipe(retryBackoff())).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('waits 1×, 2×, 4× initialDelay between attempts and gives up after maxRetries', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', undefined, dropped);
      // subscribe at 0, error at 1; waits 10, 20, 40 → resubscribe at 11, 32, 73
      const sourceSubs = [' ^!', ' 11ms ^!', ' 32ms ^!', ' 73ms ^!'];
      const expected = '     74ms #';
      expectObservable(source.pipe(retryBackoff({ initialDelay: 10, maxRetries: 3 }))).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('caps every delay at maxDelay', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', undefined, dropped);
      // waits 10, 20, 25 (40 capped), 25 (80 capped)
      const sourceSubs = [' ^!', ' 11ms ^!', ' 32ms ^!', ' 58ms ^!', ' 84ms ^!'];
      const expected = '     85ms #';
      const result = source.pipe(retryBackoff({ initialDelay: 10, maxDelay: 25, maxRetries: 4 }));
      expectObservable(result).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('uses 250 ms and 30 s as default delays', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('#', undefined, dropped);
      // 250, 500, …, 16_000, then 30_000 (32_000 capped): resubscribe at these sums
      const starts = [0, 250, 750, 1750, 3750, 7750, 15_750, 31_750, 61_750];
      const sourceSubs = starts.map((t) => ` ${t}ms (^!)`);
      const expected = '     61750ms #';
      expectObservable(source.pipe(retryBackoff({ maxRetries: 8 }))).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('passes the error on at once when maxRetries is 0', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-#', undefined, dropped);
      const sourceSubs = '   ^--!';
      const expected = '     -a-#';
      expectObservable(source.pipe(retryBackoff({ maxRetries: 0 }))).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('passes the error on without retrying when shouldRetry returns false', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const refused = new AuthError('bad password');
      const source = cold('  -#', undefined, refused);
      const sourceSubs = '   ^!';
      const expected = '     -#';
      const result = source.pipe(retryBackoff({ initialDelay: 10, shouldRetry: (e) => !(e instanceof AuthError) }));
      expectObservable(result).toBe(expected, undefined, refused);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('retries errors shouldRetry accepts and stops at the first it refuses', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      let seen = 0;
      const source = cold('  -#', undefined, dropped);
      // refused on the third error, after two retries (waits 10, 20)
      const sourceSubs = ['  ^!', ' 11ms ^!', ' 32ms ^!'];
      const expected = '     33ms #';
      const result = source.pipe(retryBackoff({ initialDelay: 10, shouldRetry: () => ++seen < 3 }));
      expectObservable(result).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('starts again at initialDelay after a value when resetOnSuccess is on (default)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-#', undefined, dropped);
      // every attempt emits `a`, so every wait is 10: resubscribe at 13, 26
      const sourceSubs = ['  ^--!', ' 13ms ^--!', ' 26ms ^--!'];
      const unsub = '        35ms !';
      const expected = '     -a- 10ms -a- 10ms -a-';
      expectObservable(source.pipe(retryBackoff({ initialDelay: 10 })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('keeps doubling despite values when resetOnSuccess is false', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-#', undefined, dropped);
      // waits 10, 20: resubscribe at 13, 36
      const sourceSubs = ['  ^--!', ' 13ms ^--!', ' 36ms ^--!'];
      const expected = '     -a- 10ms -a- 20ms -a-#';
      const result = source.pipe(retryBackoff({ initialDelay: 10, maxRetries: 2, resetOnSuccess: false }));
      expectObservable(result).toBe(expected, undefined, dropped);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('calls onRetry with attempt, delay and error before each wait', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const calls: [number, number, unknown, number][] = [];
      const source = cold('-#', undefined, dropped);
      const result = source.pipe(retryBackoff({
        initialDelay: 10,
        maxRetries: 2,
        onRetry: (attempt, delayMs, error) => calls.push([attempt, delayMs, error, scheduler.now()]),
      }));
      expectObservable(result).toBe(' 33ms #', undefined, dropped);
      flush();
      expect(calls).toEqual([[1, 10, dropped, 1], [2, 20, dropped, 12]]);
    });
  });

  it('errors the stream with the error thrown by onRetry', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const hookFailed = new Error('hook failed');
      const source = cold('  -a-#', undefined, dropped);
      const sourceSubs = '   ^--!';
      const expected = '     -a-#';
      const result = source.pipe(retryBackoff({ onRetry: () => { throw hookFailed; } }));
      expectObservable(result).toBe(expected, undefined, hookFailed);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('errors the stream with the error thrown by shouldRetry', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const predicateFailed = new Error('predicate failed');
      const source = cold('  -#', undefined, dropped);
      const result = source.pipe(retryBackoff({ shouldRetry: () => { throw predicateFailed; } }));
      expectObservable(result).toBe(' -#', undefined, predicateFailed);
    });
  });

  it('releases the source and cancels the pending wait on early unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-#', undefined, dropped);
      const sourceSubs = ['  ^--!', ' 13ms ^-!'];
      const unsub = '        15ms !';
      const expected = '     -a- 10ms -a';
      expectObservable(source.pipe(retryBackoff({ initialDelay: 10 })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('does not resubscribe when unsubscribed during a wait', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -#', undefined, dropped);
      const sourceSubs = '   ^!';
      const unsub = '        5ms !';
      expectObservable(source.pipe(retryBackoff({ initialDelay: 10 })), unsub).toBe('');
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });
  describe('jitter', () => {
    it('takes a random share of each delay off, within [delay × (1 − jitter), delay]', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const draws = [0.5, 0, 0.999];
        const source = cold('-#', undefined, dropped);
        // delays 100, 200, 400 less 0.5 × draw: 75, 200, 200 (400 × 0.5005 → 200)
        const sourceSubs = [' ^!', ' 76ms ^!', ' 277ms ^!', ' 478ms ^!'];
        const expected = '     479ms #';
        const result = source.pipe(retryBackoff({ initialDelay: 100, maxRetries: 3, jitter: 0.5, random: () => draws.shift()! }));
        expectObservable(result).toBe(expected, undefined, dropped);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('spreads the first retry of many clients over the window (full jitter)', () => {
      scheduler.run(({ cold, expectObservable, flush }) => {
        const delays: number[] = [];
        const random = (): number => (delays.length % 10) / 10;
        for (let i = 0; i < 10; i++) {
          const source = cold('#', undefined, dropped);
          expectObservable(source.pipe(retryBackoff({
            initialDelay: 1000, maxRetries: 1, jitter: 1, random, onRetry: (_a, d) => delays.push(d),
          }))).toBe(`${1000 - i * 100}ms #`, undefined, dropped);
        }
        flush();
        expect(new Set(delays).size).toBe(10);
        expect(Math.min(...delays)).toBe(100);
        expect(Math.max(...delays)).toBe(1000);
      });
    });

    it('passes the error on when the jittered retries run out', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('  -#', undefined, dropped);
        // waits 10 × (1 − 0.5 × 0.999) = 5: resubscribe at 6, whose error is passed on
        const sourceSubs = ['  ^!', ' 6ms ^!'];
        const expected = '     7ms #';
        const result = source.pipe(retryBackoff({ initialDelay: 10, maxRetries: 1, jitter: 0.5, random: () => 0.999 }));
        expectObservable(result).toBe(expected, undefined, dropped);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });

    it('releases the source and the pending timer on early unsubscribe', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('  -a-#', undefined, dropped);
        // waits 100 × (1 − 0.5 × 0.5) = 75: resubscribe at 78; unsubscribed at 80, and at 90 during the next wait
        const sourceSubs = ['  ^--!', ' 78ms ^-!'];
        const unsub = '        80ms !';
        const expected = '     -a- 75ms -a';
        const result = source.pipe(retryBackoff({ initialDelay: 100, maxRetries: 5, jitter: 0.5, random: () => 0.5 }));
        expectObservable(result, unsub).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
    });
  });
});
