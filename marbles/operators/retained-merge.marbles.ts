import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, it } from 'vitest';
import { ConnectionError, QueueFullError } from '../../src/errors.js';
import { retainedMerge } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('retainedMerge', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });
  const id = (v: string) => v;

  it('emits the retained values, then the live ones held meanwhile, then live as they come', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('      -a--b--------c--d-|');
      const liveSubs = '      ^-----------------!';
      const retained = cold(' --x--y|');
      const retainedSubs = '  ^-----!';
      const expected = '      --x--y(ab)---c--d-|';
      expectObservable(live.pipe(retainedMerge(retained, { key: id }))).toBe(expected);
      expectSubscriptions(live.subscriptions).toBe(liveSubs);
      expectSubscriptions(retained.subscriptions).toBe(retainedSubs);
    });
  });

  it('drops a live value that is a retained one already emitted (no duplicate), held or later', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const live = hot('      -x--a--x-b-|');
      const retained = cold(' --x|');
      const expected = '      --x-a----b-|';
      expectObservable(live.pipe(retainedMerge(retained, { key: id }))).toBe(expected);
    });
  });

  it('completes only once both the live source and the retained values have completed', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const live = cold('     -a|');
      const retained = cold(' ----x|');
      expectObservable(live.pipe(retainedMerge(retained, { key: id }))).toBe('----x(a|)');
    });
  });

  it('passes an error of the retained values on and unsubscribes the live source', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('      -a--b--|');
      const liveSubs = '      ^--!';
      const retained = cold(' -x-#', undefined, new ConnectionError('lost'));
      expectObservable(live.pipe(retainedMerge(retained, { key: id }))).toBe('-x-#', undefined, new ConnectionError('lost'));
      expectSubscriptions(live.subscriptions).toBe(liveSubs);
    });
  });

  it('passes an error of the live source on, even while retained values are coming', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('      --#', undefined, new ConnectionError('down'));
      const retained = cold(' -x---y|');
      const retainedSubs = '  ^-!';
      expectObservable(live.pipe(retainedMerge(retained, { key: id }))).toBe('-x#', undefined, new ConnectionError('down'));
      expectSubscriptions(retained.subscriptions).toBe(retainedSubs);
    });
  });

  it('errors with QueueFullError when more live values wait than capacity (overflow error)', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const live = hot('      -abc--|');
      const retained = cold(' -----x|');
      expectObservable(live.pipe(retainedMerge(retained, { key: id, capacity: 2 })))
        .toBe('---#', undefined, new QueueFullError(2, 'held live values'));
    });
  });

  it('drops the oldest held live value when full with overflow dropOldest', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const live = hot('      -abc------|');
      const retained = cold(' -----x|');
      expectObservable(live.pipe(retainedMerge(retained, { key: id, capacity: 2, overflow: 'dropOldest' })))
        .toBe('-----x(bc)|');
    });
  });

  it('errors when key throws', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const retained = cold(' -x|');
      const boom = new Error('bad key');
      const key = (): unknown => { throw boom; };
      expectObservable(cold('-').pipe(retainedMerge(retained, { key }))).toBe('-#', undefined, boom);
    });
  });

  it('unsubscribes both sources when the subscriber leaves early', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('      -a--b--c--|');
      const retained = cold(' --x-----y|');
      const unsub = '         ----!';
      expectObservable(live.pipe(retainedMerge(retained, { key: id })), unsub).toBe('--x-');
      expectSubscriptions(live.subscriptions).toBe('^---!');
      expectSubscriptions(retained.subscriptions).toBe('^---!');
    });
  });
});
