/**
 * Retained values end to end through a real broker (README "Retained values"): every new
 * subscription — anonymous or named, exact, wildcard or catch-all, and a second local subscriber
 * of a shared stream — first gets the retained values it matches, marked `retained`, then live
 * ones without gap or duplicate; an empty retained publish clears; the bounds refuse without
 * losing the delivery; values survive a broker restart on LMDB; private topics and tenants hold.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLmdbStore } from '../../src/broker/index.js';
import { loggedIn, rawPeer } from './security-peer.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import type { Message } from '../../src/index.js';
import { filter } from 'rxjs';
import { connect } from '../../src/index.js';
import { collect, relay, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

const firsts = (messages: Message[]): unknown[] => messages.map((m) => m.args[0]);

describe('retained values', () => {
  it('gives a new exact subscriber the last retained value first, marked, then live ones once each', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('temp', [20], { retain: true });
    await pub.publishAsync('temp', [21], { retain: true, qos: 1 });
    await pub.publishAsync('temp', [99]); // not retained: the retained value stays 21
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('temp'), 3);
    await roundTrip(sub);
    pub.publish('temp', 22);
    await pub.publishAsync('temp', [23], { retain: true });
    const [first, second, third] = await got.done;
    expect(first).toMatchObject({ topic: 'temp', args: [21], retained: true, from: 'pub' });
    expect(typeof first!.id).toBe('bigint');
    expect(Math.abs(first!.receivedAt! - Date.now())).toBeLessThan(60_000);
    expect(second!.args).toEqual([22]);
    expect(second!.retained).toBeUndefined();
    expect(third).toMatchObject({ args: [23] });
    expect(third!.retained).toBeUndefined();
    await roundTrip(pub, sub);
    expect(got.values).toHaveLength(3);
  });

  it('gives wildcard and catch-all subscriptions of a named component every matching value, oldest first', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    await pub.publishAsync('plant/1/temp', ['a'], { retain: true });
    await pub.publishAsync('plant/2/temp', ['b'], { retain: true });
    await pub.publishAsync('office/temp', ['c'], { retain: true });
    const sub = await scope.connect(b, 'watcher');
    const wild = collect(sub.subscribe$('plant/*/temp'), 2);
    const all = collect(sub.subscribe$('*'), 3);
    const [w1, w2] = await wild.done;
    expect([w1, w2].map((m) => [m!.topic, m!.pattern, m!.args, m!.retained])).toEqual([
      ['plant/1/temp', 'plant/*/temp', ['a'], true], ['plant/2/temp', 'plant/*/temp', ['b'], true]]);
    expect(w1!.from).toBeUndefined(); // an anonymous publisher is never named
    expect(firsts(await all.done)).toEqual(['a', 'b', 'c']);
    await roundTrip(sub);
    expect(wild.values).toHaveLength(2);
  });

  it('clears a topic with an empty retained publish', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    await pub.publishAsync('door', ['open'], { retain: true });
    await pub.publishAsync('door', [], { retain: true });
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('door'), 1);
    await roundTrip(sub);
    pub.publish('door', 'live');
    expect(firsts(await got.done)).toEqual(['live']);
  });

  it('gives a second local subscriber of a shared stream the retained values too, then live ones', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    await pub.publishAsync('cfg', ['v1'], { retain: true });
    const sub = await scope.connect(b);
    const stream = sub.subscribe$('cfg');
    const first = collect(stream, 1);
    expect((await first.done)[0]).toMatchObject({ args: ['v1'], retained: true });
    await pub.publishAsync('cfg', ['v2'], { retain: true }); // a live retained publish updates what late subscribers get
    await waitForValues(first, 2);
    const late = collect(stream, 2);
    await roundTrip(sub);
    pub.publish('cfg', 'v3');
    expect((await late.done).map((m) => [m.args[0], m.retained])).toEqual([['v2', true], ['v3', undefined]]);
    expect(first.values.map((m) => m.args[0])).toEqual(['v1', 'v2', 'v3']);
  });

  it('does not deliver the same retained value twice after a reconnect; a changed one comes', async () => {
    const b = await scope.broker();
    const path = scope.track(await relay(b.port!));
    const pub = await scope.connect(b);
    await pub.publishAsync('mode', ['auto'], { retain: true });
    const viaRelay = scope.track(await connect(path.url, { reconnect: { initialDelay: 10, maxDelay: 50 } }));
    const got = collect(viaRelay.subscribe$('mode'), 2);
    await waitForValues(got, 1);
    const ups = collect(viaRelay.status$.pipe(filter((s) => s.type === 'up')), 2);
    path.cut(); // the broker sees the link drop; the component reconnects and declares `mode` again
    await ups.done;
    await roundTrip(viaRelay); // the redeclaration's retained value has arrived (and was dropped as seen)
    await pub.publishAsync('mode', ['manual'], { retain: true });
    expect((await got.done).map((m) => [m.args[0], m.retained])).toEqual([['auto', true], ['manual', undefined]]);
    await roundTrip(viaRelay);
    expect(got.values).toHaveLength(2);
  });

  it('refuses to retain past maxCount or maxBytes but still delivers, keeping the previous value', async () => {
    const b = await scope.broker({ retained: { maxCount: 2, maxBytes: 200 } });
    const pub = await scope.connect(b);
    const live = await scope.connect(b);
    const seen = collect(live.subscribe$('**'), 4);
    await roundTrip(live);
    await pub.publishAsync('k/1', ['one'], { retain: true });
    await pub.publishAsync('k/2', ['two'], { retain: true });
    await pub.publishAsync('k/3', ['three'], { retain: true }); // past maxCount
    await pub.publishAsync('k/1', ['x'.repeat(400)], { retain: true }); // past maxBytes: k/1 keeps 'one'
    expect((await seen.done).map((m) => m.topic)).toEqual(['k/1', 'k/2', 'k/3', 'k/1']);
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('k/*'), 2);
    await roundTrip(sub);
    expect((await got.done).map((m) => [m.topic, m.args[0]])).toEqual([['k/1', 'one'], ['k/2', 'two']]);
    await roundTrip(sub);
    expect(got.values).toHaveLength(2);
  });
});

/** Wait until `c` holds `n` values. */
async function waitForValues(c: { values: unknown[] }, n: number): Promise<void> {
  await waitFor(() => c.values.length >= n, { what: `${n} values` });
}

describe('retained values at rest', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-retained-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('keeps retained values (and their publisher) across a broker restart on LMDB; a clear too', async () => {
    const path = join(dir, 'broker.lmdb');
    const b1 = await scope.broker({ store: await openLmdbStore({ path }) });
    const pub = await scope.connect(b1, 'station');
    await pub.publishAsync('wx/wind', [12], { retain: true, qos: 1 });
    await pub.publishAsync('wx/rain', [3], { retain: true, qos: 1 });
    await pub.publishAsync('wx/rain', [], { retain: true, qos: 1 });
    await pub.publishAsync('wx/sun', ['soon'], { retain: true, ttl: 1, qos: 1 }); // expires at once
    await pub.close();
    await b1.close();
    const b2 = await scope.broker({ store: await openLmdbStore({ path }) });
    const sub = await scope.connect(b2);
    const got = collect(sub.subscribe$('wx/*'), 1);
    await roundTrip(sub);
    expect((await got.done).map((m) => [m.topic, m.args, m.retained, m.from])).toEqual([['wx/wind', [12], true, 'station']]);
    await roundTrip(sub);
    expect(got.values).toHaveLength(1);
  });
});

describe('retained values and access rights', () => {
  const secret = (name: string): string => `${name}-secret`;

  it('sends a private topic\'s retained value only to authorized subscribers', async () => {
    const security = memorySecurityStore({ admins: ['ops'], keys: { ops: secret('ops'), alice: secret('alice'), eve: secret('eve') } });
    const b = await scope.broker({ security });
    const admin = await loggedIn(rawPeer(await scope.raw(b)), 'ops', secret('ops'));
    expect(await admin.admin('vault', { cmd: 'private_topic' })).toEqual([0, null]);
    expect(await admin.admin('vault', { cmd: 'authorize', cid: 'alice' })).toEqual([0, null]);
    const alice = await scope.connect(b, 'alice', { key: secret('alice') });
    await alice.publishAsync('vault', ['gold'], { retain: true, qos: 1 });
    const eve = await scope.connect(b, 'eve', { key: secret('eve') });
    const forAlice = collect(alice.subscribe$('vault'), 1);
    const forEve = collect(eve.subscribe$('*'), 0);
    expect((await forAlice.done)[0]).toMatchObject({ args: ['gold'], retained: true });
    await roundTrip(alice, eve);
    expect(forEve.values).toEqual([]);
  });

  describe('tenants', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rembus-retained-tenants-'));
      await mkdir(join(dir, 'broker', 'keys'), { recursive: true });
      await writeFile(join(dir, 'broker', 'tenants.json'), JSON.stringify({ t1: '1111', t2: '2222' }));
      for (const name of ['a.t1', 'c.t1', 'b.t2']) await writeFile(join(dir, 'broker', 'keys', name), secret(name));
    });
    afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

    it('sends a retained value only to subscribers of its publisher\'s tenant', async () => {
      const b = await scope.broker({ dataDir: dir });
      const a = await scope.connect(b, 'a.t1', { key: secret('a.t1') });
      await a.publishAsync('news', ['t1 only'], { retain: true, qos: 1 });
      const c = await scope.connect(b, 'c.t1', { key: secret('c.t1') });
      const other = await scope.connect(b, 'b.t2', { key: secret('b.t2') });
      const same = collect(c.subscribe$('news'), 1);
      const foreign = collect(other.subscribe$('**'), 0);
      expect((await same.done)[0]).toMatchObject({ args: ['t1 only'], retained: true, from: 'a.t1' });
      await roundTrip(c, other);
      expect(foreign.values).toEqual([]);
    });
  });
});
