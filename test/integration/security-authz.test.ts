/**
 * Authorization over real sockets (spec §4.4, §5.2, §5.3, §6): the admin role, private topics
 * on publish, subscribe, fan-out (exact, wildcard, catch-all), replay and RPC, and tenant
 * isolation of pub/sub and RPC configured in `tenants.json`.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import {
  AckTimeoutError, component, LastReceived, MethodNotFoundError, RpcError, type Message,
} from '../../src/index.js';
import type { Msg, MsgId, ResponseMsg } from '../../src/protocol/messages.js';
import { collect, roundTrip, useScope } from './helpers.js';

const scope = useScope();

type Admin = (topic: string, cmd: Record<string, unknown>) => Promise<[number, unknown]>;

/** A raw CBOR peer logged in as `name` that sends admin commands and returns [status, data]. */
async function adminAs(b: Broker, name: string): Promise<Admin> {
  const raw = await scope.raw(b);
  const call = async (msg: Msg & { id: MsgId }): Promise<ResponseMsg> => {
    raw.sendBinary(encodeCbor(msg));
    return decodeCbor(await raw.next() as Uint8Array) as ResponseMsg;
  };
  expect((await call({ type: 'identity', id: newMsgId(), cid: name })).status).toBe(0);
  return async (topic, cmd) => {
    const resp = await call({ type: 'admin', id: newMsgId(), topic, cmd });
    return [resp.status, resp.data];
  };
}

const topics = (messages: Message[]): string[] => messages.map((m) => m.topic);

describe('admin commands', () => {
  it('refuses private_topic, public_topic, authorize, unauthorize and shutdown to a non-admin with 10', async () => {
    const b = await scope.broker({ admins: ['ops'] });
    const user = await adminAs(b, 'user');
    for (const cmd of ['private_topic', 'public_topic', 'private_topics_config']) {
      expect(await user('secret', { cmd })).toEqual([10, 'unauthorized']);
    }
    for (const cmd of ['authorize', 'unauthorize']) expect(await user('secret', { cmd, cid: 'user' })).toEqual([10, 'unauthorized']);
    for (const cmd of ['shutdown', 'broker_config', 'enable_debug']) expect(await user('__config__', { cmd })).toEqual([10, 'unauthorized']);
  });

  it('lets an admin make topics private, authorize names and read the configuration', async () => {
    const b = await scope.broker({ admins: ['ops'] });
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
    const b = await scope.broker({ admins: ['ops', 'boss'] });
    const ops = await adminAs(b, 'ops');
    for (const topic of ['secret', 'plant/secret']) {
      for (const cid of ['pa', 'sa']) expect(await ops(topic, { cmd: 'authorize', cid })).toEqual([0, null]);
    }
    return { b, ops };
  }

  it('drops an unauthorized publish: not delivered, and a QoS1 publisher gets no ACK', async () => {
    const { b } = await privateSetup();
    const [pa, sa] = await scope.connectAll(b, 'pa', 'sa');
    const pu = await scope.connect(b, 'pu', { ackTimeout: 50, sendRetries: 0 });
    const got = collect(sa.subscribe$('secret'), 1);
    await roundTrip(sa);
    pu.publish('secret', 'from pu');
    await expect(pu.publishAsync('secret', ['from pu, qos1'], { qos: 1 })).rejects.toBeInstanceOf(AckTimeoutError);
    pa.publish('secret', 'from pa');
    expect((await got.done).map((m) => m.args[0])).toEqual(['from pa']);
    await roundTrip(pu, pa, sa);
    expect(got.values).toHaveLength(1);
  });

  it('refuses to subscribe to it with 10 unless authorized', async () => {
    const { b } = await privateSetup();
    const su = await scope.connect(b, 'su');
    const refused = collect(su.subscribe$('secret'), 1);
    await expect(refused.done).rejects.toThrow(/stream errored/);
    expect(refused.error).toBeInstanceOf(RpcError);
    expect((refused.error as RpcError).remoteCode).toBe(10);
    const sa = await scope.connect(b, 'sa');
    const allowed = collect(sa.subscribe$('secret'), 0);
    await roundTrip(sa);
    expect(allowed.error).toBeUndefined();
  });

  it('skips it in wildcard and catch-all deliveries to unauthorized subscribers; admins see it', async () => {
    const { b } = await privateSetup();
    const [pa, w, c, sa, c2] = await scope.connectAll(b, 'pa', 'w', 'c', 'sa', 'c2');
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
    const pa = await scope.connect(b, 'pa');
    const admin = scope.track(component(`${b.url!}/boss`));
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
    const pa = await scope.connect(b, 'pa');
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
    const [srv, pa, pu] = await scope.connectAll(b, 'srv', 'pa', 'pu');
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
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('isolates pub/sub: a publish reaches subscribers of its own tenant only', async () => {
    const b = await scope.broker({ dataDir: dir });
    const [a, c, bt2, dt2] = await scope.connectAll(b, 'a.t1', 'c.t1', 'b.t2', 'd.t2');
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
    const [a, c, bt2, dt2] = await scope.connectAll(b, 'a.t1', 'c.t1', 'b.t2', 'd.t2');
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
