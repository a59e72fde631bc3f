/**
 * A streaming call across brokers is cancelled on the serving broker (README "Cluster"): by the
 * caller's unsubscribe (before or after the first item), by the caller's disconnect, and by the
 * calling broker dying (kill -9), so an infinite stream served on broker B for a caller on A
 * does not run on for ever.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { connect, type Component } from '../../src/index.js';
import { roundTrip, useScope, waitFor } from '../integration/helpers.js';
import { kill } from '../integration/broker-process.js';
import { startClusterBroker } from './brokers.js';
import { startNats, type NatsCluster } from './nats.js';

const scope = useScope();
let nats: NatsCluster;
let n = 0;

beforeAll(async () => { nats = await startNats(1); }, 30_000);
afterAll(async () => { await nats?.close(); });

/** An infinite stream that counts its subscribers and teardowns. */
function endless(): { source: () => Observable<number>; subscribed: number; torn: number } {
  const state = {
    subscribed: 0,
    torn: 0,
    source: () => new Observable<number>((sub) => {
      state.subscribed++;
      let i = 0;
      const timer = setInterval(() => sub.next(i++), 20);
      return () => {
        clearInterval(timer);
        state.torn++;
      };
    }),
  };
  return state;
}

/** Call until the other broker's exposer is known. */
async function whenKnown(c: Component, method: string): Promise<void> {
  await waitFor(async () => (await c.rpc(method).catch(() => undefined)) !== undefined,
    { timeout: 8_000, interval: 50, what: `${method} callable across brokers` });
}

async function serverOn(b: Broker, stream: ReturnType<typeof endless>): Promise<Component> {
  const server = await scope.connect(b, 'server');
  server.expose('forever', stream.source);
  server.expose('plain', () => 'single');
  await roundTrip(server);
  return server;
}

/** Brokers a and b in one new cluster, b with an exposer of the endless stream. */
async function servedAcross(): Promise<{ a: Broker; stream: ReturnType<typeof endless> }> {
  const cluster = { servers: nats.urls, name: `s${process.pid}_${++n}`, advertiseInterval: 200 };
  const a = await scope.broker({ name: 'a', cluster });
  const b = await scope.broker({ name: 'b', cluster });
  const stream = endless();
  await serverOn(b, stream);
  return { a, stream };
}

describe('stream cancel across brokers', () => {
  it('stops the serving broker\'s stream when the caller unsubscribes, after items or before the first', async () => {
    const { a, stream } = await servedAcross();
    const caller = await scope.connect(a, 'caller');
    await whenKnown(caller, 'plain');

    const items: number[] = [];
    const sub = caller.rpc$<number>('forever').subscribe((v) => items.push(v));
    await waitFor(() => items.length >= 3, { what: 'items across brokers' });
    sub.unsubscribe();
    await waitFor(() => stream.torn === 1, { timeout: 5_000, what: 'the source on broker b to be torn down' });
    const after = items.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(items.length).toBe(after);

    // Unsubscribed in the same turn (the component sends the call, then its cancel): the cancel
    // reaches broker a before b answered `start`, and is held until then.
    caller.rpc$<number>('forever').subscribe().unsubscribe();
    await waitFor(() => stream.subscribed === 2 && stream.torn === 2, { timeout: 5_000,
      what: 'an at-once cancel to stop the second stream' });
  }, 30_000);

  it('stops the stream when the calling component disconnects', async () => {
    const { a, stream } = await servedAcross();
    const caller = await connect(`${a.url!}/caller`, { reconnect: { maxRetries: 0 } });
    try {
      await whenKnown(caller, 'plain');
      caller.rpc$<number>('forever').subscribe({ error: () => undefined });
      await waitFor(() => stream.subscribed === 1, { what: 'the stream to start on b' });
    } finally {
      await caller.close();
    }
    await waitFor(() => stream.torn === 1, { timeout: 5_000, what: 'the source on broker b to be torn down' });
  }, 30_000);

  it('stops the stream when the calling broker is killed with -9 (after three of its advertise intervals)', async () => {
    const name = `s${process.pid}_${++n}`;
    const b = await scope.broker({ name: 'b', cluster: { servers: nats.urls, name, advertiseInterval: 200 } });
    const stream = endless();
    await serverOn(b, stream);
    const dir = await mkdtemp(join(tmpdir(), 'rembus-stream-cancel-'));
    const a = await startClusterBroker(dir, nats.urls, ['--cluster-name', name]);
    try {
      const caller = scope.track(await connect(`${a.url}/caller`, { reconnect: { maxRetries: 0 } }));
      await whenKnown(caller, 'plain');
      let items = 0;
      caller.rpc$<number>('forever').subscribe({ next: () => items++, error: () => undefined });
      await waitFor(() => items >= 2, { what: 'items across brokers' });
      await kill(a.proc); // SIGKILL: no cancel is ever sent
      // The default advertise interval is 1 s: b drops a after 3 s, then stops its streams.
      await waitFor(() => stream.torn === 1, { timeout: 10_000, what: 'the source on broker b to be torn down' });
      expect(stream.subscribed).toBe(1);
    } finally {
      await kill(a.proc);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
