import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, it } from 'vitest';
import { presenceScan } from '../../operators/index.js';
import type { PresenceEvent, PresenceState } from '../../src/types.js';
import { createScheduler } from '../helpers.js';

const events: Record<string, PresenceEvent> = {
  u: { type: 'up', cid: 'early' },
  s: { type: 'snapshot', components: [{ cid: 'srv', exposes: ['count'] }] },
  a: { type: 'up', cid: 'aux', exposes: ['ping'] },
  e: { type: 'expose', cid: 'srv', method: 'add' },
  E: { type: 'expose', cid: 'srv', method: 'add' },
  x: { type: 'unexpose', cid: 'srv', method: 'count' },
  d: { type: 'down', cid: 'aux' },
  D: { type: 'down', cid: 'nobody' },
};
const states: Record<string, PresenceState> = {
  S: [{ cid: 'srv', exposes: ['count'] }],
  A: [{ cid: 'aux', exposes: ['ping'] }, { cid: 'srv', exposes: ['count'] }],
  B: [{ cid: 'aux', exposes: ['ping'] }, { cid: 'srv', exposes: ['add', 'count'] }],
  C: [{ cid: 'aux', exposes: ['ping'] }, { cid: 'srv', exposes: ['add'] }],
  F: [{ cid: 'srv', exposes: ['add'] }],
};

describe('presenceScan', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('drops events before the snapshot, then folds events that change the state', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -u-s-a-e-E-x-D-d-|', events);
      const sourceSubs = '   ^----------------!';
      const expected = '     ---S-A-B---C---F-|';
      expectObservable(source.pipe(presenceScan())).toBe(expected, states);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('replaces the state with a later snapshot (after a reconnect)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('  -s-a-s-|', events);
      expectObservable(source.pipe(presenceScan())).toBe('-S-A-S-|', states);
    });
  });

  it('propagates an error of the source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const error = new Error('link lost');
      const source = cold('  -s-#', events, error);
      expectObservable(source.pipe(presenceScan())).toBe('-S-#', states, error);
    });
  });

  it('releases the source on early unsubscribe, each subscription with its own state', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -s-a-d-|', events);
      const unsub = '        ^--!';
      expectObservable(source.pipe(presenceScan()), unsub).toBe('-S-', states);
      expectObservable(source.pipe(presenceScan())).toBe('-S-A-S-|', states);
      expectSubscriptions(source.subscriptions).toBe(['^--!', '^------!']);
    });
  });
});
