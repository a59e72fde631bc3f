/**
 * A dialer may return a synchronous Observable (ComponentOptions.dial). When it fails fatally at
 * once, the component stops while its constructor is still starting the connection loop: it must
 * stop cleanly there too (ready() rejects with the dialer's error, status$ completes, nothing is
 * thrown anywhere), as `register()` does with `maxRetries: 0`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { config, lastValueFrom, Observable, throwError, toArray } from 'rxjs';
import { AuthError, component, ConnectionError, register } from '../../src/index.js';
import type { Link } from '../../src/transport/link.js';

/** Errors RxJS would throw on a timer (an observer's callback that threw): a crash in a real app. */
let unhandled: unknown[] = [];
const previous = config.onUnhandledError;
beforeEach(() => {
  unhandled = [];
  config.onUnhandledError = (err) => { unhandled.push(err); };
});
afterEach(() => { config.onUnhandledError = previous; });

/** Settles `p` or says it hung: a component that failed to stop never settles ready(). */
function within<T>(p: Promise<T>, ms = 2_000): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms))]);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return within(p).then((v) => { throw new Error(`expected a rejection, got ${String(v)}`); }, (err: unknown) => err);
}

const refused = (): Observable<Link> => throwError(() => new ConnectionError('refused at once'));

describe('component, synchronous dialer', () => {
  it('stops cleanly when the dialer fails at once and no retry is allowed', async () => {
    const node = component('ws://127.0.0.1:1/sync', { dial: refused, reconnect: { maxRetries: 0 } });
    const statuses = lastValueFrom(node.status$.pipe(toArray()));
    const err = await rejection(node.ready());
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe('refused at once');
    // status$ has completed: the component is stopped, not half-built (a stopped component's
    // status$ completes at once for a late subscriber, as after close()).
    expect(await within(statuses)).toEqual([]);
    await expect(node.rpc('any')).rejects.toThrow(/closed|connected/);
    await node.close();
    expect(unhandled).toEqual([]);
  });

  it('stops cleanly when the dialer refuses the login fatally at once, retries unbounded', async () => {
    const node = component('ws://127.0.0.1:1/sync', { dial: () => throwError(() => new AuthError('no key', 10)) });
    const err = await rejection(node.ready());
    expect(err).toBeInstanceOf(AuthError);
    await node.close();
    expect(unhandled).toEqual([]);
  });

  it('register() rejects with the dialer\'s error instead of hanging', async () => {
    const err = await rejection(register('ws://127.0.0.1:1/sync', { pin: '11223344', key: 'unused', dial: refused }));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe('refused at once');
    expect(unhandled).toEqual([]);
  });
});
