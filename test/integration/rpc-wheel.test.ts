/**
 * The caller's calls share one timeout wheel (src/component/timeout-wheel.ts): many calls
 * pending with different timeouts each fail with RpcTimeoutError in deadline order; a call
 * withdrawn before its answer leaves nothing behind and a late answer reaches nobody; and a
 * long run of calls leaves no pending entry, no wheel entry and, once the last deadline has
 * passed, no timer.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, NEVER } from 'rxjs';
import type { Component } from '../../src/index.js';
import { RpcTimeoutError } from '../../src/errors.js';
import type { Requests } from '../../src/component/requests.js';
import { roundTrip, textHex, useScope, waitFor } from './helpers.js';

const scope = useScope();

const requestsOf = (c: Component): Requests => (c as unknown as { requests: Requests }).requests;
const runningOf = (c: Component): number => (c as unknown as { serving: { running: Map<bigint, unknown> } }).serving.running.size;

describe('RPC timeouts on one wheel', () => {
  it('fails each of many pending calls with RpcTimeoutError, in deadline order, and answers the others', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('hang', () => NEVER);
    srv.expose('add', (x: number, y: number) => x + y);
    await roundTrip(srv);
    const order: number[] = [];
    const hanging: Promise<unknown>[] = [];
    const answered: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const timeout = [900, 100, 500][i % 3]!; // groups 400 ms apart: the loop is faster than that
      hanging.push(firstValueFrom(cli.call$('hang', [], { timeout })).then(
        () => undefined, (err: unknown) => { order.push(timeout); return err; }));
      if (i % 6 === 0) answered.push(firstValueFrom(cli.call$('add', [i, 1], { timeout: 10_000 })));
    }
    expect(requestsOf(cli).wheel.size).toBeGreaterThan(300);
    const errors = await Promise.all(hanging);
    for (const err of errors) expect(err).toMatchObject({ code: 'RPC_TIMEOUT' });
    expect(errors[0]).toBeInstanceOf(RpcTimeoutError);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(await Promise.all(answered)).toEqual(Array.from({ length: 50 }, (_, k) => k * 6 + 1));
    expect([requestsOf(cli).pending.size, requestsOf(cli).wheel.size]).toEqual([0, 0]);
    // Each timed-out call was withdrawn: the broker and the exposer hold nothing for it.
    await waitFor(() => b.stats().pendingRpcs === 0 && runningOf(srv) === 0, { what: 'calls withdrawn' });
  });

  it('drops a late answer to a call withdrawn before it came, and to a call that timed out', async () => {
    const b = await scope.broker();
    const py = await scope.raw(b); // a reference exposer that answers whenever it likes
    py.sendBinary(`83 00 48 01 77 66 55 44 33 22 11 ${textHex('late')}`);
    await py.nextHex();
    py.sendBinary(`84 03 48 02 77 66 55 44 33 22 11 ${textHex('m')} a1 63 63 6d 64 66 65 78 70 6f 73 65`);
    await py.nextHex();
    const cli = await scope.connect(b, 'cli');
    const idOf = (request: string): string => request.split(' ').slice(3, 12).join(' '); // type byte `18 22`
    const seen: unknown[] = [];
    const sub = cli.rpc$('m').subscribe({ next: (v) => seen.push(v), error: (e) => seen.push(e), complete: () => seen.push('done') });
    const first = idOf(await py.nextHex());
    sub.unsubscribe();
    expect([requestsOf(cli).pending.size, requestsOf(cli).wheel.size]).toEqual([0, 0]);
    expect((await py.nextHex()).includes(first)).toBe(true); // the cancel, which a reference ignores
    py.sendBinary(`84 04 ${first} 00 63 6f 6e 65`);
    const timedOut = firstValueFrom(cli.call$('m', [], { timeout: 100 })).catch((err: unknown) => err);
    const second = idOf(await py.nextHex());
    expect(await timedOut).toBeInstanceOf(RpcTimeoutError);
    py.sendBinary(`84 04 ${second} 00 63 74 77 6f`);
    expect(await cli.rpc('rid')).toBeTypeOf('string'); // both late answers have been through by now
    expect(seen).toEqual([]);
    expect([requestsOf(cli).pending.size, requestsOf(cli).wheel.size, b.stats().pendingRpcs]).toEqual([0, 0, 0]);
  });

  it('leaves no pending entry, wheel entry or timer after 10,000 calls of every kind', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('add', (x: number, y: number) => x + y);
    srv.expose('fail', () => { throw new Error('no'); });
    await roundTrip(srv);
    const options = { timeout: 300 };
    for (let batch = 0; batch < 100; batch++) {
      const calls: Promise<unknown>[] = [];
      for (let k = 0; k < 100; k++) {
        const i = batch * 100 + k;
        switch (i % 4) {
          case 0: calls.push(firstValueFrom(cli.call$('add', [i, 1], options)).then((r) => expect(r).toBe(i + 1))); break;
          case 1: calls.push(cli.call('add', [i, 1], options).then((r) => expect(r).toBe(i + 1))); break;
          case 2: calls.push(lastValueFrom(cli.call$('fail', [], options)).then(() => { throw new Error('no error'); }, () => undefined)); break;
          default: {
            // Withdrawn at once: the answer, if any, comes after the call was withdrawn.
            const sub = cli.call$('add', [i, 1], options).subscribe();
            sub.unsubscribe();
          }
        }
      }
      await Promise.all(calls);
    }
    const requests = requestsOf(cli);
    expect([requests.pending.size, requests.wheel.size]).toEqual([0, 0]);
    // The one timer was armed for a deadline that has left: it fires, finds nothing and stops.
    await waitFor(() => !requests.wheel.armed, { what: 'the wheel to disarm' });
    await waitFor(() => b.stats().pendingRpcs === 0 && runningOf(srv) === 0, { what: 'the broker and exposer to forget' });
  });
});
