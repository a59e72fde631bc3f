/**
 * RPC between components over a real broker (spec §5): handler kinds, remote failures and their
 * status codes, direct RPC, broker built-ins, routing policy, id multiplexing, cold calls,
 * cancellation, timeouts and unexpose.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY, NEVER, of, throwError, timer, map } from 'rxjs';
import {
  MethodNotFoundError, RpcError, RpcTimeoutError, type Component,
} from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** The error a Promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const value = await p;
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (err) {
    return err;
  }
}

/**
 * Wait until the broker has noticed that `name` dropped: a direct call to it is answered with
 * TARGET_DOWN (46) rather than forwarded (the protocol announces a disconnect to nobody).
 */
async function brokerSawDown(probe: Component, name: string): Promise<void> {
  await waitFor(async () => {
    const err = await rejection(probe.call('probe', [], { target: name, timeout: 2_000 }));
    return err instanceof RpcError && err.remoteCode === 46;
  }, { what: `the broker to see '${name}' down` });
}

describe('rpc', () => {
  it('returns the value of a plain, a Promise and an Observable handler', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('add', (a: number, c: number) => a + c);
    srv.expose('later', async (s: string) => `${s}!`);
    srv.expose('stream', () => of('first', 'second'));
    srv.expose('delayed', () => timer(20).pipe(map(() => 'late')));
    srv.expose('nothing', () => undefined);
    srv.expose('echo', (...args: unknown[]) => args);
    await roundTrip(srv);
    expect(await cli.rpc('add', 1, 2)).toBe(3);
    expect(await cli.rpc('later', 'hi')).toBe('hi!');
    expect(await cli.rpc('stream')).toBe('second'); // one answer: an Observable's last value
    expect(await cli.rpc('delayed')).toBe('late');
    expect(await cli.rpc('nothing')).toBeNull();
    expect(await cli.rpc('echo', 'x', 2n ** 63n, { k: [null] })).toEqual(['x', 2n ** 63n, { k: [null] }]);
  });

  it('emits one value and completes on rpc$', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('one', () => 1);
    await roundTrip(srv);
    const got = collect(cli.rpc$('one'), 1);
    expect(await got.done).toEqual([1]);
    await waitFor(() => got.completed, { what: 'rpc$ to complete' });
    expect(got.values).toEqual([1]);
  });

  it('fails with RpcError 40 carrying the message when the handler throws or rejects', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('fail', () => { throw new Error('boom: bad input'); });
    srv.expose('reject', () => Promise.reject(new TypeError('async boom')));
    await roundTrip(srv);
    const err = await rejection(cli.rpc('fail', 1));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'RPC', method: 'fail', remoteCode: 40, details: 'boom: bad input' });
    expect((err as Error).message).toContain('boom: bad input');
    expect(await rejection(cli.rpc('reject'))).toMatchObject({ remoteCode: 40, details: 'async boom' });
    // The exposer keeps serving.
    srv.expose('ok', () => 'ok');
    await roundTrip(srv);
    expect(await cli.rpc('ok')).toBe('ok');
  });

  it('fails with MethodNotFoundError when nobody exposes the method', async () => {
    const b = await scope.broker();
    const cli = await scope.connect(b, 'cli');
    const err = await rejection(cli.rpc('nope', 1));
    expect(err).toBeInstanceOf(MethodNotFoundError);
    expect(err).toMatchObject({ code: 'METHOD_NOT_FOUND', method: 'nope' });
  });

  it('fails with RpcError 43 when the only exposer is gone', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('svc', () => 1);
    await roundTrip(srv);
    expect(await cli.rpc('svc')).toBe(1);
    await srv.close();
    await brokerSawDown(cli, 'srv');
    const err = await rejection(cli.rpc('svc'));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 43, details: 'svc' });
  });

  it('fails with RpcError 43 when the exposer drops while the call is in flight', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let calls = 0;
    srv.expose('hang', () => { calls++; return NEVER; });
    await roundTrip(srv);
    const pending = rejection(cli.rpc('hang'));
    await waitFor(() => calls === 1, { what: 'the handler to run' });
    await srv.close();
    expect(await pending).toMatchObject({ remoteCode: 43, details: 'hang' });
  });

  it('fails with RpcError 44 when the caller is the only exposer', async () => {
    const b = await scope.broker();
    const cli = await scope.connect(b, 'cli');
    cli.expose('self', () => 1);
    await roundTrip(cli);
    const err = await rejection(cli.rpc('self'));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 44, details: 'self' });
  });

  it('runs a targeted call on the named component only', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    s1.expose('who', () => 's1');
    s2.expose('who', () => 's2');
    await roundTrip(s1, s2);
    for (let i = 0; i < 3; i++) {
      expect(await cli.call('who', [], { target: 's2' })).toBe('s2');
    }
    expect(await new Promise((resolve, reject) => {
      cli.call$('who', [], { target: 's1' }).subscribe({ next: resolve, error: reject });
    })).toBe('s1');
  });

  it('fails with RpcError 45 for a target never seen', async () => {
    const b = await scope.broker();
    const cli = await scope.connect(b, 'cli');
    const err = await rejection(cli.call('who', [], { target: 'nobody' }));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 45, details: 'nobody' });
  });

  it('fails with RpcError 46 for a known target that is disconnected', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('who', () => 'srv');
    await roundTrip(srv);
    expect(await cli.call('who', [], { target: 'srv' })).toBe('srv');
    await srv.close();
    await brokerSawDown(cli, 'srv');
    const err = await rejection(cli.call('who', [], { target: 'srv' }));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 46, details: 'srv' });
  });

  it("runs the broker built-ins when the target is 'broker'", async () => {
    const b = await scope.broker();
    const cli = await scope.connect(b, 'cli');
    expect(await cli.call('rid', [], { target: 'broker' })).toBe('broker');
    expect(await cli.call('version', [], { target: 'broker' })).toMatch(/^typescript_\d+\.\d+\.\d+$/);
    expect(await cli.call('uptime', [], { target: 'broker' })).toMatch(/^up for \d+ seconds$/);
    expect(await cli.rpc('rid')).toBe('broker');
    const err = await rejection(cli.call('nope', [], { target: 'broker' }));
    expect(err).toBeInstanceOf(MethodNotFoundError);
  });

  it('runs a broker-local exposed method, broker-routed or targeted', async () => {
    const b = await scope.broker();
    const cli = await scope.connect(b, 'cli');
    const unexpose = b.expose('mul', (a: number, c: number) => a * c);
    expect(await cli.rpc('mul', 6, 7)).toBe(42);
    expect(await cli.call('mul', [3, 5], { target: 'broker' })).toBe(15);
    b.expose('bfail', () => { throw new Error('broker boom'); });
    expect(await rejection(cli.rpc('bfail'))).toMatchObject({ remoteCode: 40, details: 'broker boom' });
    unexpose();
    expect(await rejection(cli.rpc('mul', 1, 1))).toBeInstanceOf(MethodNotFoundError);
  });

  it('alternates between two exposers (round robin)', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    s1.expose('who', () => 's1');
    s2.expose('who', () => 's2');
    await roundTrip(s1, s2);
    const order: unknown[] = [];
    for (let i = 0; i < 6; i++) order.push(await cli.rpc('who'));
    expect(new Set(order)).toEqual(new Set(['s1', 's2']));
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
  });

  it('skips a closed exposer in the rotation, and fails once every exposer unexposed', async () => {
    const b = await scope.broker();
    const [s1, s2, s3, cli] = await scope.connectAll(b, 's1', 's2', 's3', 'cli');
    const un1 = s1.expose('who', () => 's1');
    s2.expose('who', () => 's2');
    const un3 = s3.expose('who', () => 's3');
    await roundTrip(s1, s2, s3);
    await s2.close();
    await brokerSawDown(cli, 's2');
    const order: unknown[] = [];
    for (let i = 0; i < 4; i++) order.push(await cli.rpc('who'));
    expect(new Set(order)).toEqual(new Set(['s1', 's3']));
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
    un1();
    un3();
    await roundTrip(s1, s3);
    // s2 still exposes it, offline: the broker keeps a named component's exposures (spec §3.6).
    expect(await rejection(cli.rpc('who'))).toMatchObject({ remoteCode: 43 });
  });

  it('answers 40 for an Observable handler that errors, null for one that completes empty', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('oerr', () => throwError(() => new Error('stream boom')));
    srv.expose('oempty', () => EMPTY);
    await roundTrip(srv);
    expect(await rejection(cli.rpc('oerr'))).toMatchObject({ remoteCode: 40, details: 'stream boom' });
    expect(await cli.rpc('oempty')).toBeNull();
  });

  it('answers 40 instead of timing out when the result cannot be encoded', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('sym', () => Symbol('x'));
    await roundTrip(srv);
    const err = await rejection(cli.call('sym', [], { timeout: 2_000 }));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 40 });
    expect(String((err as RpcError).details)).toMatch(/encode/);
  });

  it('carries a 5 MiB byte string argument', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('sum', (x: Uint8Array) => x.reduce((a, v) => a + v, 0));
    await roundTrip(srv);
    const big = new Uint8Array(5 * 1024 * 1024).fill(1);
    expect(await cli.rpc('sum', big)).toBe(big.length);
  });

  it('matches 50 concurrent calls from one component to their replies by id', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const finished: number[] = [];
    // Answer in reverse order of arrival so that replies cannot match calls by position.
    const gates: (() => void)[] = [];
    srv.expose('square', (n: number) => new Promise((resolve) => {
      gates.push(() => { finished.push(n); resolve({ n, sq: n * n }); });
      if (gates.length === 50) while (gates.length > 0) gates.pop()!();
    }));
    await roundTrip(srv);
    const inputs = Array.from({ length: 50 }, (_, i) => i + 1);
    const results = await Promise.all(inputs.map((n) => cli.rpc('square', n)));
    expect(results).toEqual(inputs.map((n) => ({ n, sq: n * n })));
    expect(finished).toEqual([...inputs].reverse());
  });

  it('sends nothing until rpc$ is subscribed, and one call per subscription', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let count = 0;
    srv.expose('count', () => ++count);
    await roundTrip(srv);
    const call$ = cli.rpc$<number>('count');
    await roundTrip(cli, srv); // a request sent at creation would have reached srv by now
    expect(count).toBe(0);
    expect(await collect(call$, 1).done).toEqual([1]);
    expect(await collect(call$, 1).done).toEqual([2]);
    expect(count).toBe(2);
  });

  it('drops a reply that arrives after the caller unsubscribed', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let release!: () => void;
    let calls = 0;
    srv.expose('slow', () => { calls++; return new Promise((resolve) => { release = () => resolve('late'); }); });
    await roundTrip(srv);
    const events: string[] = [];
    const subscription = cli.rpc$('slow').subscribe({
      next: (v) => events.push(`next ${String(v)}`),
      error: (e: unknown) => events.push(`error ${String(e)}`),
      complete: () => events.push('complete'),
    });
    await waitFor(() => calls === 1, { what: 'the handler to run' });
    subscription.unsubscribe();
    release();
    await new Promise((resolve) => setImmediate(resolve)); // the handler's reply has been sent
    await roundTrip(srv, cli); // … relayed by the broker, and received by the caller
    expect(events).toEqual([]);
    expect((cli as unknown as { requests: { pending: Map<bigint, unknown> } }).requests.pending.size).toBe(0);
    srv.expose('fast', () => 'ok');
    await roundTrip(srv);
    expect(await cli.rpc('fast')).toBe('ok');
  });

  it('fails with RpcTimeoutError when the handler never answers', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('never', () => NEVER);
    await roundTrip(srv);
    const started = performance.now();
    const err = await rejection(new Promise((resolve, reject) => {
      cli.call$('never', [], { timeout: 300 }).subscribe({ next: resolve, error: reject });
    }));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(RpcTimeoutError);
    expect(err).toMatchObject({ code: 'RPC_TIMEOUT', method: 'never', timeoutMs: 300 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
    expect((cli as unknown as { requests: { pending: Map<bigint, unknown> } }).requests.pending.size).toBe(0);
  });

  it('unexposes on the teardown returned by expose', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const unexpose = srv.expose('tmp', () => 'here');
    await roundTrip(srv);
    expect(await cli.rpc('tmp')).toBe('here');
    unexpose();
    await roundTrip(srv); // the unexpose has reached the broker
    expect(await rejection(cli.rpc('tmp'))).toBeInstanceOf(MethodNotFoundError);
    unexpose(); // idempotent
    await roundTrip(srv);
    expect(await rejection(cli.rpc('tmp'))).toBeInstanceOf(MethodNotFoundError);
  });
});
