import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, it } from 'vitest';
import { actionEvents } from '../../operators/index.js';
import { ActionPreemptedError, ProtocolError } from '../../src/errors.js';
import { createScheduler } from '../helpers.js';

const items = {
  a: { type: 'accepted' },
  f: { type: 'feedback', value: 1 },
  g: { type: 'feedback', value: 2 },
  r: { type: 'result', value: 'done' },
  p: { type: 'preempted' },
  z: 42,
};
const events = { f: { type: 'feedback', value: 1 }, g: { type: 'feedback', value: 2 }, r: { type: 'result', value: 'done' } };

describe('actionEvents', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('drops accepted, passes feedback and the result, and completes with the stream', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-f-g-r-|', items);
      const sourceSubs = '   ^--------!';
      const expected = '     ---f-g-r-|';
      expectObservable(source.pipe(actionEvents('move'))).toBe(expected, events);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('fails with ActionPreemptedError when the goal is preempted', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-f-p-|', items);
      const sourceSubs = '   ^----!';
      const expected = '     ---f-#';
      expectObservable(source.pipe(actionEvents('move'))).toBe(expected, events, new ActionPreemptedError('move'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('fails with ProtocolError for a stream that ends without a result or holds a stranger', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-f-|', items).pipe(actionEvents('move')))
        .toBe('-f-#', events, new ProtocolError("action 'move' ended without a result"));
      expectObservable(cold('-z-|', items).pipe(actionEvents('move')))
        .toBe('-#', events, new ProtocolError("action 'move': unexpected item 42"));
    });
  });

  it('propagates an error of the source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const error = new Error('exposer gone');
      expectObservable(cold('-f-#', items, error).pipe(actionEvents('move'))).toBe('-f-#', events, error);
    });
  });

  it('releases the source on early unsubscribe (which cancels the goal)', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-f-g-r-|', items);
      const sourceSubs = '   ^----!';
      const unsub = '        ^----!';
      expectObservable(source.pipe(actionEvents('move')), unsub).toBe('---f-', events);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });
});
