import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConnectionError, QueueFullError } from '../../src/errors.js';
import { bufferWhileOffline } from '../../operators/index.js';
import { createScheduler } from '../helpers.js';

describe('bufferWhileOffline', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });
  const link = { u: true, d: false };

  it('holds values while offline and flushes them in order on reconnect', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const online = cold(' u--d-----u-------', { u: true, d: false });
      const source = hot('  -a---b-c------d-|');
      const sourceSubs = '  ^---------------!';
      const expected = '    -a-------(bc)-d-|';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(sourceSubs);
    });
  });

  it('treats the link as offline until online$ first emits', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const online = cold(' ---u', link);
      const source = hot('  -ab-----c|');
      const expected = '    ---(ab)-c|';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 }))).toBe(expected);
    });
  });

  it('completes only once the queue is drained when the source completes while offline', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const online = cold(' d------u', link);
      const onlineSubs = '  ^------!';
      const source = hot('  -a-b-|');
      const sourceSubs = '  ^----!';
      const expected = '    -------(ab|)';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(onlineSubs);
    });
  });

  it('errors with QueueFullError when the queue is full and overflow is error (default)', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const online = cold(' d', link);
      const source = hot('  -a-b-c-d-|');
      const sourceSubs = '  ^----!';
      const expected = '    -----#';
      const result = source.pipe(bufferWhileOffline(online, { capacity: 2 }));
      expectObservable(result).toBe(expected, undefined, new QueueFullError(2, 'offline buffer'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(sourceSubs);
    });
  });

  it('discards the oldest queued value when full and overflow is dropOldest', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const dropped: string[] = [];
      const online = cold(' d--------u', link);
      const source = hot('  -a-b-c-d-----|');
      const expected = '    ---------(cd)|';
      const config = { capacity: 2, overflow: 'dropOldest', onDrop: (v: string) => dropped.push(v) } as const;
      expectObservable(source.pipe(bufferWhileOffline(online, config))).toBe(expected);
      flush();
      expect(dropped).toEqual(['a', 'b']);
    });
  });

  it('discards the arriving value when full and overflow is dropNewest', () => {
    scheduler.run(({ cold, hot, expectObservable, flush }) => {
      const dropped: string[] = [];
      const online = cold(' d--------u', link);
      const source = hot('  -a-b-c-d-----|');
      const expected = '    ---------(ab)|';
      const config = { capacity: 2, overflow: 'dropNewest', onDrop: (v: string) => dropped.push(v) } as const;
      expectObservable(source.pipe(bufferWhileOffline(online, config))).toBe(expected);
      flush();
      expect(dropped).toEqual(['c', 'd']);
    });
  });

  it('keeps passing values through while online, whatever the capacity', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const online = cold(' u', link);
      const source = hot('  -a-b-c-d-|');
      const expected = '    -a-b-c-d-|';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 1 }))).toBe(expected);
    });
  });

  it('errors the stream with the error thrown by onDrop', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const hookFailed = new Error('hook failed');
      const online = cold(' d', link);
      const source = hot('  -a-b-c-|');
      const sourceSubs = '  ^--!';
      const expected = '    ---#';
      const config = { capacity: 1, overflow: 'dropNewest', onDrop: () => { throw hookFailed; } } as const;
      expectObservable(source.pipe(bufferWhileOffline(online, config))).toBe(expected, undefined, hookFailed);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  it('passes a source error on at once, discarding queued values', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('source failed');
      const online = cold(' d----u', link);
      const source = hot('  -a-#', undefined, failure);
      const sourceSubs = '  ^--!';
      const expected = '    ---#';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 }))).toBe(expected, undefined, failure);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(sourceSubs);
    });
  });

  it('passes an online$ error on and releases the source', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const failure = new ConnectionError('status failed');
      const online = cold(' u--#', link, failure);
      const source = hot('  -a---b-|');
      const sourceSubs = '  ^--!';
      const expected = '    -a-#';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 }))).toBe(expected, undefined, failure);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(sourceSubs);
    });
  });

  it('releases source and online$ on early unsubscribe', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const online = cold(' u--d-----u', link);
      const source = hot('  -a---b-c------d-|');
      const sourceSubs = '  ^-------!';
      const unsub = '       ^-------!';
      const expected = '    -a-------';
      expectObservable(source.pipe(bufferWhileOffline(online, { capacity: 10 })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      expectSubscriptions(online.subscriptions).toBe(sourceSubs);
    });
  });
});
