import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConnectionError, QueueFullError } from '../../src/errors.js';
import { dedupeById } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('dedupeById', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });
  const id = (v: string) => v;

  it('drops a value whose key was already seen', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-b-a-c-b-|');
      const sourceSubs = '   ^----------!';
      const expected = '     -a-b---c---|';
      expectObservable(source.pipe(dedupeById({ key: id }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('compares keys, not values', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const values = { a: { id: 1, n: 'a' }, b: { id: 1, n: 'b' }, c: { id: 2, n: 'c' } };
      const source = cold('  -a-b-c-|', values);
      const expected = '     -a---c-|';
      expectObservable(source.pipe(dedupeById({ key: (v) => v.id }))).toBe(expected, values);
    });
  });

  it('lets a later duplicate pass once clear$ removed its key (ACK2)', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('   -a-a-b-a-b-|');
      const clear = hot('    ----a-z----');
      const clearSubs = '    ^----------!';
      const expected = '     -a---b-a---|';
      expectObservable(source.pipe(dedupeById({ key: id, clear$: clear }))).toBe(expected);
      expectSubscriptions(clear.subscriptions).toBe(clearSubs);
    });
  });

  it('forgets the oldest key when full so its duplicate passes again (dropOldest, default)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -a-b-c-b-a-|');
      const expected = '     -a-b-c---a-|';
      expectObservable(source.pipe(dedupeById({ key: id, capacity: 2 }))).toBe(expected);
    });
  });

  it('errors with QueueFullError when full and overflow is error', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-b-a-c-|');
      const sourceSubs = '   ^------!';
      const clear = hot('    -');
      const result = source.pipe(dedupeById({ key: id, clear$: clear, capacity: 2, overflow: 'error' }));
      expectObservable(result).toBe('-a-b---#', undefined, new QueueFullError(2, 'dedupe set'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(clear.subscriptions).toBe(sourceSubs);
    });
  });

  it('starts from an external seen set and updates it in place across subscriptions', () => {
    const seen = new Set(['x']);
    scheduler.run(({ cold, hot, expectObservable }) => {
      const first = cold('   -x-y-|');
      const clear = hot('    -------y--');
      const second = cold('  ------ -x-y-y-|');
      expectObservable(first.pipe(dedupeById({ key: id, clear$: clear, seen }))).toBe('---y-|');
      // a reconnect: the same set, y cleared by its ACK2 at frame 7, then seen again
      expectObservable(second.pipe(dedupeById({ key: id, clear$: clear, seen }))).toBe('---------y---|');
    });
    expect([...seen]).toEqual(['x', 'y']);
  });

  it('trims an external seen set larger than capacity, oldest first', () => {
    const seen = new Set(['p', 'q', 'r']);
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -s-r-p-|');
      const expected = '     -s---p-|';
      expectObservable(source.pipe(dedupeById({ key: id, capacity: 2, seen }))).toBe(expected);
    });
    expect([...seen]).toEqual(['s', 'p']);
  });

  it('passes errors of the source, of clear$ and of key on', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('link dropped');
      const source = cold('  -a-a-#', undefined, failure);
      expectObservable(source.pipe(dedupeById({ key: id }))).toBe('-a---#', undefined, failure);

      const source2 = hot('  -a-b-c-|');
      const source2Subs = '  ^-!';
      const clear = hot('    --#', undefined, failure);
      expectObservable(source2.pipe(dedupeById({ key: id, clear$: clear }))).toBe('-a#', undefined, failure);
      expectSubscriptions(source2.subscriptions).toBe(source2Subs);

      const keyFailed = new Error('no id');
      const source3 = cold(' -a-b-|');
      const key = (v: string) => { if (v === 'b') throw keyFailed; return v; };
      expectObservable(source3.pipe(dedupeById({ key }))).toBe('-a-#', undefined, keyFailed);
      expectSubscriptions(source3.subscriptions).toBe('^--!');
    });
  });

  it('releases source and clear$ on early unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('   -a-b-a-c-|');
      const clear = hot('    --------a-');
      const sourceSubs = '   ^----!';
      const unsub = '        ^----!';
      const expected = '     -a-b--';
      expectObservable(source.pipe(dedupeById({ key: id, clear$: clear })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(clear.subscriptions).toBe(sourceSubs);
    });
  });
});
