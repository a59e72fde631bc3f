/**
 * Tenants across the brokers of a cluster (README "Security": tenants are isolated for pub/sub,
 * live and replayed; "Cluster": a named component that moves to another broker gets what it
 * missed from the JetStream stream). A publisher of tenant t1 on one broker must not reach a
 * subscriber of tenant t2 on another — live at QoS0 (core NATS) or QoS1 (the stream), nor in
 * the catch-up a broker reads from the stream for a twin that moved to it — while its own
 * tenant's messages do. In process, over a real nats-server with JetStream.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { LastReceived, type Message } from '../../src/index.js';
import { memorySecurityStore, type SecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, useScope, waitFor } from '../integration/helpers.js';
import { useTwinBucket } from './twin-bucket.js';

const scope = useScope();
const bucket = useTwinBucket();
let n = 0;

const NAMES = ['pub.t1', 'mate.t1', 'watch.t1', 'spy.t2', 'pub.t2'];
const secret = (name: string): string => `${name}-secret`;
/** Two isolated tenants, a shared secret for each test name (each broker provisioned alike). */
const provisioned = (): SecurityStore => memorySecurityStore({
  tenants: { t1: '1111', t2: '2222' }, keys: Object.fromEntries(NAMES.map((x) => [x, secret(x)])),
});
const seen = (ms: Message[]): string[] => ms.map((m) => `${m.topic}:${String(m.args[0])}`);

/** A fresh cluster name and a broker of it named `name`. */
function clusterOf(): { name: string; start(broker: string): Promise<Broker> } {
  const name = `tn${process.pid}_${++n}`;
  const cluster = { servers: bucket.urls, name, advertiseInterval: 200 };
  return { name, start: (broker) => scope.broker({ name: broker, cluster, security: provisioned() }) };
}

describe('tenants in a cluster', () => {
  for (const qos of [0, 1] as const) {
    it(`delivers a QoS${qos} publish of another broker only to its publisher's tenant`, async () => {
      const { start } = clusterOf();
      const [a, b] = [await start('a'), await start('b')];
      const proven = (on: Broker, name: string) => scope.connect(on, name, { key: secret(name) });
      const [mate, spy] = [await proven(b, 'mate.t1'), await proven(b, 'spy.t2')];
      const mateGot = collect(mate.subscribe$('news'), 1, { what: 'mate.t1 (b) live' });
      const spyGot = collect(spy.subscribe$('news'), 1, { what: 'spy.t2 (b) live' });
      await roundTrip(mate, spy);
      const [p1, p2] = [await proven(a, 'pub.t1'), await proven(a, 'pub.t2')];
      // b routes a's QoS0 publishes once NATS has its subscription: retry until mate.t1 has one.
      let sent = 0;
      while (mateGot.values.length === 0 && sent < 50) {
        await p1.publishAsync('news', ['for t1'], { qos });
        sent++;
        await waitFor(() => mateGot.values.length > 0, { timeout: 200, interval: 10 }).catch(() => undefined);
      }
      expect(seen(await mateGot.done)).toEqual(['news:for t1']);
      // pub.t2's publish comes after pub.t1's on the same path: once spy.t2 has it, it would have had t1's too.
      await p2.publishAsync('news', ['for t2'], { qos });
      expect(seen(await spyGot.done)).toEqual(['news:for t2']);
      await roundTrip(p1, p2, mate, spy);
      expect(seen(spyGot.values)).toEqual(['news:for t2']);
      expect(new Set(seen(mateGot.values))).toEqual(new Set(['news:for t1']));
    }, 30_000);
  }

  it('replays from a broker\'s own log a QoS0 publish of another broker only to its publisher\'s tenant', async () => {
    const { start } = clusterOf();
    const [a, b] = [await start('a'), await start('b')];
    const proven = (on: Broker, cid: string) => scope.connect(on, cid, { key: secret(cid) });
    const [p1, p2] = [await proven(a, 'pub.t1'), await proven(a, 'pub.t2')];
    const watch = await proven(b, 'watch.t1');
    const watched = collect(watch.subscribe$('news'), 1, { what: 'watch.t1 (b) live' });
    await roundTrip(watch);
    // b routes a's QoS0 publishes once NATS has its subscription: until then, nothing is logged on b.
    for (let i = 0; i < 50 && watched.values.length === 0; i++) {
      await p1.publishAsync('news', ['warm-up']);
      await waitFor(() => watched.values.length > 0, { timeout: 200, interval: 10 }).catch(() => undefined);
    }
    await watched.done;
    // Both subscribers were on b once (LastReceived), then left; their marks are b's log head.
    const connections = b.stats().connections;
    for (const cid of ['spy.t2', 'mate.t1']) {
      const node = await proven(b, cid);
      node.subscribe$('news', { msgfrom: LastReceived }).subscribe();
      await roundTrip(node);
      await node.close();
    }
    await waitFor(() => b.stats().connections === connections, { what: 'the subscribers to leave b' });
    await p1.publishAsync('news', ['for t1']);
    await p2.publishAsync('news', ['for t2']);
    await p1.publishAsync('news', ['sync']); // after both on a's one NATS connection: b has logged both once watch.t1 has it
    await waitFor(() => watched.values.some((m) => m.args[0] === 'sync'), { what: 'b to route them' });
    for (const [cid, own] of [['spy.t2', ['news:for t2']], ['mate.t1', ['news:for t1', 'news:sync']]] as const) {
      const node = await proven(b, cid);
      const got = collect(node.subscribe$('news', { msgfrom: LastReceived }), own.length, { what: `${cid}'s replay on b` });
      expect(seen(await got.done)).toEqual(own);
      await roundTrip(node);
      expect(seen(got.values)).toEqual(own);
    }
  }, 30_000);

  it('replays to a twin that moved brokers only its own tenant\'s messages from the stream', async () => {
    const { name, start } = clusterOf();
    const a = await start('a');
    const proven = (on: Broker, cid: string) => scope.connect(on, cid, { key: secret(cid) });
    const [p1, p2] = [await proven(a, 'pub.t1'), await proven(a, 'pub.t2')];
    // Both subscribers were on a once (LastReceived) and got one message of their own tenant, then left.
    for (const [cid, pub] of [['spy.t2', p2], ['mate.t1', p1]] as const) {
      const node = await proven(a, cid);
      const got = collect(node.subscribe$('news', { msgfrom: LastReceived }), 1, { what: `${cid} on a` });
      await node.ready();
      await pub.publishAsync('news', ['before'], { qos: 1 });
      expect(seen(await got.done)).toEqual(['news:before']);
      await waitFor(async () => (await bucket.record(name, cid))?.seq !== undefined, { timeout: 8_000, interval: 20, what: `${cid}'s mark shared` });
      await node.close();
      await bucket.offlineIn(name, cid);
    }
    await p1.publishAsync('news', ['for t1'], { qos: 1 });
    await p2.publishAsync('news', ['for t2'], { qos: 1 });
    // c joins after both: they are in the stream only, so c's replay of them is the stream catch-up.
    const c = await start('c'); // serves once its watch has the records (twins-load.test.ts)
    for (const [cid, own] of [['spy.t2', 'news:for t2'], ['mate.t1', 'news:for t1']] as const) {
      const node = await proven(c, cid);
      const got = collect(node.subscribe$('news', { msgfrom: LastReceived }), 1, { what: `${cid}'s replay on c` });
      expect(seen(await got.done)).toEqual([own]);
      await roundTrip(node);
      await p1.publishAsync('news', ['after'], { qos: 1 });
      await waitFor(() => got.values.length >= (cid === 'mate.t1' ? 2 : 1), { timeout: 5_000, interval: 20, what: 'a later publish' });
      expect(seen(got.values).filter((s) => s !== 'news:after')).toEqual([own]);
    }
  }, 60_000);
});
