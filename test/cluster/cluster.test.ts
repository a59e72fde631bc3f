/**
 * Brokers of one cluster (issue 19 item 1), in process, over a real nats-server with JetStream:
 * pub/sub (exact, wildcard, catch-all) and RPC (round robin, targeted) cross brokers, with no
 * echo and each publisher's order kept; QoS1/2 publishes are acked once JetStream has them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, firstValueFrom, interval, NEVER, of, take, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, BrokerOptions } from '../../src/broker/index.js';
import { connect, type Component, type Message } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from '../integration/helpers.js';
import { kill } from '../integration/broker-process.js';
import { startClusterBroker } from './brokers.js';
import { startNats, type NatsCluster } from './nats.js';

const scope = useScope();
let nats: NatsCluster;
let n = 0;

beforeAll(async () => { nats = await startNats(1); }, 30_000);
afterAll(async () => { await nats?.close(); });

/** Two brokers of a fresh cluster (own name: tests do not see each other's traffic). */
async function pair(extra: BrokerOptions = {}, advertiseInterval = 200): Promise<[Broker, Broker]> {
  const cluster = { servers: nats.urls, name: `t${process.pid}_${++n}`, advertiseInterval };
  return [await scope.broker({ ...extra, name: 'a', cluster }), await scope.broker({ ...extra, name: 'b', cluster })];
}

const quiet = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Call until the other broker's exposer is known (adverts every 200 ms here). */
async function callWhenKnown<R>(c: Component, method: string, ...args: unknown[]): Promise<R> {
  let result: R | undefined;
  await waitFor(async () => {
    try {
      result = await c.rpc<R>(method, ...args);
      return true;
    } catch {
      return false;
    }
  }, { timeout: 8_000, interval: 50, what: `${method} callable across brokers` });
  return result!;
}

describe('cluster pub/sub', () => {
  it('delivers exact, wildcard and catch-all across brokers, once each, never back to the publisher', async () => {
    const [a, b] = await pair();
    const [pub, localSub] = await scope.connectAll(a, 'pub', 'local');
    const [exact, wild, all] = await scope.connectAll(b, 'exact', 'wild', 'all');
    const own = collect(pub.subscribe$('plant/1/t'), 1, { timeout: 1 });
    const gotLocal = collect(localSub.subscribe$('plant/1/t'), 3);
    const gotExact = collect(exact.subscribe$('plant/1/t'), 3);
    const gotWild = collect(wild.subscribe$('plant/*/t'), 3);
    const gotAll = collect(all.subscribe$('*'), 3);
    await roundTrip(pub, localSub, exact, wild, all);
    for (const v of [1, 2, 3]) pub.publish('plant/1/t', v, { at: 'x.y' });
    const args = (ms: Message[]): unknown[] => ms.map((m) => m.args[0]);
    expect(args(await gotExact.done)).toEqual([1, 2, 3]);
    expect(args(await gotLocal.done)).toEqual([1, 2, 3]);
    expect((await gotWild.done).map((m) => m.topic)).toEqual(['plant/1/t', 'plant/1/t', 'plant/1/t']);
    expect(args(await gotAll.done)).toEqual([1, 2, 3]);
    await quiet();
    await roundTrip(exact, localSub);
    expect(gotExact.values).toHaveLength(3);
    expect(gotLocal.values).toHaveLength(3);
    expect(own.values).toHaveLength(0);
  }, 20_000);

  it('carries topics NATS subjects cannot (dots, spaces, > and %) and keeps one publisher\'s order', async () => {
    const [a, b] = await pair();
    const pub = await scope.connect(a, 'pub');
    const sub = await scope.connect(b, 'sub');
    const odd = 'odd.topic/with space/>/%41';
    const gotOdd = collect(sub.subscribe$(odd), 1);
    const N = 500;
    const gotSeq = collect(sub.subscribe$('seq'), N, { timeout: 15_000 });
    await roundTrip(sub);
    pub.publish(odd, 'x');
    for (let i = 0; i < N; i++) pub.publish('seq', i);
    expect((await gotOdd.done)[0]!.topic).toBe(odd);
    expect((await gotSeq.done).map((m) => m.args[0])).toEqual(Array.from({ length: N }, (_, i) => i));
  }, 30_000);

  it('acks a QoS1 and a QoS2 publish once JetStream stored it and delivers it once everywhere', async () => {
    const [a, b] = await pair();
    const [pub, localSub] = await scope.connectAll(a, 'pub', 'local');
    const remote = await scope.connect(b, 'remote');
    const own = collect(pub.subscribe$('q'), 1, { timeout: 1 });
    const gotLocal = collect(localSub.subscribe$('q'), 2);
    const gotRemote = collect(remote.subscribe$('q'), 2);
    await roundTrip(pub, localSub, remote);
    await pub.publishAsync('q', [1], { qos: 1 });
    await pub.publishAsync('q', [2], { qos: 2 });
    expect((await gotRemote.done).map((m) => [m.args[0], m.qos])).toEqual([[1, 1], [2, 2]]);
    expect((await gotLocal.done).map((m) => m.args[0])).toEqual([1, 2]);
    await quiet();
    expect(gotRemote.values).toHaveLength(2);
    expect(gotLocal.values).toHaveLength(2);
    expect(own.values).toHaveLength(0);
  }, 20_000);
});

describe('cluster RPC', () => {
  it('calls a method exposed only on the other broker, and a named target there', async () => {
    const [a, b] = await pair();
    const caller = await scope.connect(a, 'caller');
    const server = await scope.connect(b, 'server');
    server.expose('add', (x: number, y: number) => x + y);
    server.expose('boom', () => { throw new Error('kaput'); });
    expect(await callWhenKnown<number>(caller, 'add', 2, 3)).toBe(5);
    expect(await caller.call('add', [4, 5], { target: 'server' })).toBe(9);
    await expect(caller.rpc('boom')).rejects.toThrow(/kaput/u);
    await expect(caller.rpc('nowhere')).rejects.toThrow(/not found/u);
  }, 20_000);

  it('learns an exposure from the presence event, not the periodic advert', async () => {
    const [a, b] = await pair({}, 600_000);
    const caller = await scope.connect(a, 'caller');
    const server = await scope.connect(b, 'server');
    server.expose('mul', (x: number, y: number) => x * y);
    await roundTrip(server);
    // Within 2 s, where the next periodic advert is 10 minutes away.
    await waitFor(async () => (await caller.rpc<number>('mul', 6, 7).catch(() => 0)) === 42,
      { timeout: 2_000, interval: 20, what: 'mul to be callable' });
  }, 20_000);

  it('relays a stream item by item across brokers, and an error after the items before it', async () => {
    const [a, b] = await pair();
    const caller = await scope.connect(a, 'caller');
    const server = await scope.connect(b, 'server');
    server.expose('count', (k: number) => interval(30).pipe(take(k)));
    server.expose('flaky', () => concat(of(1, 2), throwError(() => new Error('sensor lost'))));
    server.expose('plain', () => 'single');
    await callWhenKnown(caller, 'plain');
    const got = collect(caller.rpc$<number>('count', 4), 4);
    expect(await got.done).toEqual([0, 1, 2, 3]);
    await waitFor(() => got.completed, { what: 'the stream to complete' });
    const flaky = collect(caller.rpc$('flaky'), 3);
    await expect(flaky.done).rejects.toThrow(/errored after 2/u);
    expect(flaky.values).toEqual([1, 2]);
    expect(flaky.error).toMatchObject({ remoteCode: 40, details: 'sensor lost' });
    expect(await firstValueFrom(caller.rpc$('plain'))).toBe('single');
  }, 20_000);

  it('ends a relayed stream with status 43 when its serving broker is killed, instead of hanging', async () => {
    const name = `t${process.pid}_${++n}`;
    const a = await scope.broker({ name: 'a', cluster: { servers: nats.urls, name } });
    const dir = await mkdtemp(join(tmpdir(), 'rembus-cluster-stream-'));
    const b = await startClusterBroker(dir, nats.urls, ['--cluster-name', name]);
    try {
      const caller = await scope.connect(a, 'caller');
      const server = scope.track(await connect(`${b.url}/server`, { reconnect: { maxRetries: 0 } }));
      server.expose('forever', () => concat(of(1), NEVER));
      server.expose('plain', () => 'single');
      await callWhenKnown(caller, 'plain');
      const got = collect(caller.rpc$<number>('forever'), 2, { timeout: 15_000 });
      await waitFor(() => got.values.length === 1, { what: 'the first item' });
      await kill(b.proc); // SIGKILL: nothing ends its stream but the directory's expiry
      await expect(got.done).rejects.toThrow(/errored after 1/u);
      expect(got.error).toMatchObject({ remoteCode: 43 });
      expect(String((got.error as { details?: unknown }).details)).toMatch(/left the cluster/u);
    } finally {
      await kill(b.proc);
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it('keeps a broker that advertises less often than this one in the directory between its adverts', async () => {
    const name = `t${process.pid}_${++n}`;
    const a = await scope.broker({ name: 'a', cluster: { servers: nats.urls, name, advertiseInterval: 100 } });
    const b = await scope.broker({ name: 'b', cluster: { servers: nats.urls, name, advertiseInterval: 1_000 } });
    const caller = await scope.connect(a, 'caller');
    const server = await scope.connect(b, 'server');
    server.expose('there', () => 'there');
    await callWhenKnown(caller, 'there');
    // Over two of b's intervals (20 of a's): every call finds it.
    const failures: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      await caller.rpc('there').catch((err: unknown) => failures.push(err));
      await quiet(100);
    }
    expect(failures).toEqual([]);
  }, 20_000);

  it('takes turns between exposers on both brokers', async () => {
    const [a, b] = await pair();
    const [caller, here] = await scope.connectAll(a, 'caller', 'here');
    const there = await scope.connect(b, 'there');
    here.expose('who', () => 'here');
    there.expose('who', () => 'there');
    await roundTrip(here);
    await waitFor(async () => (await Promise.all([1, 2, 3, 4].map(() => caller.rpc<string>('who')))).includes('there'),
      { timeout: 8_000, interval: 50, what: 'the other broker\'s exposer to take a turn' });
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await caller.rpc<string>('who'));
    expect(seen.filter((s) => s === 'here').length).toBe(3);
    expect(seen.filter((s) => s === 'there').length).toBe(3);
  }, 20_000);
});

describe('cluster without NATS', () => {
  it('does not ack a QoS1 publish while NATS is down, and delivers it once NATS is back', async () => {
    const [a, b] = await pair();
    const pub = await scope.connect(a, 'pub', { ackTimeout: 300, sendRetries: 1_000 });
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('outage'), 1, { timeout: 30_000 });
    await roundTrip(sub);
    await nats.kill(nats.nodes[0]!);
    let acked = false;
    const publishing = pub.publishAsync('outage', ['kept'], { qos: 1 }).then(() => { acked = true; });
    await quiet(1_500);
    expect(acked).toBe(false);
    await nats.restart(nats.nodes[0]!);
    await publishing;
    expect((await got.done).map((m) => m.args[0])).toEqual(['kept']);
    // Re-sent every 300 ms during the outage: stored once (JetStream's duplicate window).
    await quiet(500);
    await roundTrip(sub);
    expect(got.values).toHaveLength(1);
  }, 60_000);
});
