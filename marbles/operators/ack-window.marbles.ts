import { Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { AckTimeoutError, ConnectionError, QueueFullError } from '../../src/errors.js';
import { ackWindow, type AckWindowConfig, type AckWindowEvent } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('ackWindow', () => {
  let scheduler: TestScheduler;
  let sends: [msg: string, attempt: number, frame: number][];
  beforeEach(() => {
    scheduler = createScheduler();
    sends = [];
  });

  /** Config whose `send` records `[msg, attempt, frame]`; a message's key is its first letter. */
  const config = (acks$: Observable<string>, more: Partial<AckWindowConfig<string, string>> = {}) =>
    ({
      acks$,
      key: (msg: string) => msg[0],
      send: (msg: string, attempt: number) => { sends.push([msg, attempt, scheduler.now()]); },
      describe: (msg: string) => `topic/${msg}`,
      ...more,
    }) satisfies AckWindowConfig<string, string>;

  /** Marble values: `A` = a acked, `X` = a expired after `n` attempts, `D` = a dropped, … */
  const events = (expired: Record<string, number> = {}): Record<string, AckWindowEvent<string>> => ({
    A: { type: 'acked', msg: 'a' }, B: { type: 'acked', msg: 'b' }, C: { type: 'acked', msg: 'c' },
    D: { type: 'dropped', msg: 'a' }, E: { type: 'dropped', msg: 'c' },
    ...Object.fromEntries(Object.entries(expired).map(([msg, attempts]) =>
      [msg.toUpperCase() === 'A' ? 'X' : 'Y',
        { type: 'expired', msg, error: new AckTimeoutError(`topic/${msg}`, attempts) }])),
  });

  it('keeps many messages in flight and reports each when its ack arrives', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('  (abc)-|');
      const sourceSubs = '   ^-----!';
      const acks = hot('     --b-c-a-|');
      const acksSubs = '     ^-----!';
      const expected = '     --B-C-(A|)';
      expectObservable(source.pipe(ackWindow(config(acks)))).toBe(expected, events());
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 0], ['c', 1, 0]]);
    });
  });

  it('re-sends every ackTimeout, reports expired after sendRetries re-sends and goes on', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a 4ms b|');
      const acks = hot('     7ms b');
      const expected = '     7ms B 32ms (X|)';
      const result = source.pipe(ackWindow(config(acks, { ackTimeout: 10, sendRetries: 3 })));
      expectObservable(result).toBe(expected, events({ a: 4 }));
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 5], ['a', 2, 10], ['a', 3, 20], ['a', 4, 30]]);
    });
  });

  it('transmits up to 11 times 2000 ms apart by default (spec §4.2)', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('a|');
      const acks = hot('   -');
      expectObservable(source.pipe(ackWindow(config(acks)))).toBe('22000ms (X|)', events({ a: 11 }));
      flush();
      expect(sends).toEqual(Array.from({ length: 11 }, (_, i) => ['a', i + 1, i * 2000]));
    });
  });

  it('keeps each message on its own clock', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a 2ms b 2ms c');
      const acks = hot('     15ms a 5ms c');
      const expected = '     15ms A 5ms C 1ms Y';
      const result = source.pipe(ackWindow(config(acks, { ackTimeout: 10, sendRetries: 1 })));
      expectObservable(result).toBe(expected, events({ b: 2 }));
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 3], ['c', 1, 6], ['a', 2, 10], ['b', 2, 13], ['c', 2, 16]]);
    });
  });

  it('sends the next message only when there is room in the window', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  (abc)');
      const acks = hot('     5ms a 4ms b 4ms c');
      const expected = '     5ms A 4ms B 4ms C';
      expectObservable(source.pipe(ackWindow(config(acks, { maxInflight: 1 })))).toBe(expected, events());
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 5], ['c', 1, 10]]);
    });
  });

  it('drops the oldest waiting message when the queue is full with dropOldest', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a-b-c');
      const acks = hot('     5ms a 4ms c');
      const expected = '     ----DA 4ms C';
      const result = source.pipe(ackWindow(config(acks, { maxInflight: 1, capacity: 1, overflow: 'dropOldest' })));
      expectObservable(result).toBe(expected, { ...events(), D: { type: 'dropped', msg: 'b' } });
      flush();
      expect(sends).toEqual([['a', 1, 0], ['c', 1, 5]]);
    });
  });

  it('drops the arriving message when the queue is full with dropNewest', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a-b-c');
      const acks = hot('     5ms a 4ms b');
      const expected = '     ----EA 4ms B';
      const result = source.pipe(ackWindow(config(acks, { maxInflight: 1, capacity: 1, overflow: 'dropNewest' })));
      expectObservable(result).toBe(expected, events());
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 5]]);
    });
  });

  it('errors with QueueFullError when the queue is full by default', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('  a-b-c');
      const sourceSubs = '   ^---!';
      const acks = hot('     -');
      const acksSubs = '     ^---!';
      const result = source.pipe(ackWindow(config(acks, { maxInflight: 1, capacity: 1 })));
      expectObservable(result).toBe('----#', undefined, new QueueFullError(1, 'ack window queue'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
    });
  });

  it('sends a message without key once, in its turn, and reports it sent at once', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  (ab)---|');
      const acks = hot('     3ms a');
      const expected = '     3ms (AS)|';
      const key = (msg: string) => (msg === 'b' ? undefined : msg);
      const result = source.pipe(ackWindow(config(acks, { key, maxInflight: 1 })));
      expectObservable(result).toBe(expected, { ...events(), S: { type: 'sent', msg: 'b' } });
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 3]]);
    });
  });

  it('sends a copy of a message in flight once, reported sent, and its ack settles the first', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a-b', { a: 'a', b: 'a2' });
      const acks = hot('     4ms a');
      const expected = '     --F-A';
      const result = source.pipe(ackWindow(config(acks)));
      expectObservable(result).toBe(expected, { ...events(), F: { type: 'sent', msg: 'a2' } });
      flush();
      expect(sends).toEqual([['a', 1, 0], ['a2', 1, 2]]);
    });
  });

  it('reports at once an ack that arrives synchronously during send', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const acks = new Subject<string>();
      const source = cold('  -a-b-|');
      const expected = '     -A-B-|';
      const send = (msg: string) => { sends.push([msg, 1, scheduler.now()]); acks.next(msg); };
      expectObservable(source.pipe(ackWindow(config(acks, { send, ackTimeout: 10 })))).toBe(expected, events());
      flush();
      expect(sends).toEqual([['a', 1, 1], ['b', 1, 3]]);
      expect(acks.observed).toBe(false);
    });
  });

  it('ignores acks of unknown and already acked messages', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const source = cold('  (ab)');
      const acks = hot('     -z-a-a-b-a');
      const expected = '     ---A---B--';
      expectObservable(source.pipe(ackWindow(config(acks, { ackTimeout: 100 })))).toBe(expected, events());
    });
  });

  it('errors the stream with the error thrown by send', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('socket closed');
      const source = cold('  -a-b|');
      const sourceSubs = '   ^!';
      const acks = hot('     -');
      const acksSubs = '     ^!';
      const send = () => { throw failure; };
      expectObservable(source.pipe(ackWindow(config(acks, { send })))).toBe('-#', undefined, failure);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
    });
  });

  it('passes errors of the source and of acks$ on', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('link dropped');
      const source = cold('  a---#', undefined, failure);
      const acks = hot('     -');
      const acksSubs = '     ^---!';
      expectObservable(source.pipe(ackWindow(config(acks, { ackTimeout: 10 })))).toBe('----#', undefined, failure);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);

      const source2 = cold(' a');
      const source2Subs = '  ^--!';
      const acks2 = hot('    ---#', undefined, failure);
      expectObservable(source2.pipe(ackWindow(config(acks2, { ackTimeout: 10 })))).toBe('---#', undefined, failure);
      expectSubscriptions(source2.subscriptions).toBe(source2Subs);
    });
  });

  it('stops re-sending and releases source and acks$ on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('  a-b');
      const sourceSubs = '   ^ 14ms !';
      const acks = hot('     -');
      const acksSubs = '     ^ 14ms !';
      const unsub = '        ^ 14ms !';
      expectObservable(source.pipe(ackWindow(config(acks, { ackTimeout: 10 }))), unsub).toBe('');
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 2], ['a', 2, 10], ['b', 2, 12]]);
    });
  });
});
