/**
 * Many calls in flight at once, half of them withdrawn: the withdrawn ones reach the exposer as
 * cancels (its handlers are released and see their signal aborted), the others still get their
 * answers, and no table (caller's requests and wheel, broker's forwarded calls, exposer's running
 * handlers) keeps anything (issue 20's flat RPC path must keep these semantics).
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, Subject, type Subscription } from 'rxjs';
import type { Component, RpcContext } from '../../src/index.js';
import type { Requests } from '../../src/component/requests.js';
import { roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const requestsOf = (c: Component): Requests => (c as unknown as { requests: Requests }).requests;
const runningOf = (c: Component): number => (c as unknown as { serving: { running: Map<bigint, unknown> } }).serving.running.size;

describe('10,000 calls in flight, half withdrawn', () => {
  it('cancels the withdrawn half at the exposer and answers the other half', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const release = new Subject<void>();
    let started = 0;
    let aborted = 0;
    srv.expose('wait', (n: number, ctx: RpcContext) => {
      started++;
      ctx.signal.addEventListener('abort', () => { aborted++; });
      return new Promise((resolve) => { release.subscribe(() => resolve(n * 2)); });
    }, { context: true });
    await roundTrip(srv);
    const total = 10_000;
    const subs: Subscription[] = [];
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      if (i % 2 === 0) subs.push(cli.call$('wait', [i], { timeout: 60_000 }).subscribe({ error: () => undefined }));
      else answers.push(firstValueFrom(cli.call$('wait', [i], { timeout: 60_000 })));
    }
    await waitFor(() => started === total, { what: 'every handler to run', timeout: 60_000 });
    expect(requestsOf(cli).pending.size).toBe(total);
    for (const sub of subs) sub.unsubscribe();
    expect(requestsOf(cli).pending.size).toBe(total / 2);
    await waitFor(() => aborted === total / 2 && runningOf(srv) === total / 2, { what: 'the cancels to reach the exposer', timeout: 60_000 });
    release.next();
    const values = await Promise.all(answers);
    expect(values).toEqual(Array.from({ length: total / 2 }, (_, k) => (2 * k + 1) * 2));
    expect(aborted).toBe(total / 2); // the answered calls were not cancelled
    expect([requestsOf(cli).pending.size, requestsOf(cli).wheel.size]).toEqual([0, 0]);
    await waitFor(() => b.stats().pendingRpcs === 0 && runningOf(srv) === 0, { what: 'the broker and exposer to forget' });
  }, 120_000);
});
