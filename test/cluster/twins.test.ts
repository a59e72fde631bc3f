/**
 * Twins shared across the brokers of a cluster (issue 19 item 2), in process, over a real
 * nats-server with JetStream: a named component that moves to another broker gets exactly what
 * it missed (no gap, no duplicate, in order), its subscriptions and mark travel in the KV bucket
 * `REMBUS_<c>_TWINS`, and a broker keeps serving logins when NATS is gone.
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { component, LastReceived, type Component, type Message } from '../../src/index.js';
import { twinKey, type SharedTwin } from '../../src/cluster/twin-kv.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { collect, useScope, waitFor } from '../integration/helpers.js';
import { startNats } from './nats.js';
import { useTwinBucket } from './twin-bucket.js';

const scope = useScope();
const bucket = useTwinBucket();
let n = 0;

/** Brokers a, b, c of a fresh cluster. */
async function trio(): Promise<{ name: string; a: Broker; b: Broker; c: Broker }> {
  const name = `tw${process.pid}_${++n}`;
  const cluster = { servers: bucket.urls, name, advertiseInterval: 200 };
  const [a, b, c] = [await scope.broker({ name: 'a', cluster }), await scope.broker({ name: 'b', cluster }),
    await scope.broker({ name: 'c', cluster })];
  return { name, a, b, c };
}

const extra: Component[] = [];
afterEach(async () => { await Promise.all(extra.splice(0).map((x) => x.close())); });

/**
 * `cid` on `url`, subscribed to `topic` (LastReceived) before its login, as a component that
 * reconnects has it: the subscription is re-declared before the login's `reactive`.
 */
function named(url: string, cid: string, topic: string, n: number, timeout = 5_000, key?: string): { c: Component; got: ReturnType<typeof collect<Message>> } {
  const c = component(`${url}/${cid}`, key === undefined ? {} : { key });
  extra.push(c);
  return { c, got: collect(c.subscribe$(topic, { msgfrom: LastReceived }), n, { timeout }) };
}

const numbers = (ms: { args: unknown[] }[]): number[] => ms.map((m) => m.args[0] as number);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('twins across brokers', () => {
  for (const qos of [1, 2] as const) {
    it(`QoS${qos}: a subscriber that moves from broker a to broker c gets exactly what was published on b meanwhile`, async () => {
      const { name, a, b, c } = await trio();
      const pub = await scope.connect(b, 'pub');
      const first = await scope.connect(a, 'mover');
      const got1 = collect(first.subscribe$('t', { msgfrom: LastReceived }), 5);
      await first.ready();
      for (const v of range(1, 5)) await pub.publishAsync('t', [v], { qos });
      expect(numbers(await got1.done)).toEqual(range(1, 5));
      await waitFor(async () => (await bucket.record(name, 'mover'))?.seq === 5, { timeout: 8_000, interval: 20, what: 'mark 5 shared' });
      await first.close();
      await bucket.offlineIn(name, 'mover');
      for (const v of range(6, 10)) await pub.publishAsync('t', [v], { qos });

      const { c: again, got: got2 } = named(c.url!, 'mover', 't', 7);
      await again.ready();
      for (const v of range(11, 12)) await pub.publishAsync('t', [v], { qos });
      expect(numbers(await got2.done)).toEqual(range(6, 12));
      // Nothing more arrives (no duplicate of 1..5 nor of 6..12).
      await pub.publishAsync('t', [13], { qos });
      await waitFor(() => got2.values.length >= 8, { timeout: 5_000, interval: 20, what: '13 delivered' }).catch(() => undefined);
      expect(numbers(got2.values)).toEqual(range(6, 13));
    }, 30_000);
  }

  it('a move under a running publisher: old then new with no gap and no duplicate at the boundary', async () => {
    const { name, a, b, c } = await trio();
    const pub = await scope.connect(b, 'pub');
    const first = await scope.connect(a, 'mover');
    const seen: number[] = [];
    first.subscribe$('t', { msgfrom: LastReceived }).subscribe((m) => seen.push(m.args[0] as number));
    await first.ready();
    let next = 1;
    let running = true;
    const load = (async () => {
      while (running) await pub.publishAsync('t', [next++], { qos: 1 });
    })();
    await waitFor(() => seen.length >= 50, { timeout: 15_000, interval: 10, what: '50 delivered on a' });
    await first.close();
    await bucket.offlineIn(name, 'mover');
    const again = component(`${c.url!}/mover`);
    extra.push(again);
    again.subscribe$('t', { msgfrom: LastReceived }).subscribe((m) => seen.push(m.args[0] as number));
    await again.ready();
    const resumedAt = next;
    await waitFor(() => next > resumedAt + 50, { timeout: 15_000, interval: 10, what: '50 more published' });
    running = false;
    await load;
    const last = next - 1;
    await waitFor(() => seen.at(-1) === last, { timeout: 10_000, interval: 20, what: `message ${last} delivered on c` });
    expect(seen).toEqual(range(1, last));
  }, 40_000);

  it('a broker that joined after the twin\'s mark replays what it never routed from the JetStream stream, then its log, then live', async () => {
    const name = `late${process.pid}_${++n}`;
    const cluster = { servers: bucket.urls, name, advertiseInterval: 200 };
    const a = await scope.broker({ name: 'a', cluster });
    const b = await scope.broker({ name: 'b', cluster });
    const pub = await scope.connect(b, 'pub');
    const first = named(a.url!, 'late', 't', 3);
    await first.c.ready();
    for (const v of range(1, 3)) await pub.publishAsync('t', [v], { qos: 2 });
    expect(numbers(await first.got.done)).toEqual(range(1, 3));
    await waitFor(async () => (await bucket.record(name, 'late'))?.seq === 3, { timeout: 8_000, interval: 20, what: 'mark 3 shared' });
    await first.c.close();
    await bucket.offlineIn(name, 'late');
    for (const v of range(4, 6)) await pub.publishAsync('t', [v], { qos: 1 });
    const c = await scope.broker({ name: 'c', cluster }); // joins after 6: never routed 4..6
    await pub.publishAsync('t', [7], { qos: 2 });
    const again = named(c.url!, 'late', 't', 5);
    await again.c.ready();
    await pub.publishAsync('t', [8], { qos: 1 });
    expect(numbers(await again.got.done)).toEqual(range(4, 8));
    await waitFor(async () => (await bucket.record(name, 'late'))?.seq === 8, { timeout: 8_000, interval: 20, what: 'mark 8 shared by c' });
    expect(numbers(again.got.values)).toEqual(range(4, 8));
  }, 30_000);

  it('a new component instance that subscribes only after its login on another broker gets the QoS2 messages it missed, once', async () => {
    const { name, a, b, c } = await trio();
    const pub = await scope.connect(b, 'pub');
    const first = await scope.connect(a, 'fresh');
    const got1 = collect(first.subscribe$('t', { msgfrom: LastReceived }), 1);
    await pub.publishAsync('t', [1], { qos: 2 });
    await got1.done;
    await first.close();
    await bucket.offlineIn(name, 'fresh');
    for (const v of [2, 3]) await pub.publishAsync('t', [v], { qos: 2 });
    // Its twin's replay (from `reactive`) may reach it before this subscription exists: the
    // component must not remember those ids, or the subscription's own replay would be dropped.
    const again = await scope.connect(c, 'fresh');
    const got2 = collect(again.subscribe$('t', { msgfrom: LastReceived }), 2);
    expect(numbers(await got2.done)).toEqual([2, 3]);
  }, 30_000);

  it('a component claiming a name it cannot prove on another broker gets none of the twin\'s messages; the owner then gets them all', async () => {
    const name = `own${process.pid}_${++n}`;
    const cluster = { servers: bucket.urls, name, advertiseInterval: 200 };
    // Every broker provisioned with the owner's secret (each its own store, as each its own data dir).
    const provisioned = (): ReturnType<typeof memorySecurityStore> => memorySecurityStore({ keys: { owner: 'the-secret' } });
    const a = await scope.broker({ name: 'a', cluster, security: provisioned() });
    const b = await scope.broker({ name: 'b', cluster, security: provisioned() });
    const c = await scope.broker({ name: 'c', cluster, security: provisioned() });
    const pub = await scope.connect(b, 'pub');
    const first = component(`${a.url!}/owner`, { key: 'the-secret' });
    extra.push(first);
    const got1 = collect(first.subscribe$('t', { msgfrom: LastReceived }), 1);
    await first.ready();
    await pub.publishAsync('t', [1], { qos: 1 });
    await got1.done;
    await first.close();
    await bucket.offlineIn(name, 'owner');
    await pub.publishAsync('t', [2], { qos: 1 });
    for (const key of [undefined, 'a-guess']) {
      const impostor = component(`${c.url!}/owner`, { ...(key === undefined ? {} : { key }), reconnect: { maxRetries: 0 } });
      extra.push(impostor);
      const stolen = collect(impostor.subscribe$('t', { msgfrom: LastReceived }), 1, { timeout: 1_500 });
      await expect(impostor.ready()).rejects.toThrow();
      await expect(stolen.done).rejects.toThrow();
      expect(stolen.values).toEqual([]);
    }
    const owner = component(`${c.url!}/owner`, { key: 'the-secret' });
    extra.push(owner);
    const got2 = collect(owner.subscribe$('t', { msgfrom: LastReceived }), 1);
    await owner.ready();
    await pub.publishAsync('t', [3], { qos: 1 });
    await waitFor(() => got2.values.length >= 2, { timeout: 5_000, interval: 20, what: '2 and 3' });
    expect(numbers(got2.values)).toEqual([2, 3]);
  }, 30_000);

  it('a subscription declared while the component fails over from a closed broker replays from the twin\'s shared mark', async () => {
    const { name, a, b, c } = await trio();
    const pub = await scope.connect(b, 'pub');
    const roamer = component([`${a.url!}/roamer`, c.url!], { reconnect: { initialDelay: 50, maxDelay: 200 } });
    extra.push(roamer);
    const gotT = collect(roamer.subscribe$('t', { msgfrom: LastReceived }), 4);
    await roamer.ready();
    await pub.publishAsync('t', [1], { qos: 1 });
    await waitFor(() => gotT.values.length === 1, { timeout: 5_000, interval: 20, what: 't 1' });
    await waitFor(async () => (await bucket.record(name, 'roamer'))?.seq === 1, { timeout: 8_000, interval: 20, what: 'mark 1 shared' });
    await a.close(); // its components fail over to c
    await pub.publishAsync('u', [2], { qos: 1 });
    await pub.publishAsync('t', [3], { qos: 1 });
    // Declared during the failover (queued for the login on c, or sent right after it): replayed from the shared mark.
    const gotU = collect(roamer.subscribe$('u', { msgfrom: LastReceived }), 2, { timeout: 10_000 });
    await pub.publishAsync('t', [4], { qos: 1 });
    await pub.publishAsync('u', [5], { qos: 1 });
    await waitFor(() => gotT.values.length >= 3, { timeout: 10_000, interval: 20, what: 't 3 and 4' });
    expect(numbers(await gotU.done)).toEqual([2, 5]);
    await pub.publishAsync('t', [6], { qos: 1 });
    expect(numbers(await gotT.done)).toEqual([1, 3, 4, 6]);
  }, 30_000);

  it('takes over the subscriptions from KV: a twin that declares nothing on the new broker still gets its messages', async () => {
    const { name, a, b, c } = await trio();
    const pub = await scope.connect(b, 'pub');
    const first = await scope.connect(a, 'keeper');
    const got1 = collect(first.subscribe$('k/*', { msgfrom: LastReceived }), 1);
    await first.ready();
    await pub.publishAsync('k/1', [1], { qos: 1 });
    await got1.done;
    await first.close();
    await bucket.offlineIn(name, 'keeper');
    expect((await bucket.record(name, 'keeper'))?.subs).toEqual([['k/*', null]]);
    await pub.publishAsync('k/2', [2], { qos: 1 });
    // Logs in on c declaring nothing: c takes the subscriptions over from KV (and writes them back as its own).
    const again = component(`${c.url!}/keeper`);
    try {
      await again.ready();
      await waitFor(async () => (await bucket.record(name, 'keeper'))?.b.startsWith('c-') === true,
        { timeout: 8_000, interval: 20, what: 'keeper written by c' });
      expect((await bucket.record(name, 'keeper'))?.subs).toEqual([['k/*', null]]);
      const got2 = collect(again.subscribe$('k/*', { msgfrom: LastReceived }), 2);
      await pub.publishAsync('k/3', [3], { qos: 1 });
      expect(numbers(await got2.done)).toEqual([2, 3]);
    } finally {
      await again.close();
    }
  }, 30_000);

  it('the same name logging in on another broker while online on the first starts from the shared mark', async () => {
    const { name, a, b, c } = await trio();
    const pub = await scope.connect(b, 'pub');
    const onA = await scope.connect(a, 'dup');
    const gotA = collect(onA.subscribe$('d', { msgfrom: LastReceived }), 2);
    await onA.ready();
    await pub.publishAsync('d', [1], { qos: 1 });
    await pub.publishAsync('d', [2], { qos: 1 });
    expect(numbers(await gotA.done)).toEqual([1, 2]);
    // The same name on another broker while online on a (brokers check names only locally): its
    // replay starts from the shared mark, so it does not get 1 and 2 again.
    await waitFor(async () => (await bucket.record(name, 'dup'))?.seq === 2, { timeout: 8_000, interval: 20, what: 'mark 2 shared' });
    const onC = await scope.connect(c, 'dup');
    const gotC = collect(onC.subscribe$('d', { msgfrom: LastReceived }), 1);
    await onC.ready();
    await pub.publishAsync('d', [3], { qos: 1 });
    expect(numbers(await gotC.done)).toEqual([3]);
  }, 30_000);
});

// A login with NATS gone needs a name the broker can check alone: the shared provisioning fails
// closed (README "Security in a cluster"), a key in the broker's own store counts first.
describe('twins when NATS is gone', () => {
  it('a replay from the stream that JetStream does not answer is given up after a bound: live delivery goes on, no hang', async () => {
    const own = await startNats(1);
    try {
      const name = `gap${process.pid}`;
      const cluster = { servers: own.urls, name };
      const keyed = (): ReturnType<typeof memorySecurityStore> => memorySecurityStore({ keys: { stuck: 'its-secret' } });
      const a = await scope.broker({ name: 'a', cluster, security: keyed() });
      const pub = await scope.connect(a, 'pub');
      const first = named(a.url!, 'stuck', 't', 1, 5_000, 'its-secret');
      await first.c.ready();
      await pub.publishAsync('t', [1], { qos: 1 });
      await first.got.done;
      const kvNc = await natsConnect({ servers: own.urls });
      const kv = await new Kvm(kvNc).open(`REMBUS_${name}_TWINS`);
      const shared = async (): Promise<SharedTwin | undefined> => (await kv.get(twinKey('stuck')))?.json<SharedTwin>();
      await waitFor(async () => (await shared())?.seq === 1, { timeout: 8_000, interval: 20, what: 'mark 1 shared' });
      await first.c.close();
      await waitFor(async () => (await shared())?.on === false, { timeout: 8_000, interval: 20, what: 'offline in KV' });
      await kvNc.close();
      await pub.publishAsync('t', [2], { qos: 1 });
      // Joined after 2: 2 is only in the stream. Its start waits until its watch has the twin's record (twins-load.test.ts).
      const c = await scope.broker({ name: 'c', cluster, security: keyed() });
      await own.kill(own.nodes[0]!);
      const started = Date.now();
      const again = named(c.url!, 'stuck', 't', 1, 15_000, 'its-secret');
      await again.c.ready();
      expect(Date.now() - started).toBeLessThan(3_000);
      c.publish('t', 3); // QoS0, local: held behind the replay that cannot read the stream
      expect(numbers(await again.got.done)).toEqual([3]);
    } finally {
      await own.close();
    }
  }, 40_000);

  it('a broker whose NATS server died still logs components in and answers at once (its own twin: fallback)', async () => {
    const own = await startNats(1);
    try {
      const name = `gone${process.pid}`;
      const b = await scope.broker({ name: 'g', cluster: { servers: own.urls, name }, security: memorySecurityStore({ keys: { lone: 'its-secret' } }) });
      const first = await scope.connect(b, 'lone', { key: 'its-secret' });
      await first.ready();
      await first.close();
      await own.kill(own.nodes[0]!);
      const started = Date.now();
      const again = await scope.connect(b, 'lone', { key: 'its-secret' });
      const got = collect(again.subscribe$('x', { msgfrom: LastReceived }), 1);
      await again.ready();
      // QoS0 stays local when NATS is down; delivered from this broker.
      b.publish('x', 1);
      expect(numbers(await got.done)).toEqual([1]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await own.close();
    }
  }, 30_000);
});
