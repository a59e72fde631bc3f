import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { gatherQuorum, type GatherSettled } from '../../operators/index.js';
import { QuorumError } from '../../src/errors.js';
import { createScheduler } from '../helpers.js';

const boom = new Error('boom');
const settled: Record<string, GatherSettled<number>> = {
  a: { from: 'srv1', result: 1 }, b: { from: 'srv2', result: 2 }, c: { from: 'srv3', result: 3 },
  x: { from: 'srv1', error: boom }, y: { from: 'srv2', error: boom },
};
const replies = { a: { from: 'srv1', result: 1 }, b: { from: 'srv2', result: 2 }, c: { from: 'srv3', result: 3 } };

describe('gatherQuorum', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('emits answers as they arrive and completes at the quorum, releasing the other calls', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a--b--c|', settled);
      const sourceSubs = '   ^---!';
      const expected = '     -a--(b|)';
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 3 }))).toBe(expected, replies);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('skips a failed call while the quorum can still be met', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -x--a--b|', settled);
      const expected = '     ----a--(b|)';
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 3 }))).toBe(expected, replies);
    });
  });

  it('fails with QuorumError once failures leave too few calls', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-x-y-b|', settled);
      const sourceSubs = '   ^----!';
      const expected = '     -a---#';
      const error = new QuorumError('count', 2, 1, '2 of 3 calls failed');
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 3, method: 'count' })))
        .toBe(expected, replies, error);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('fails with QuorumError when the deadline passes first', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a-------b|', settled);
      const sourceSubs = '   ^----!';
      const expected = '     -a---#';
      const error = new QuorumError('gather', 2, 1, 'timed out after 5 ms');
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 2, timeout: 5 }))).toBe(expected, replies, error);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('fails with QuorumError when every call settled short of the quorum', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -a--|', settled);
      const error = new QuorumError('gather', 2, 1, 'every call has settled');
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 2 }))).toBe('-a--#', replies, error);
    });
  });

  it('completes at once for a quorum of 0 without calling anyone', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a|', settled);
      expectObservable(source.pipe(gatherQuorum({ quorum: 0, total: 1 }))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it('propagates an error of the source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -a-#', settled, boom);
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 2 }))).toBe('-a-#', replies, boom);
    });
  });

  it('releases the source and the deadline on early unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -a----b|', settled);
      const sourceSubs = '   ^--!';
      const unsub = '        ^--!';
      expectObservable(source.pipe(gatherQuorum({ quorum: 2, total: 2, timeout: 5 })), unsub).toBe('-a-', replies);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
    // The deadline timer was released with the subscription: nothing is left scheduled.
    expect(scheduler.actions.length).toBe(0);
  });
});
