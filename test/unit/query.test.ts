/**
 * `liveQuery$` / `oneShotQuery$` (src/component/query.ts) over a scripted client: the order of
 * emissions, what a reconnect does, how refusals map to typed errors, and what unsubscribing
 * sends. The broker side is tested in test/integration/live-query.test.ts.
 */
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { liveQuery$, oneShotQuery$, type QueryClient } from '../../src/component/query.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError } from '../../src/errors.js';
import {
  LiveQueryEndedError, LiveQueryLimitError, LiveQueryUnsupportedError, QueryError, UnknownTableError,
} from '../../src/protocol/live-query.js';
import type { Message, Status } from '../../src/types.js';

interface Call { method: string; args: unknown[]; answer: Subject<unknown> }

function client(): QueryClient & { status: BehaviorSubject<Status>; calls: Call[]; topic: Subject<Message>; topics: string[] } {
  const status = new BehaviorSubject<Status>({ type: 'up', url: 'ws://x' });
  const calls: Call[] = [];
  const topic = new Subject<Message>();
  const topics: string[] = [];
  return {
    status, calls, topic, topics,
    status$: status.asObservable(),
    call$: <R>(method: string, args: unknown[]) => new Observable<R>((s) => {
      const answer = new Subject<unknown>();
      calls.push({ method, args, answer });
      return (answer as Subject<R>).subscribe(s);
    }),
    subscribe$: <A extends unknown[]>(pattern: string) => { topics.push(pattern); return topic.asObservable() as Observable<Message<A>>; },
  };
}
const pub = (args: unknown[]): Message => ({ topic: 't', args } as unknown as Message);
const answer = (call: Call | undefined, value: unknown): void => { call!.answer.next(value); call!.answer.complete(); };

describe('liveQuery$', () => {
  it('emits the snapshot, then rows; drops rows that precede the snapshot answer', () => {
    const c = client();
    const out: unknown[] = [];
    const sub = liveQuery$(c, 'reading', { live: true, where: 'x > 1' }).subscribe((e) => out.push(e));
    expect(c.calls[0]).toMatchObject({ method: 'live_reading', args: [{ where: 'x > 1', topic: c.topics[0], format: 'rows' }] });
    expect(c.topics[0]).toMatch(/^live\/reading\/[0-9a-f-]{36}$/);
    c.topic.next(pub([[{ x: 0 }]])); // of no registration of ours yet
    answer(c.calls[0], [{ x: 2 }]);
    c.topic.next(pub([[{ x: 3 }, { x: 4 }]]));
    c.topic.next(pub([[]]));
    expect(out).toEqual([{ type: 'snapshot', rows: [{ x: 2 }] }, { type: 'rows', rows: [{ x: 3 }, { x: 4 }] }]);
    sub.unsubscribe();
    expect(c.calls[1]).toMatchObject({ method: 'unlive_reading', args: [c.topics[0]] });
  });

  it('takes a fresh snapshot after a reconnect and waits out a call cut by the disconnect', () => {
    const c = client();
    const out: unknown[] = [];
    const sub = liveQuery$(c, 'reading', { live: true, topic: 'mine' }).subscribe({ next: (e) => out.push(e), error: (e) => out.push(e) });
    answer(c.calls[0], [{ x: 1 }]);
    c.status.next({ type: 'reconnecting', attempt: 1, delayMs: 10 });
    c.status.next({ type: 'up', url: 'ws://x' });
    c.calls[1]!.answer.error(new ConnectionClosedError('gone')); // cut again before the answer
    c.status.next({ type: 'up', url: 'ws://x' });
    answer(c.calls[2], [{ x: 1 }, { x: 2 }]);
    expect(out).toEqual([{ type: 'snapshot', rows: [{ x: 1 }] }, { type: 'snapshot', rows: [{ x: 1 }, { x: 2 }] }]);
    sub.unsubscribe();
  });

  it('errors with LiveQueryEndedError on the end notice, and completes when the component closes', () => {
    const c = client();
    let error: unknown;
    liveQuery$(c, 'reading', { live: true }).subscribe({ error: (e) => { error = e; } });
    answer(c.calls[0], []);
    c.topic.next(pub([null, { code: 'LIVE_QUERY_ENDED', reason: 'broker closing' }]));
    expect(error).toBeInstanceOf(LiveQueryEndedError);
    expect(error).toMatchObject({ reason: 'broker closing' });
    const d = client();
    let completed = false;
    liveQuery$(d, 'reading', { live: true }).subscribe({ complete: () => { completed = true; } });
    d.status.complete();
    expect(completed).toBe(true);
  });

  it.each([
    [new MethodNotFoundError('live_nope'), UnknownTableError],
    [new RpcError('live_reading', 40, "QUERY: invalid where clause at 3: unexpected ';'"), QueryError],
    [new RpcError('live_reading', 40, 'LIVE_QUERY_UNSUPPORTED: function now()'), LiveQueryUnsupportedError],
    [new RpcError('live_reading', 40, 'LIVE_QUERY_LIMIT: 32'), LiveQueryLimitError],
    [new RpcError('live_reading', 40, 'something else'), RpcError],
  ])('maps %s to its typed error', (failure, type) => {
    const c = client();
    let error: unknown;
    liveQuery$(c, 'reading', { live: true }).subscribe({ error: (e) => { error = e; } });
    c.calls[0]!.answer.error(failure);
    expect(error).toBeInstanceOf(type);
    expect(c.calls).toHaveLength(2); // the unlive sent on the way out: the broker may have reserved it
  });
});

describe('oneShotQuery$', () => {
  it('asks live_<t> without a topic and emits the rows once', () => {
    const c = client();
    const out: unknown[] = [];
    let completed = false;
    oneShotQuery$(c, 'reading', { where: 'x = 1' }).subscribe({ next: (r) => out.push(r), complete: () => { completed = true; } });
    expect(c.calls[0]).toMatchObject({ method: 'live_reading', args: [{ where: 'x = 1', format: 'rows' }] });
    answer(c.calls[0], [{ x: 1 }]);
    expect(out).toEqual([[{ x: 1 }]]);
    expect(completed).toBe(true);
    expect(c.topics).toEqual([]);
  });
});
