import { Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { AckTimeoutError, ConnectionError } from '../../src/errors.js';
import { ackRetry, type AckRetryConfig } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('ackRetry', () => {
  let scheduler: TestScheduler;
  let sends: [msg: string, attempt: number, frame: number][];
  beforeEach(() => {
    scheduler = createScheduler();
    sends = [];
  });

  /** Config whose `send` records `[msg, attempt, frame]`; an ack is the acked message itself. */
  const config = (acks$: Observable<string>, more: Partial<AckRetryConfig<string, string>> = {}) =>
    ({
      acks$,
      isAck: (ack: string, msg: string) => ack === msg,
      send: (msg: string, attempt: number) => { sends.push([msg, attempt, scheduler.now()]); },
      describe: (msg: string) => `topic/${msg}`,
      ...more,
    }) satisfies AckRetryConfig<string, string>;

  it('sends each message and emits it when its ack arrives', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('  a--b|');
      const sourceSubs = '   ^---!';
      const acks = hot('     --a--b-|');
      const acksSubs = ['    ^-!', ' ---^-!'];
      const expected = '     --a--(b|)';
      expectObservable(source.pipe(ackRetry(config(acks)))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 3]]);
    });
  });

  it('re-sends every ackTimeout and errors with AckTimeoutError after sendRetries re-sends', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('  a');
      const acks = hot('     -');
      const acksSubs = '     ^ 39ms !';
      const expected = '     40ms #';
      const result = source.pipe(ackRetry(config(acks, { ackTimeout: 10, sendRetries: 3 })));
      expectObservable(result).toBe(expected, undefined, new AckTimeoutError('topic/a', 4));
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['a', 2, 10], ['a', 3, 20], ['a', 4, 30]]);
    });
  });

  it('transmits up to 11 times 2000 ms apart by default (spec §4.2)', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('a');
      const acks = hot('   -');
      const result = source.pipe(ackRetry(config(acks)));
      expectObservable(result).toBe('22000ms #', undefined, new AckTimeoutError('topic/a', 11));
      flush();
      expect(sends).toEqual(Array.from({ length: 11 }, (_, i) => ['a', i + 1, i * 2000]));
    });
  });

  it('transmits exactly once and errors after ackTimeout when sendRetries is 0', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a');
      const acks = hot('     -');
      const expected = '     2000ms #';
      const result = source.pipe(ackRetry(config(acks, { sendRetries: 0 })));
      expectObservable(result).toBe(expected, undefined, new AckTimeoutError('topic/a', 1));
      flush();
      expect(sends).toEqual([['a', 1, 0]]);
    });
  });

  it("names the message 'message' in AckTimeoutError without describe", () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const source = cold('a');
      const acks = hot('   -');
      const result = source.pipe(ackRetry({ ...config(acks, { ackTimeout: 5, sendRetries: 0 }), describe: undefined }));
      expectObservable(result).toBe('5ms #', undefined, new AckTimeoutError('message', 1));
    });
  });

  it('emits the message when the ack answers the second transmission', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  a--|');
      const acks = hot('     15ms a');
      const expected = '     15ms (a|)';
      expectObservable(source.pipe(ackRetry(config(acks, { ackTimeout: 10 })))).toBe(expected);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['a', 2, 10]]);
    });
  });

  it('does not send the next message before the previous one is acked', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  (ab)');
      const acks = hot('     25ms a 4ms b');
      const expected = '     25ms a 4ms b';
      expectObservable(source.pipe(ackRetry(config(acks, { ackTimeout: 10 })))).toBe(expected);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['a', 2, 10], ['a', 3, 20], ['b', 1, 25]]);
    });
  });

  it('ignores late and duplicate acks of a message already acked', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const source = cold('  (ab)');
      const acks = hot('     --a-a--b-a-|');
      const expected = '     --a----b---';
      expectObservable(source.pipe(ackRetry(config(acks, { ackTimeout: 10 })))).toBe(expected);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['b', 1, 2]]);
    });
  });

  it('emits at once when the ack arrives synchronously during send', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const acks = new Subject<string>();
      const source = cold('  -a-b-|');
      const expected = '     -a-b-|';
      const send = (msg: string) => { sends.push([msg, 1, scheduler.now()]); acks.next(msg); };
      expectObservable(source.pipe(ackRetry(config(acks, { send, ackTimeout: 10 })))).toBe(expected);
      flush();
      expect(sends).toEqual([['a', 1, 1], ['b', 1, 3]]);
      expect(acks.observed).toBe(false);
    });
  });

  it('errors the stream with the error thrown by send', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('socket closed');
      const source = cold('  -a-b|');
      const sourceSubs = '   ^!';
      const acks = hot('     -');
      const acksSubs = '     -(^!)';
      const send = () => { throw failure; };
      expectObservable(source.pipe(ackRetry(config(acks, { send })))).toBe('-#', undefined, failure);
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
      expectObservable(source.pipe(ackRetry(config(acks, { ackTimeout: 10 })))).toBe('----#', undefined, failure);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);

      const source2 = cold(' a');
      const acks2 = hot('    ---#', undefined, failure);
      expectObservable(source2.pipe(ackRetry(config(acks2, { ackTimeout: 10 })))).toBe('---#', undefined, failure);
    });
  });

  it('stops re-sending and releases source and acks$ on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('  a-b');
      const sourceSubs = '   ^ 14ms !';
      const acks = hot('     -');
      const acksSubs = '     ^ 14ms !';
      const unsub = '        ^ 14ms !';
      expectObservable(source.pipe(ackRetry(config(acks, { ackTimeout: 10 }))), unsub).toBe('');
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(acks.subscriptions).toBe(acksSubs);
      flush();
      expect(sends).toEqual([['a', 1, 0], ['a', 2, 10]]);
    });
  });
});
