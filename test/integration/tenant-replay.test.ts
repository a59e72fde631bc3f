/**
 * Tenants crossing through the message log (README "Security": "Tenants … are isolated for
 * pub/sub and RPC when more than one is configured"; "Delivery guarantees": a named component
 * replays what it missed). A live publish never reaches another tenant (security-authz); here a
 * subscriber of another tenant is offline when it is published, or subscribes later with
 * `LastReceived` or a period, and must not get it from the log either — by exact, wildcard or
 * catch-all subscription — while its own tenant's messages do replay. Real sockets, a real
 * `tenants.json` and key files in a temp data dir.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type Broker } from '../../src/broker/index.js';
import { openDuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import type { Store, StoredMessage } from '../../src/store/types.js';
import { encodeValue } from '../../src/codec/cbor.js';
import { LastReceived, period, type Component, type Message } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';
import { http } from './http-request.js';

const scope = useScope();
const secret = (name: string): string => `${name}-secret`;
const proven = (b: Broker, name: string) => scope.connect(b, name, { key: secret(name) });
const seen = (ms: Message[]): unknown[] => ms.map((m) => `${m.topic}:${String(m.args[0])}`);

/** `news` published once by a proven publisher of each tenant, both stored when it returns; the publishers. */
async function publishFromEachTenant(b: Broker): Promise<[Component, Component]> {
  const [p1, p2] = [await proven(b, 'pub.t1'), await proven(b, 'pub.t2')];
  p1.publish('news', 'for t1');
  p2.publish('news', 'for t2');
  await roundTrip(p1, p2);
  return [p1, p2];
}
/** A reader of each tenant and the one `news` message of its own tenant it may see. */
const READERS = [['spy.t2', 'news:for t2'], ['mate.t1', 'news:for t1']] as const;

/** A data dir with two isolated tenants and a shared secret on file for each test name. */
async function tenantDir(root: string): Promise<string> {
  const d = await mkdtemp(join(root, 'd-'));
  await mkdir(join(d, 'broker', 'keys'), { recursive: true });
  await writeFile(join(d, 'broker', 'tenants.json'), JSON.stringify({ t1: '1111', t2: '2222' }));
  for (const name of ['pub.t1', 'mate.t1', 'spy.t2', 'pub.t2']) await writeFile(join(d, 'broker', 'keys', name), secret(name));
  return d;
}

/** The broker's message log: the default LMDB one of `dataDir`, the memory store, or the DuckDB store. */
async function logStore(log: string, dataDir: string): Promise<{ store?: Store }> {
  if (log === 'memory') return { store: memoryStore() };
  if (log === 'duckdb') return { store: await openDuckDbStore({ path: join(dataDir, 'log.duckdb') }) };
  return {};
}

describe('tenants and the message log', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'rembus-tenant-replay-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it.each([
    ['an exact subscription', 'lmdb', 'news'],
    ['a wildcard subscription', 'lmdb', '**'],
    ['the catch-all', 'lmdb', '*'],
    ['an exact subscription', 'memory', 'news'],
    ['a wildcard subscription', 'memory', '**'],
    ['an exact subscription', 'duckdb', 'news'],
    ['a wildcard subscription', 'duckdb', '**'],
    ['the catch-all', 'duckdb', '*'],
  ])('replays to %s (%s log) only its own tenant\'s messages, whether subscribed before or after', async (_what, log, pattern) => {
    const dataDir = await tenantDir(root);
    const b = await scope.broker({ dataDir, ...await logStore(log, dataDir) });
    // Both subscribers were here once (LastReceived), then left.
    for (const name of ['spy.t2', 'mate.t1']) {
      const node = await proven(b, name);
      node.subscribe$(pattern, { msgfrom: LastReceived }).subscribe();
      await roundTrip(node);
      await node.close();
    }
    await waitFor(() => b.stats().connections === 0, { what: 'the subscribers to leave' });
    const [p1, p2] = await publishFromEachTenant(b);
    for (const [name, own] of READERS) {
      const node = await proven(b, name);
      const back = collect(node.subscribe$(pattern, { msgfrom: LastReceived }), 1, { what: `${name}'s replay` });
      const late = collect(node.subscribe$('news', { msgfrom: period({ minutes: 5 }) }), 1, { what: `${name}'s period replay` });
      expect(seen(await back.done)).toEqual([own]);
      expect(seen(await late.done)).toEqual([own]);
      await roundTrip(p1, p2, node);
      // README limit: a catch-all and an exact subscription of one component share replayed copies
      // (a catch-all delivery is a plain one on the wire); what counts here is that no other tenant's leaks.
      const exact = (values: Message[]): void => pattern === '*'
        ? expect(new Set(seen(values))).toEqual(new Set([own])) : expect(seen(values)).toEqual([own]);
      exact(back.values);
      exact(late.values);
    }
  });
});

/**
 * Rows that kept no publisher (README "Security", tenants): logged before the log kept one (an
 * older broker, PY's DuckDB table) or while tenants were not isolated. Nothing says whose they
 * are, so with isolated tenants they replay to no tenant — while the broker's own publishes
 * (`broker.publish`, bridges), which reach every tenant live, replay to every tenant.
 */
describe('tenants and log rows without a publisher', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'rembus-tenant-prefix-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it.each(['lmdb', 'duckdb'])('replays an old row (%s) to no tenant and the broker\'s own to every tenant', async (log) => {
    const dataDir = await tenantDir(root);
    const path = join(dataDir, log === 'lmdb' ? 'broker.lmdb' : 'log.duckdb');
    const open = (): Promise<Store> => log === 'lmdb' ? openLmdbStore({ path }) : openDuckDbStore({ path });
    // The log of an older broker: rows of the last minutes, no publisher kept.
    const now = BigInt(Date.now()) * 1_000_000n;
    const row = (recv: bigint, value: string): StoredMessage => ({ recv, slot: null, qos: 0, uid: null, topic: 'news', data: encodeValue([value]) });
    const old = await open();
    await old.appendMessages([row(now - 60_000_000_000n, 'old 1'), row(now - 30_000_000_000n, 'old 2')]);
    await old.close();
    const b = await scope.broker({ dataDir, ...(log === 'duckdb' ? { store: await open() } : {}) });
    b.publish('news', ['from the broker']);
    await publishFromEachTenant(b);
    for (const [name, own] of READERS) {
      const node = await proven(b, name);
      const back = collect(node.subscribe$('news', { msgfrom: period({ minutes: 5 }) }), 2, { what: `${name}'s replay` });
      expect(seen(await back.done)).toEqual(['news:from the broker', own]);
      await roundTrip(node);
      expect(seen(back.values)).toEqual(['news:from the broker', own]);
    }
  });

  it('replays the broker\'s stats snapshots (its own, logged, naming every tenant\'s components) to a proven admin only', async () => {
    const dataDir = await tenantDir(root);
    await writeFile(join(dataDir, 'broker', 'admins.json'), JSON.stringify(['ops']));
    await writeFile(join(dataDir, 'broker', 'keys', 'ops'), secret('ops'));
    const b = await scope.broker({ dataDir, http: { statsInterval: 30 } });
    await new Promise((r) => setTimeout(r, 200));
    const since = Date.now();
    const readers = await Promise.all(['spy.t2', 'mate.t1'].map(async (name) => {
      const node = await proven(b, name);
      return collect(node.subscribe$('__broker__/stats', { msgfrom: period({ minutes: 1 }) }), 1, { what: `${name}'s replay` });
    }));
    const ops = await proven(b, 'ops');
    const back = collect(ops.subscribe$<[{ time: number }]>('__broker__/stats', { msgfrom: period({ minutes: 1 }) }), 8, { what: 'the admin\'s replay and live snapshots' });
    // Published before this component logged in: it came from the log, not live.
    const got = await back.done;
    expect(got[0]!.args[0].time).toBeLessThan(since - 50);
    // Live snapshots have reached the admin since the tenants' subscriptions: their replays (and those snapshots) did not reach them.
    expect(got[got.length - 1]!.args[0].time).toBeGreaterThan(Date.now() - 1_000);
    expect(readers.map((r) => r.values.length)).toEqual([0, 0]);
  });

  it('restores an old retained value (LMDB) for no tenant, the broker\'s own for every tenant', async () => {
    const dataDir = await tenantDir(root);
    const path = join(dataDir, 'broker.lmdb');
    const now = BigInt(Date.now()) * 1_000_000n;
    const row = (recv: bigint, topic: string, extra: Partial<StoredMessage>): StoredMessage =>
      ({ recv, slot: null, qos: 0, uid: null, topic, data: encodeValue([topic]), retain: true, ...extra });
    const old = await openLmdbStore({ path });
    await old.appendMessages([row(now - 2_000_000n, 'old', {}), row(now - 1_000_000n, 'own', { origin: null })]);
    await old.close();
    const b = await scope.broker({ dataDir });
    for (const name of ['spy.t2', 'mate.t1']) {
      const node = await proven(b, name);
      const got = collect(node.subscribe$('**'), 1, { what: `${name}'s retained values` });
      expect(seen(await got.done)).toEqual(['own:own']);
      await roundTrip(node);
      expect(seen(got.values)).toEqual(['own:own']);
      await node.close();
    }
  });
});

/**
 * Presence across tenants (README "Security": tenants isolated; "Streaming RPC on the wire":
 * presence events, `__presence__`, `__exposers__`): a component must not learn that another
 * tenant's component exists, what it exposes, or when it comes and goes.
 */
describe('tenants and presence', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'rembus-tenant-presence-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('shows each tenant only its own components, methods and connection events', async () => {
    const b = await scope.broker({ dataDir: await tenantDir(root) });
    const [mate, spy] = [await proven(b, 'mate.t1'), await proven(b, 'spy.t2')];
    const events = collect(spy.subscribe$('component_info'), 1, { what: 'spy.t2\'s presence events' });
    const mateEvents = collect(mate.subscribe$('component_info'), 2, { what: 'mate.t1\'s presence events' });
    await roundTrip(mate, spy);
    const pub = await proven(b, 'pub.t1');
    pub.expose('secret/method', () => 'x');
    await roundTrip(pub);
    await mateEvents.done;
    const own = await proven(b, 'pub.t2');
    expect((await events.done).map((m) => (m.args[0] as { cid?: string }).cid)).toEqual(['pub.t2']);
    await roundTrip(pub, own, spy);
    expect(events.values.every((m) => (m.args[0] as { cid?: string }).cid === 'pub.t2')).toBe(true);
    const snapshot = await spy.rpc<unknown>('__presence__');
    expect(JSON.stringify(snapshot)).not.toMatch(/\.t1/);
    expect(JSON.stringify(snapshot)).toMatch(/spy\.t2/);
    expect(await spy.rpc<unknown>('__exposers__', 'secret/method')).toEqual([]);
    expect(await mate.rpc<unknown>('__exposers__', 'secret/method')).toEqual(['pub.t1']);
    const services = await collect(spy.services$('secret/*'), 1).done;
    expect(services).toEqual([[]]);
  });
});

/** HTTP publishes (README "HTTP and REST": Basic auth maps to the same identities, tenants apply unchanged). */
describe('tenants and HTTP publishes', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'rembus-tenant-http-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('delivers and replays a REST publish only inside its publisher\'s tenant', async () => {
    const b = await scope.broker({ dataDir: await tenantDir(root) });
    const [mate, spy] = [await proven(b, 'mate.t1'), await proven(b, 'spy.t2')];
    const mateLive = collect(mate.subscribe$('news'), 1);
    const spyLive = collect(spy.subscribe$('news'), 1);
    await roundTrip(mate, spy);
    const res = await http(b, 'POST', '/news', ['over http'], `pub.t1:${secret('pub.t1')}`);
    expect(res.status, res.body).toBeLessThan(300);
    expect(seen(await mateLive.done)).toEqual(['news:over http']);
    const res2 = await http(b, 'POST', '/news', ['t2 over http'], `pub.t2:${secret('pub.t2')}`);
    expect(res2.status, res2.body).toBeLessThan(300);
    expect(seen(await spyLive.done)).toEqual(['news:t2 over http']);
    await roundTrip(mate, spy);
    expect(seen(mateLive.values)).toEqual(['news:over http']);
    // Replayed from the log: the same tenant rule.
    const spyAgain = collect(spy.subscribe$('*', { msgfrom: period({ minutes: 5 }) }), 1);
    expect(seen(await spyAgain.done)).toEqual(['news:t2 over http']);
    await roundTrip(spy);
    expect(spyAgain.values.every((m) => m.args[0] === 't2 over http')).toBe(true);
  });
});
