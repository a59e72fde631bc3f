import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { groupDispatch, pickMember } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('pickMember', () => {
  it('picks round robin from the cursor and skips members that cannot take a value', () => {
    const all = () => true;
    expect(pickMember(['a', 'b', 'c'], 0, all)).toBe(0);
    expect(pickMember(['a', 'b', 'c'], 4, all)).toBe(1);
    expect(pickMember(['a', 'b', 'c'], 1, (m) => m !== 'b')).toBe(2);
    expect(pickMember(['a', 'b', 'c'], 2, (m) => m === 'a')).toBe(0);
    expect(pickMember(['a', 'b'], 0, () => false)).toBe(-1);
    expect(pickMember([], 3, all)).toBe(-1);
  });
});

describe('groupDispatch', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });
  const at = (value: string, member: string | undefined) => ({ value, member });

  it('gives each value to one member, round robin, following joins and leaves', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const members = hot(' x-------y-----|', { x: ['w1', 'w2', 'w3'], y: ['w1', 'w3'] });
      const source = hot('  -a-b-c-d--e-f-|');
      const sourceSubs = '  ^-------------!';
      const expected = '    -a-b-c-d--e-f-|';
      expectObservable(source.pipe(groupDispatch(members))).toBe(expected, {
        a: at('a', 'w1'), b: at('b', 'w2'), c: at('c', 'w3'), d: at('d', 'w1'),
        // The cursor (2) survives the leave of w2: w3 is next, then w1.
        e: at('e', 'w3'), f: at('f', 'w1'),
      });
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(members.subscriptions).toBe(sourceSubs);
    });
  });

  it('skips members that are not eligible, and assigns no one when none is', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const full = new Set(['w2']);
      const members = cold('x', { x: ['w1', 'w2'] });
      const source = hot('  -a-b-c-|');
      const expected = '    -a-b-c-|';
      const eligible = (m: string) => !full.has(m);
      const result = source.pipe(groupDispatch(members, { eligible }));
      expectObservable(result).toBe(expected, { a: at('a', 'w1'), b: at('b', 'w1'), c: at('c', undefined) });
      scheduler.schedule(() => full.add('w1'), 4);
    });
  });

  it('forwards an error of the source, of members$ and of eligible', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const members = hot(' x------', { x: ['w1'] });
      const source = hot('  -a-#', undefined, new Error('source failed'));
      const sourceSubs = '  ^--!';
      expectObservable(source.pipe(groupDispatch(members))).toBe('-a-#', { a: at('a', 'w1') }, new Error('source failed'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(members.subscriptions).toBe(sourceSubs);

      const badMembers = hot('x-#', { x: ['w1'] }, new Error('members failed'));
      const source2 = hot('   -a---');
      expectObservable(source2.pipe(groupDispatch(badMembers))).toBe('-a#', { a: at('a', 'w1') }, new Error('members failed'));

      const source3 = hot('   -a---');
      const eligible = () => { throw new Error('eligible failed'); };
      expectObservable(source3.pipe(groupDispatch(cold('x', { x: ['w1'] }), { eligible }))).toBe('-#', undefined, new Error('eligible failed'));
    });
  });

  it('releases the source and members$ on early unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const members = hot(' x-------', { x: ['w1', 'w2'] });
      const source = hot('  -a-b-c-d');
      const unsub = '       ----!   ';
      const sourceSubs = '  ^---!   ';
      expectObservable(source.pipe(groupDispatch(members)), unsub).toBe('-a-b', { a: at('a', 'w1'), b: at('b', 'w2') });
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(members.subscriptions).toBe(sourceSubs);
    });
  });
});
