/**
 * Streaming RPC between components over a real broker (README "Streaming RPC on the wire"):
 * values arrive as they are produced, the stream completes with the handler's Observable, a
 * handler error is an RpcError, and unsubscribing, a caller's disconnect or an exposer's
 * disconnect release the serving handler.
 */
import { describe, expect, it } from 'vitest';
import { concat, finalize, interval, map, NEVER, of, take, throwError, timer } from 'rxjs';
import { connect, RpcError, type Component, type RpcContext } from '../../src/index.js';
import { collect, relay, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** What a serving component exposes for these tests, with what the tests check on it. */
interface Probe { finalized: number; signals: AbortSignal[] }

/** Expose `ticks`: `n` values 20 ms apart (forever without `n`), counting teardowns and signals. */
function exposeTicks(srv: Component): Probe {
  const probe: Probe = { finalized: 0, signals: [] };
  srv.expose('ticks', (n: number | null, ctx: RpcContext) => {
    probe.signals.push(ctx.signal);
    const ticks$ = interval(20).pipe(finalize(() => probe.finalized++));
    return n === null ? ticks$ : ticks$.pipe(take(n));
  }, { context: true });
  return probe;
}

/** Calls a component serves right now (its handler table). */
function serving(c: Component): number {
  return (c as unknown as { serving: { running: Map<bigint, unknown> } }).serving.running.size;
}

/** Requests a component waits on right now. */
function pending(c: Component): number {
  return (c as unknown as { requests: { pending: Map<bigint, unknown> } }).requests.pending.size;
}

describe('streaming rpc$', () => {
  it('emits each value as it is produced and completes with the handler', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('count', (n: number) => interval(60).pipe(take(n)));
    await roundTrip(srv);
    const arrivals: number[] = [];
    const got = collect(cli.rpc$<number>('count', 5).pipe(map((v) => { arrivals.push(performance.now()); return v; })), 5);
    expect(await got.done).toEqual([0, 1, 2, 3, 4]);
    await waitFor(() => got.completed, { what: 'the stream to complete' });
    // Produced 60 ms apart and delivered as produced, not batched at the end.
    expect(arrivals[4]! - arrivals[0]!).toBeGreaterThanOrEqual(180);
    expect(b.stats().pendingRpcs).toBe(0);
    expect(pending(cli)).toBe(0);
  });

  it('fails with RpcError 40 when the handler errors mid-stream, after the values before it', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('flaky', () => concat(of(1, 2), throwError(() => new Error('sensor lost'))));
    await roundTrip(srv);
    const got = collect(cli.rpc$('flaky'), 3);
    await expect(got.done).rejects.toThrow(/errored after 2/);
    expect(got.values).toEqual([1, 2]);
    expect(got.error).toBeInstanceOf(RpcError);
    expect(got.error).toMatchObject({ remoteCode: 40, details: 'sensor lost' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('answers one value for a value or Promise handler, and nothing but completion for an empty one', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('one', async () => 'single');
    srv.expose('none', () => of());
    await roundTrip(srv);
    const one = collect(cli.rpc$('one'), 1);
    expect(await one.done).toEqual(['single']);
    await waitFor(() => one.completed, { what: 'completion' });
    const none = collect(cli.rpc$('none'), 0);
    await waitFor(() => none.completed, { what: 'completion' });
    expect(none.values).toEqual([]);
    expect(await cli.rpc('none')).toBeNull();
  });

  it('gives the Promise helper the last value, without asking for a stream', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const probe = exposeTicks(srv);
    await roundTrip(srv);
    expect(await cli.rpc('ticks', 4)).toBe(3);
    expect(probe.signals[0]!.aborted).toBe(false);
  });

  it('cancels on unsubscribe: the serving side unsubscribes the handler and aborts its signal', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const probe = exposeTicks(srv);
    await roundTrip(srv);
    const got = collect(cli.rpc$<number>('ticks', null).pipe(take(3)), 3);
    expect(await got.done).toEqual([0, 1, 2]);
    await waitFor(() => probe.finalized === 1, { what: 'the handler to be unsubscribed' });
    expect(probe.signals[0]!.aborted).toBe(true);
    expect(serving(srv)).toBe(0);
    await roundTrip(cli, srv);
    expect(b.stats().pendingRpcs).toBe(0);
    expect(pending(cli)).toBe(0);
  });

  it('aborts the signal of a Promise handler whose caller timed out', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let signal: AbortSignal | undefined;
    srv.expose('slow', (ctx: RpcContext) => {
      signal = ctx.signal;
      return new Promise(() => undefined);
    }, { context: true });
    await roundTrip(srv);
    await expect(cli.call('slow', [], { timeout: 100 })).rejects.toMatchObject({ code: 'RPC_TIMEOUT' });
    await waitFor(() => signal?.aborted === true, { what: 'the handler signal to abort' });
    expect(serving(srv)).toBe(0);
  });

  it('withdraws a call aborted by its signal: call() rejects with the reason, the handler is released', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const probe = exposeTicks(srv);
    await roundTrip(srv);
    const controller = new AbortController();
    const result = cli.call('ticks', [null], { signal: controller.signal });
    await waitFor(() => probe.signals.length === 1, { what: 'the handler to run' });
    const reason = new Error('user gave up');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    await waitFor(() => probe.finalized === 1, { what: 'the handler to be released' });
    expect(probe.signals[0]!.aborted).toBe(true);
  });

  it('releases the handler when the caller disconnects mid-stream', async () => {
    const b = await scope.broker();
    const srv = await scope.connect(b, 'srv');
    const probe = exposeTicks(srv);
    await roundTrip(srv);
    const cli = await connect(`${b.url!}/cli`);
    const got = collect(cli.rpc$('ticks', null), 2);
    await got.done;
    await cli.close();
    await waitFor(() => probe.finalized === 1, { what: 'the handler to be released' });
    expect(probe.signals[0]!.aborted).toBe(true);
    expect(serving(srv)).toBe(0);
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('fails the caller with RpcError 43 and releases the handler when the exposer drops mid-stream', async () => {
    const b = await scope.broker();
    const cut = scope.track(await relay(b.port!));
    const srv = scope.track(await connect(`${cut.url}/srv`, { reconnect: { initialDelay: 60_000 } }));
    const probe = exposeTicks(srv);
    await roundTrip(srv);
    const cli = await scope.connect(b, 'cli');
    const got = collect(cli.rpc$('ticks', null), 100);
    await waitFor(() => got.values.length >= 2, { what: 'the first values' });
    cut.cut();
    await expect(got.done).rejects.toThrow(/errored/);
    expect(got.error).toBeInstanceOf(RpcError);
    expect(got.error).toMatchObject({ method: 'ticks', remoteCode: 43 });
    await waitFor(() => probe.finalized === 1, { what: 'the exposer to release its handler' });
    expect(probe.signals[0]!.aborted).toBe(true);
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('keeps a slow stream alive past the broker request timeout', async () => {
    const b = await scope.broker({ requestTimeout: 200 });
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('slow', () => concat(of('now'), timer(700).pipe(map(() => 'later'))));
    await roundTrip(srv);
    const got = collect(cli.call$('slow', [], { timeout: 2_000 }), 2);
    expect(await got.done).toEqual(['now', 'later']);
  });

  it('streams a direct (targeted) call and interleaves concurrent streams by id', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    for (const s of [s1, s2]) s.expose('tag', (n: number) => interval(10).pipe(take(n), map((i) => `${s.name!}:${i}`)));
    await roundTrip(s1, s2);
    const a = collect(cli.call$<string>('tag', [3], { target: 's1' }), 3);
    const c = collect(cli.call$<string>('tag', [4], { target: 's2' }), 4);
    expect(await a.done).toEqual(['s1:0', 's1:1', 's1:2']);
    expect(await c.done).toEqual(['s2:0', 's2:1', 's2:2', 's2:3']);
  });

  it('never sends a request for an unsubscribed-before-use call and leaves no entry', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let calls = 0;
    srv.expose('n', () => { calls++; return NEVER; });
    await roundTrip(srv);
    const call$ = cli.rpc$('n');
    await roundTrip(cli, srv);
    expect(calls).toBe(0);
    const sub = call$.subscribe();
    await waitFor(() => calls === 1, { what: 'the call' });
    sub.unsubscribe();
    await waitFor(() => serving(srv) === 0, { what: 'the handler to be released' });
    expect(pending(cli)).toBe(0);
  });
});
