/**
 * Authorization over real sockets (spec §4.4, §5.2, §5.3, §6): the admin role, private topics
 * on publish, subscribe, fan-out (exact, wildcard, catch-all), replay and RPC, and tenant
 * isolation of pub/sub and RPC configured in `tenants.json`. Every right here belongs to a name
 * that proved itself with a shared secret (README "Security"); security-identity.test.ts tries
 * the same rights with names that did not.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import {
  component, LastReceived, MethodNotFoundError, RpcError, UnauthorizedError, type Message,
} from '../../src/index.js';
import { collect, roundTrip, useScope } from './helpers.js';
import { loggedIn, rawPeer } from './security-peer.js';

const scope = useScope();

type Admin = (topic: string, cmd: Record<string, unknown>) => Promise<[number, unknown]>;

/** The shared secret each test name has on file. */
const secret = (name: string): string => `${name}-secret`;

/** Key files (shared secrets) for `names`, as memorySecurityStore takes them. */
const secrets = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, secret(n)]));

/** A broker whose `admins` and `names` can prove themselves with their shared secrets. */
function securedBroker(admins: string[], ...names: string[]): Promise<Broker> {
  return scope.broker({ security: memorySecurityStore({ admins, keys: secrets(...admins, ...names) }) });
}

/** A component logged in as `name` with its shared secret. */
const proven = (b: Broker, name: string, options: Parameters<typeof scope.connect>[2] = {}) =>
  scope.connect(b, name, { key: secret(name), ...options });

/** A raw CBOR peer logged in as `name` (proven when it has a secret on file) sending admin commands. */
async function adminAs(b: Broker, name: string, withSecret = true): Promise<Admin> {
  const peer = await loggedIn(rawPeer(await scope.raw(b)), name, withSecret ? secret(name) : undefined);
  return (topic, cmd) => peer.admin(topic, cmd);
}

const topics = (messages: Message[]): string[] => messages.map((m) => m.topic);

describe('admin commands', () => {
  it('refuses private_topic, public_topic, authorize, unauthorize and shutdown to a non-admin with 10', async () => {
    const b = await securedBroker(['ops']);
    const user = await adminAs(b, 'user');
    for (const cmd of ['private_topic', 'public_topic', 'private_topics_config']) {
      expect(await user('secret', { cmd })).toEqual([10, 'unauthorized']);
    }
    for (const cmd of ['authorize', 'unauthorize']) expect(await user('secret', { cmd, cid: 'user' })).toEqual([10, 'unauthorized']);
    for (const cmd of ['shutdown', 'broker_config', 'enable_debug']) expect(await user('__config__', { cmd })).toEqual([10, 'unauthorized']);
  });

  it('lets an admin make topics private, authorize names and read the configuration', async () => {
    const b = await securedBroker(['ops']);
    const ops = await adminAs(b, 'ops');
    expect(await ops('secret', { cmd: 'private_topic' })).toEqual([0, null]);
    expect(await ops('secret', { cmd: 'authorize', cid: 'alice' })).toEqual([0, null]);
    expect(await ops('other', { cmd: 'authorize', cid: 'bob' })).toEqual([0, null]);
    expect(await ops('__config__', { cmd: 'private_topics_config' })).toEqual([0, { secret: ['alice'], other: ['bob'] }]);
    expect(await ops('other', { cmd: 'public_topic' })).toEqual([0, null]);
    expect(await ops('secret', { cmd: 'unauthorize', cid: 'alice' })).toEqual([0, null]);
    expect(await ops('secret', { cmd: 'authorize' })).toEqual([10, 'cid missing']);
    expect(await ops('__config__', { cmd: 'private_topics_config' })).toEqual([0, { secret: [] }]);
    const node = await scope.connect(b, 'node');
    const sub = node.subscribe$('news').subscribe();
    node.expose('svc', () => 1);
    await roundTrip(node);
    expect(await ops('__config__', { cmd: 'broker_config' })).toEqual([0, { exposers: { svc: ['node'] }, subscribers: { news: ['node'] } }]);
    expect(await ops('__config__', { cmd: 'enable_debug' })).toEqual([0, null]);
    expect(await ops('__config__', { cmd: 'disable_debug' })).toEqual([0, null]);
    sub.unsubscribe();
  });
});

describe('private topics', () => {
  /** A broker where `secret` and `plant/secret` are private to pa (publisher) and sa (subscriber). */
  async function privateSetup(): Promise<{ b: Broker; ops: Admin }> {
    const b = await securedBroker(['ops', 'boss'], 'pa', 'sa', 'srv');
    const ops = await adminAs(b, 'ops');
    for (const topic of ['secret', 'plant/secret']) {
      for (const cid of ['pa', 'sa']) expect(await ops(topic, { cmd: 'authorize', cid })).toEqual([0, null]);
    }
    return { b, ops };
  }

  it('drops an unauthorized publish: not delivered, and a QoS1/2 TS publisher fails at once', async () => {
    const { b } = await privateSetup();
    const [pa, sa] = await Promise.all([proven(b, 'pa'), proven(b, 'sa')]);
    // Retries would take 20 s: a refusal that came from the ACK timer would fail this test.
    const pu = await scope.connect(b, 'pu', { ackTimeout: 10_000, sendRetries: 1 });
    const got = collect(sa.subscribe$('secret'), 1);
    await roundTrip(sa);
    pu.publish('secret', 'from pu');
    for (const qos of [1, 2] as const) {
      const err = await pu.publishAsync('secret', ['from pu'], { qos }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err).toMatchObject({ code: 'UNAUTHORIZED', topic: 'secret', reason: 'unauthorized: secret' });
    }
    pa.publish('secret', 'from pa');
    expect((await got.done).map((m) => m.args[0])).toEqual(['from pa']);
    await roundTrip(pu, pa, sa);
    expect(got.values).toHaveLength(1);
  });

  it('accepts a subscribe by an unauthorized name, delivers nothing until it is authorized, then delivers', async () => {
    const { b, ops } = await privateSetup();
    const [pa, su] = await Promise.all([proven(b, 'pa'), proven(b, 'srv')]);
    const got = collect(su.subscribe$('secret'), 1);
    await roundTrip(su);
    pa.publish('secret', 'before');
    await roundTrip(pa, su);
    expect(got.values).toEqual([]);
    expect(got.error).toBeUndefined();
    expect(await ops('secret', { cmd: 'authorize', cid: 'srv' })).toEqual([0, null]);
    pa.publish('secret', 'after');
    expect((await got.done).map((m) => m.args[0])).toEqual(['after']);
    // And back: unauthorize stops the same subscription again.
    expect(await ops('secret', { cmd: 'unauthorize', cid: 'srv' })).toEqual([0, null]);
    pa.publish('secret', 'revoked');
    await roundTrip(pa, su);
    expect(got.values).toHaveLength(1);
  });

  it('answers a raw subscribe by an unauthorized name with 0, an expose of a private method with 10', async () => {
    const { b } = await privateSetup();
    const su = await adminAs(b, 'su', false);
    expect(await su('secret', { cmd: 'subscribe', msg_from: 0 })).toEqual([0, null]);
    expect(await su('secret', { cmd: 'expose' })).toEqual([10, 'unauthorized']);
    expect(await su('__config__', { cmd: 'setup', subscribers: ['secret'], exposers: [] })).toEqual([0, null]);
    expect(await su('__config__', { cmd: 'setup', subscribers: [], exposers: ['secret'] })).toEqual([10, 'unauthorized']);
  });

  it('skips it in wildcard and catch-all deliveries to unauthorized subscribers; admins see it', async () => {
    const { b } = await privateSetup();
    const [pa, sa] = await Promise.all([proven(b, 'pa'), proven(b, 'sa')]);
    const [w, c, c2] = await scope.connectAll(b, 'w', 'c', 'c2');
    const wild = collect(w.subscribe$('plant/*'), 1);
    const all = collect(c.subscribe$('*'), 1);
    const authorized = collect(sa.subscribe$('plant/*'), 2);
    const other = collect(c2.subscribe$('**'), 1);
    await roundTrip(w, c, sa, c2);
    pa.publish('plant/secret', 1);
    pa.publish('plant/open', 2);
    expect(topics(await wild.done)).toEqual(['plant/open']);
    expect(topics(await all.done)).toEqual(['plant/open']);
    expect(topics(await authorized.done)).toEqual(['plant/secret', 'plant/open']);
    expect(topics(await other.done)).toEqual(['plant/open']);
    await roundTrip(pa, w, c, sa, c2);
    expect([wild.values.length, all.values.length, other.values.length]).toEqual([1, 1, 1]);
  });

  it('is delivered on the catch-all of an admin', async () => {
    const { b } = await privateSetup();
    const pa = await proven(b, 'pa');
    const admin = scope.track(component(`${b.url!}/boss`, { key: secret('boss') }));
    const got = collect(admin.subscribe$('*'), 2);
    await admin.ready();
    await roundTrip(admin);
    pa.publish('secret', 1);
    pa.publish('open', 2);
    expect(topics(await got.done)).toEqual(['secret', 'open']);
  });

  it('is skipped by the replay of an unauthorized subscriber', async () => {
    const { b } = await privateSetup();
    const first = scope.track(component(`${b.url!}/late`));
    first.subscribe$('plant/*', { msgfrom: LastReceived }).subscribe({ error: () => undefined });
    await first.ready();
    await roundTrip(first);
    await first.close();
    const pa = await proven(b, 'pa');
    pa.publish('plant/secret', 1);
    pa.publish('plant/open', 2);
    await roundTrip(pa);
    const again = scope.track(component(`${b.url!}/late`));
    const got = collect(again.subscribe$('plant/*', { msgfrom: LastReceived }), 1);
    expect(topics(await got.done)).toEqual(['plant/open']);
    await roundTrip(pa, again);
    expect(got.values).toHaveLength(1);
  });

  it('answers an RPC on a private method with 10 unless the caller is authorized', async () => {
    const { b, ops } = await privateSetup();
    expect(await ops('vault', { cmd: 'authorize', cid: 'pa' })).toEqual([0, null]);
    expect(await ops('vault', { cmd: 'authorize', cid: 'srv' })).toEqual([0, null]);
    const [srv, pa, pu] = await Promise.all([proven(b, 'srv'), proven(b, 'pa'), scope.connect(b, 'pu')]);
    srv.expose('vault', () => 'gold');
    await roundTrip(srv);
    expect(await pa.rpc('vault')).toBe('gold');
    const err = await pu.rpc('vault').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).remoteCode).toBe(10);
    const direct = await pu.call('vault', [], { target: 'srv' }).catch((e: unknown) => e);
    expect((direct as RpcError).remoteCode).toBe(10);
    expect(await pu.rpc('rid')).toBe('broker'); // built-ins stay open
  });
});

describe('tenants', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-tenants-'));
    await mkdir(join(dir, 'broker'));
    await writeFile(join(dir, 'broker', 'tenants.json'), JSON.stringify({ t1: '1111', t2: '2222' }));
    await mkdir(join(dir, 'broker', 'keys'));
    for (const name of ['a.t1', 'c.t1', 'b.t2', 'd.t2']) await writeFile(join(dir, 'broker', 'keys', name), secret(name));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('isolates pub/sub: a publish reaches subscribers of its own tenant only', async () => {
    const b = await scope.broker({ dataDir: dir });
    const [a, c, bt2, dt2] = await Promise.all([proven(b, 'a.t1'), proven(b, 'c.t1'), proven(b, 'b.t2'), proven(b, 'd.t2')]);
    const same = collect(c.subscribe$('news'), 1);
    const otherExact = collect(bt2.subscribe$('news'), 1);
    const otherWild = collect(bt2.subscribe$('*/news'), 1);
    const otherAll = collect(dt2.subscribe$('*'), 1);
    await roundTrip(c, bt2, dt2);
    a.publish('news', 't1 only');
    a.publish('x/news', 't1 only');
    dt2.publish('news', 'for t2');
    dt2.publish('x/news', 'for t2');
    expect((await same.done).map((m) => m.args[0])).toEqual(['t1 only']);
    expect((await otherExact.done).map((m) => m.args[0])).toEqual(['for t2']);
    expect((await otherWild.done).map((m) => m.args[0])).toEqual(['for t2']);
    await roundTrip(a, c, bt2, dt2);
    // d.t2's own publishes are not echoed to it; a.t1's never reach it.
    expect(otherAll.values).toEqual([]);
    expect(same.values).toHaveLength(1);
  });

  it('isolates RPC: exposers of another tenant are unknown (42), and so are direct targets (45)', async () => {
    const b = await scope.broker({ dataDir: dir });
    const [a, c, bt2, dt2] = await Promise.all([proven(b, 'a.t1'), proven(b, 'c.t1'), proven(b, 'b.t2'), proven(b, 'd.t2')]);
    bt2.expose('svc', () => 't2');
    await roundTrip(bt2);
    await expect(a.rpc('svc')).rejects.toBeInstanceOf(MethodNotFoundError);
    const direct = await a.call('svc', [], { target: 'b.t2' }).catch((e: unknown) => e);
    expect((direct as RpcError).remoteCode).toBe(45);
    expect(await dt2.rpc('svc')).toBe('t2');
    c.expose('svc', () => 't1');
    await roundTrip(c);
    expect([await a.rpc('svc'), await a.rpc('svc'), await dt2.rpc('svc'), await dt2.rpc('svc')]).toEqual(['t1', 't1', 't2', 't2']);
  });
});
