/**
 * First contact (issue 13 item 11): a first connection fails fast with a typed error naming the
 * cause, or when its AbortSignal aborts; a bad scheme is refused at once; a taken name is its
 * own error; drops reconnect with jittered backoff; a failover list moves on to the next URL
 * and back to the first once it answers again.
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import {
  component, connect, ConnectionError, InvalidTopicError, NameTakenError, UnsupportedSchemeError,
  type Status,
} from '../../src/index.js';
import { collect, relay, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** A loopback port with nothing listening (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then((v) => { throw new Error(`expected a rejection, got ${String(v)}`); }, (err: unknown) => err);
}

describe('connect, first contact', () => {
  it('rejects with ConnectionError naming the cause after connectTimeout when nothing listens', async () => {
    const port = await deadPort();
    const started = performance.now();
    const err = await rejection(connect(`ws://127.0.0.1:${port}/x`, { connectTimeout: 400 }));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('CONNECTION');
    expect((err as Error).message).toContain(`ws://127.0.0.1:${port}/x within 400 ms`);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('succeeds when the broker comes up within connectTimeout', async () => {
    const port = await deadPort();
    const pending = connect(`ws://127.0.0.1:${port}/late`, { connectTimeout: 10_000, reconnect: { initialDelay: 50, maxDelay: 100 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await scope.broker({ port });
    const node = scope.track(await pending);
    expect(await node.rpc('rid')).toBe('broker');
  });

  it('rejects with the signal reason when aborted, and at once when already aborted', async () => {
    const port = await deadPort();
    const ac = new AbortController();
    const pending = connect(`ws://127.0.0.1:${port}/x`, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 100);
    expect(((await rejection(pending)) as Error).message).toBe('user gave up');
    const before = AbortSignal.abort(new Error('too late'));
    expect(((await rejection(connect(`ws://127.0.0.1:${port}/x`, { signal: before }))) as Error).message).toBe('too late');
  });

  it('refuses an unsupported scheme at once, alone or in a failover list', async () => {
    // tcp:// and tls:// are Rembus transports (spec §1.4, test/integration/tcp-transport.test.ts).
    const err = await rejection(connect('ftp://127.0.0.1:8338/x'));
    expect(err).toBeInstanceOf(UnsupportedSchemeError);
    expect((err as UnsupportedSchemeError).code).toBe('UNSUPPORTED_SCHEME');
    expect((err as UnsupportedSchemeError).scheme).toBe('ftp');
    expect(() => component('http://127.0.0.1:8338/x')).toThrow(UnsupportedSchemeError);
    expect(await rejection(connect(['ws://127.0.0.1:1/x', 'zmq://127.0.0.1:2']))).toBeInstanceOf(UnsupportedSchemeError);
    expect(await rejection(connect([]))).toBeInstanceOf(InvalidTopicError);
  });

  it('refuses a name already connected with NameTakenError, without retrying', async () => {
    const b = await scope.broker();
    await scope.connect(b, 'twin');
    const started = performance.now();
    const err = await rejection(connect(`${b.url!}/twin`, { connectTimeout: 5_000 }));
    expect(err).toBeInstanceOf(NameTakenError);
    expect((err as NameTakenError).componentName).toBe('twin');
    expect(performance.now() - started).toBeLessThan(4_000);
  });
});

describe('reconnect with jitter', () => {
  it('spreads the reconnects of many components dropped together', async () => {
    const b = await scope.broker();
    const r = await relay(b.port!);
    scope.track(r);
    const delays: number[] = [];
    const nodes = await Promise.all(Array.from({ length: 40 }, (_v, i) =>
      connect(`${r.url}/j${i}`, { reconnect: { initialDelay: 400, maxDelay: 400, jitter: 0.5 } })));
    for (const node of nodes) {
      scope.track(node);
      node.status$.pipe(filter((s): s is Extract<Status, { type: 'reconnecting' }> => s.type === 'reconnecting'))
        .subscribe((s) => { if (s.attempt === 1) delays.push(s.delayMs); });
    }
    r.cut();
    await waitFor(() => delays.length === nodes.length, { timeout: 5_000, interval: 10, what: 'first reconnect of each' });
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
    // 40 uniform draws over 200 ms: all in one 50 ms band has probability far below 1e-20.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(50);
    for (const node of nodes) await firstValueFrom(node.status$.pipe(filter((s) => s.type === 'up')));
    expect(await nodes[0]!.rpc('rid')).toBe('broker');
  });
});

describe('failover list', () => {
  it('moves on to the next URL when the first is down, and back to the first once it answers', async () => {
    const primaryPort = await deadPort();
    const backup = await scope.broker();
    const primaryUrl = `ws://127.0.0.1:${primaryPort}`;
    const node = scope.track(await connect([`${primaryUrl}/fo`, backup.url!], {
      connectTimeout: 5_000, reconnect: { initialDelay: 50, maxDelay: 100, failback: 100 },
    }));
    const ups: string[] = [];
    node.status$.subscribe((s) => { if (s.type === 'up') ups.push(s.url); });
    expect(ups).toEqual([backup.url]);
    node.expose('where', () => 'fo');
    const got = collect(node.subscribe$('fo/**'), 1);
    await node.rpc('rid');

    const primary = await scope.broker({ port: primaryPort });
    await waitFor(() => ups.at(-1) === primaryUrl, { timeout: 5_000, interval: 10, what: 'the switch back to the first URL' });
    // Declarations followed it: a peer of the first broker calls and publishes to it.
    const peer = await scope.connect(primary, 'peer');
    await waitFor(async () => (await peer.rpc('where').catch(() => undefined)) === 'fo',
      { timeout: 3_000, interval: 20, what: 'the method re-exposed on the first broker' });
    peer.publish('fo/a', 1);
    expect((await got.done)[0]!.topic).toBe('fo/a');
  });

  it('moves on after a drop when the first broker dies, starting again at the first', async () => {
    const [a, bb] = [await scope.broker(), await scope.broker()];
    const node = scope.track(await connect([`${a.url!}/fo2`, bb.url!], { reconnect: { initialDelay: 50, maxDelay: 100 } }));
    const ups: string[] = [];
    node.status$.subscribe((s) => { if (s.type === 'up') ups.push(s.url); });
    await a.close();
    await waitFor(() => ups.at(-1) === bb.url, { timeout: 5_000, interval: 10, what: 'failover to the second URL' });
    expect(await node.rpc('rid')).toBe('broker');
  });
});
