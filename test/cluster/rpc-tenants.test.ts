/**
 * RPC across the brokers of a cluster under tenants and private methods (README "Security":
 * tenants are isolated for RPC; "Cluster"). A caller of tenant t1 on one broker must reach
 * exactly what it would reach if every component were on its broker: its own tenant's exposers
 * and names, wherever they are connected, and never another tenant's — neither served by them
 * (their handler never runs) nor hindered by them (a same-named method of another tenant on
 * another broker takes no turn of the caller's calls). A private method is served across
 * brokers to an authorized caller by an authorized exposer only. In process, over a real
 * nats-server with JetStream.
 */
import { Decoder, Encoder } from 'cbor-x';
import { connect as natsConnect } from '@nats-io/transport-node';
import { firstValueFrom, interval, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { MethodNotFoundError, RpcError, type Component } from '../../src/index.js';
import { memorySecurityStore, type SecurityStore } from '../../src/security/index.js';
import { untilResolved, useScope } from '../integration/helpers.js';
import { useTwinBucket } from './twin-bucket.js';

const scope = useScope();
const bucket = useTwinBucket();
let n = 0;

const NAMES = ['call.t1', 'srv.t1', 'here.t1', 'call.t2', 'srv.t2', 'plain.t1'];
const secret = (name: string): string => `${name}-secret`;

/**
 * Two isolated tenants (one, `.`, when `isolated` is false) and private `vault`, for call.t1
 * and srv.t1 only; every broker provisioned alike.
 */
const provisioned = (isolated = true): SecurityStore => memorySecurityStore({
  tenants: isolated ? { t1: '1111', t2: '2222' } : { '.': '0000' },
  keys: Object.fromEntries(NAMES.map((x) => [x, secret(x)])),
  topicAuth: { vault: ['call.t1', 'srv.t1'] },
});

/** Brokers a and b of a fresh cluster. */
async function pair(advertiseInterval = 200, name = `rt${process.pid}_${++n}`, isolated = true): Promise<[Broker, Broker]> {
  const cluster = { servers: bucket.urls, name, advertiseInterval };
  const start = (name: string): Promise<Broker> => scope.broker({ name, cluster, security: provisioned(isolated) });
  return [await start('a'), await start('b')];
}

const proven = (on: Broker, name: string): Promise<Component> => scope.connect(on, name, { key: secret(name) });

/** The remote status of a failed call, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<number | 'ok' | string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    if (err instanceof MethodNotFoundError) return 42;
    if (err instanceof RpcError) return err.remoteCode;
    return String(err);
  }
}

/** Call until it succeeds: the other broker's adverts (every 200 ms here) have the method. */
const whenKnown = <R>(call: () => Promise<R>, what: string): Promise<R> =>
  untilResolved(call, { timeout: 8_000, interval: 50, what });

describe('RPC across cluster brokers with tenants', () => {
  it('serves a caller its own tenant\'s exposer on another broker, by method, by target and streamed', async () => {
    const [a, b] = await pair();
    const srv = await proven(b, 'srv.t1');
    srv.expose('echo', (x: string) => `t1 ${x}`);
    srv.expose('count', (k: number) => interval(20).pipe(take(k)));
    const caller = await proven(a, 'call.t1');
    expect(await whenKnown(() => caller.rpc<string>('echo', 'x'), 'echo across brokers')).toBe('t1 x');
    expect(await caller.call<string>('echo', ['y'], { target: 'srv.t1' })).toBe('t1 y');
    expect(await firstValueFrom(caller.rpc$<number>('count', 3).pipe(toArray()))).toEqual([0, 1, 2]);
  }, 30_000);

  it('never lets another tenant\'s exposer on another broker serve a call: not found (42), its target unknown (45)', async () => {
    const [a, b] = await pair();
    const srv2 = await proven(b, 'srv.t2');
    let served = 0;
    srv2.expose('svc', (x: string) => { served++; return `t2 ${x}`; });
    srv2.expose('stream', (k: number) => { served++; return interval(20).pipe(take(k)); });
    const [caller, caller2] = [await proven(a, 'call.t1'), await proven(a, 'call.t2')];
    // t2's own caller on a reaches it: a knows b's exposer from here on.
    expect(await whenKnown(() => caller2.rpc<string>('svc', 'own'), 'svc for t2')).toBe('t2 own');
    const before = served;
    for (let i = 0; i < 4; i++) expect(await outcome(caller.rpc('svc', 'stolen'))).toBe(42);
    expect(await outcome(caller.call('svc', ['stolen'], { target: 'srv.t2' }))).toBe(45);
    expect(await outcome(firstValueFrom(caller.rpc$('stream', 2).pipe(toArray())))).toBe(42);
    expect(served).toBe(before);
  }, 30_000);

  it('does not let another tenant\'s same-named exposer on another broker take turns with the caller\'s own', async () => {
    const [a, b] = await pair();
    const here = await proven(a, 'here.t1');
    here.expose('who', () => 'here.t1');
    const other = await proven(b, 'srv.t2');
    other.expose('who', () => 'srv.t2');
    const caller2 = await proven(a, 'call.t2');
    expect(await whenKnown(() => caller2.rpc<string>('who'), 'who for t2')).toBe('srv.t2');
    const caller = await proven(a, 'call.t1');
    const got: unknown[] = [];
    for (let i = 0; i < 8; i++) got.push(await outcome(caller.rpc<string>('who').then((v) => { if (v !== 'here.t1') throw new Error(v); })));
    expect(got).toEqual(Array(8).fill('ok'));
  }, 30_000);

  it('does not let another tenant\'s exposer on the caller\'s broker take turns with the caller\'s own on another broker', async () => {
    const [a, b] = await pair();
    const local2 = await proven(a, 'srv.t2');
    local2.expose('who', () => 'srv.t2');
    const srv1 = await proven(b, 'srv.t1');
    srv1.expose('who', () => 'srv.t1');
    const caller = await proven(a, 'call.t1');
    await whenKnown(() => caller.rpc<string>('who'), 'who for t1');
    const got: unknown[] = [];
    for (let i = 0; i < 6; i++) got.push(await outcome(caller.rpc<string>('who').then((v) => { if (v !== 'srv.t1') throw new Error(v); })));
    expect(got).toEqual(Array(6).fill('ok'));
  }, 30_000);

  it('picks on the serving broker only the caller\'s tenant among its exposers', async () => {
    const [a, b] = await pair();
    const [srv1, srv2] = [await proven(b, 'srv.t1'), await proven(b, 'srv.t2')];
    srv2.expose('who', () => 'srv.t2');
    srv1.expose('who', () => 'srv.t1');
    const caller = await proven(a, 'call.t1');
    await whenKnown(() => caller.rpc<string>('who'), 'who for t1');
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await caller.rpc<string>('who'));
    expect(got).toEqual(Array(6).fill('srv.t1'));
  }, 30_000);

  it('advertises a tenant\'s new exposer at once, and shows no cluster plumbing in the tenant\'s presence', async () => {
    const [a, b] = await pair(60_000);
    const caller = await proven(a, 'call.t1');
    const srv = await proven(b, 'srv.t1');
    srv.expose('late', () => 'now');
    // One advert interval is a minute: only the advert b sends on srv.t1's expose lets a find it.
    expect(await whenKnown(() => caller.rpc<string>('late'), 'late across brokers')).toBe('now');
    const onB = await proven(b, 'plain.t1');
    const names = (await onB.rpc<{ cid: string }[]>('__presence__')).map((p) => p.cid);
    expect(names.sort()).toEqual(['plain.t1', 'srv.t1']);
  }, 30_000);

  for (const isolated of [true, false]) {
    it(`serves a private method across brokers to an authorized caller only (${isolated ? 'two tenants' : 'one tenant'})`, async () => {
      const [a, b] = await pair(200, undefined, isolated);
      const srv = await proven(b, 'srv.t1');
      srv.expose('vault', () => 'gold');
      const [caller, plain] = [await proven(a, 'call.t1'), await proven(a, 'plain.t1')];
      expect(await whenKnown(() => caller.rpc<string>('vault'), 'vault for call.t1')).toBe('gold');
      expect(await firstValueFrom(caller.rpc$<string>('vault'))).toBe('gold');
      expect(await outcome(plain.rpc('vault'))).toBe(10);
    }, 30_000);
  }

  it('has the serving broker check the caller a request names, and refuse a request that names none', async () => {
    const name = `rt${process.pid}_${++n}`;
    const [, b] = await pair(200, name);
    const srv = await proven(b, 'srv.t1');
    srv.expose('echo', (x: string) => `t1 ${x}`);
    srv.expose('vault', () => 'gold');
    // Another broker of the cluster, as NATS carries it: find b's id in its adverts, then call b.
    const nc = await natsConnect({ servers: bucket.urls });
    scope.track({ close: () => nc.close() });
    const cbor = new Encoder({ useRecords: false });
    const decoder = new Decoder({ useRecords: false });
    const id = await new Promise<string>((resolve) => {
      nc.subscribe(`rembus.${name}.adv`, { callback: (_err, m) => {
        const advert = decoder.decode(m.data) as { id: string; m: string[] };
        if (advert.m.includes('vault')) resolve(advert.id);
      } });
    });
    const ask = async (request: unknown[]): Promise<[number, unknown]> =>
      decoder.decode((await nc.request(`rembus.${name}.rpc.${id}`, cbor.encode(request), { timeout: 5_000 })).data) as [number, unknown];
    expect(await ask(['echo', null, ['x'], false, 'other-1', ['call.t1', true]])).toEqual([0, 't1 x']);
    expect(await ask(['vault', null, [], false, 'other-1', ['call.t1', true]])).toEqual([0, 'gold']);
    // Another tenant's caller: the t2 delegate finds no exposer, nor the t1 name as a target.
    expect(await ask(['echo', null, ['x'], false, 'other-1', ['call.t2', true]])).toEqual([42, 'method not found: echo']);
    expect(await ask(['echo', 'srv.t1', ['x'], false, 'other-1', ['call.t2', true]])).toEqual([45, 'srv.t1']);
    // A private method: an unauthorized name, or an authorized one that did not prove it.
    expect(await ask(['vault', null, [], false, 'other-1', ['plain.t1', true]])).toEqual([10, 'unauthorized']);
    expect(await ask(['vault', null, [], false, 'other-1', ['call.t1', false]])).toEqual([10, 'unauthorized']);
    expect(await ask(['vault', null, [], true, 'other-1', ['plain.t1', true]])).toEqual(['final', 10, 'unauthorized']);
    // An older broker's request names no caller: no tenant is its, no private method either.
    expect((await ask(['echo', null, ['x']]))[0]).toBe(42);
    expect(await ask(['vault', null, []])).toEqual([10, 'unauthorized']);
  }, 30_000);
});
