/**
 * Shared subscriptions (issue 17 item 2, README "Shared subscriptions") through a real broker:
 * round robin among members, a member that stops reading is skipped, a member whose link drops
 * with QoS1/2 in flight (QoS1 to another member, QoS2 back to it: none lost, none twice), join
 * and leave under load, the `$share/<group>/<pattern>` spelling of reference peers (raw frames).
 */
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { filter, firstValueFrom, lastValueFrom, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import type { Component, Message } from '../../src/index.js';
import type { Msg, PubMsg, ResponseMsg } from '../../src/protocol/messages.js';
import { mqttComponent } from '../../src/mqtt/index.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { collect, rawRequest, roundTrip, useScope, waitFor, type RawClient } from './helpers.js';
import { MOSQUITTO, mosquittoBroker, settle } from './mqtt-helpers.js';

const scope = useScope();
let nextId = 1n;

const request = (raw: RawClient, msg: Msg): Promise<ResponseMsg> => rawRequest(raw, msg as Msg & { id: bigint });

async function rawMember(b: Broker, topic: string, cid?: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  if (cid !== undefined) expect((await request(raw, { type: 'identity', id: nextId++, cid })).status).toBe(0);
  const reply = await request(raw, { type: 'admin', id: nextId++, topic, cmd: { cmd: 'subscribe', msg_from: 0 } });
  expect(reply.status).toBe(0);
  return raw;
}

/** The PUB frames a raw client received so far. */
const pubsOf = (raw: RawClient): PubMsg[] =>
  raw.frames.map((f) => decodeCbor(f as Uint8Array)).filter((m): m is PubMsg => m.type === 'pub');

const numbers = (messages: readonly Message[]): number[] => messages.map((m) => m.args[0] as number);

async function publishAll(c: Component, topic: string, n: number, qos: 0 | 1 | 2, from = 0): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => lastValueFrom(c.publish$(topic, [from + i], { qos }), { defaultValue: undefined })));
}

describe('subscribe$ with a group', () => {
  it('gives each message to one member, round robin, and every plain subscriber its copy', async () => {
    const b = await scope.broker();
    const [m1, m2, m3, plain, pub] = await scope.connectAll(b, 'm1', 'm2', 'm3', 'plain', 'pub');
    const got = [m1, m2, m3].map((m) => collect(m.subscribe$('jobs', { group: 'workers' }), 3));
    const all = collect(plain.subscribe$('jobs'), 9);
    await roundTrip(m1, m2, m3, plain);
    for (let i = 0; i < 9; i++) pub.publish('jobs', i);
    const [a, b2, c] = await Promise.all(got.map((g) => g.done));
    expect(numbers(a!)).toEqual([0, 3, 6]);
    expect(numbers(b2!)).toEqual([1, 4, 7]);
    expect(numbers(c!)).toEqual([2, 5, 8]);
    expect(a![0]).toMatchObject({ topic: 'jobs', pattern: 'jobs', qos: 0 });
    expect(numbers(await all.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await roundTrip(pub, m1, m2, m3);
    expect(got.map((g) => g.values.length)).toEqual([3, 3, 3]);
  });

  it('gives each message matching a wildcard pattern to one member, with its topic', async () => {
    const b = await scope.broker();
    const [m1, m2, pub] = await scope.connectAll(b, 'w1', 'w2', 'pub');
    const got = [m1, m2].map((m) => collect(m.subscribe$('plant/*/alarm', { group: 'ops' }), 2));
    await roundTrip(m1, m2);
    for (let i = 0; i < 4; i++) await lastValueFrom(pub.publish$(`plant/${i}/alarm`, [i], { qos: 1 }), { defaultValue: undefined });
    const received = (await Promise.all(got.map((g) => g.done))).flat();
    expect(received.map((m) => m.topic).sort()).toEqual(['plant/0/alarm', 'plant/1/alarm', 'plant/2/alarm', 'plant/3/alarm']);
    expect(received.every((m) => m.pattern === 'plant/*/alarm' && m.qos === 1 && m.args[0] === Number(m.topic.split('/')[1]))).toBe(true);
  });

  it('lets a reference peer join with $share in subscribe or setup (JL), and leave with unsubscribe', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', id: nextId++, cid: 'jl' })).status).toBe(0);
    const setup = await request(raw, { type: 'admin', id: nextId++, topic: '__config__',
      cmd: { cmd: 'setup', exposers: [], subscribers: ['$share/w/jobs/*'] } });
    expect(setup.status).toBe(0);
    pub.publish('jobs/1', 'a', 1);
    await waitFor(() => pubsOf(raw).length === 1, { what: 'the group copy' });
    expect(pubsOf(raw)[0]).toMatchObject({ topic: '$share/w/jobs/*', flags: 0, args: ['jobs/1', 'a', 1] });
    const left = await request(raw, { type: 'admin', id: nextId++, topic: '$share/w/jobs/*', cmd: { cmd: 'unsubscribe' } });
    expect(left.status).toBe(0);
    pub.publish('jobs/2', 'b');
    await roundTrip(pub);
    const bad = await request(raw, { type: 'admin', id: nextId++, topic: '$share/w', cmd: { cmd: 'subscribe', msg_from: 0 } });
    expect(bad.status).toBe(10);
    expect(pubsOf(raw)).toHaveLength(1);
  });

  it('refuses a group with a msg_from: group messages are not replayed', async () => {
    const b = await scope.broker();
    const c = await scope.connect(b, 'late');
    await expect(firstValueFrom(c.subscribe$('jobs', { group: 'w', msgfrom: 1e9 }))).rejects.toThrow(/no msg_from/);
  });

  it('keeps QoS1/2 messages while no member is online and gives them to the first that joins', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const m1 = await scope.connect(b, 'm1');
    const first = m1.subscribe$('jobs', { group: 'w' }).subscribe();
    await roundTrip(m1);
    await m1.close(); // m1 stays a member (named) while offline: the group lives on
    await waitFor(() => b.stats().connections === 1, { what: 'm1 to be offline' });
    await publishAll(pub, 'jobs', 5, 2);
    pub.publish('jobs', 99); // QoS0 with no member online: dropped
    await roundTrip(pub);
    first.unsubscribe();
    const m2 = await scope.connect(b, 'm2');
    const got = collect(m2.subscribe$('jobs', { group: 'w' }), 5);
    expect(numbers(await got.done).sort()).toEqual([0, 1, 2, 3, 4]);
    await roundTrip(pub, m2);
    expect(got.values).toHaveLength(5);
  });
});

describe('shared subscriptions with publish options', () => {
  it('gives nobody a QoS1 message whose ttl passed while it waited for a member; others wait on', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const m1 = await scope.connect(b, 'm1');
    const first = m1.subscribe$('jobs', { group: 'w' }).subscribe();
    await roundTrip(m1);
    await m1.close();
    await waitFor(() => b.stats().connections === 1, { what: 'm1 to be offline' });
    const deadline = Date.now() + 50;
    await pub.publishAsync('jobs', ['short-lived'], { qos: 1, ttl: 50 });
    await pub.publishAsync('jobs', ['long-lived'], { qos: 1, ttl: 60_000 });
    await pub.publishAsync('jobs', ['forever'], { qos: 1 });
    await waitFor(() => Date.now() > deadline + 20, { timeout: 5_000, what: 'the ttl to pass' });
    first.unsubscribe();
    const m2 = await scope.connect(b, 'm2', { metadata: true });
    const got = collect(m2.subscribe$('jobs', { group: 'w' }), 2);
    const [a, c] = await got.done;
    expect([a!.args[0], c!.args[0]]).toEqual(['long-lived', 'forever']);
    // A group copy carries the metadata a plain one does, for a component that asked.
    expect([a!.from, c!.from]).toEqual(['pub', 'pub']);
    await roundTrip(pub, m2);
    expect(got.values).toHaveLength(2);
  });
});

describe('shared subscriptions and authorization', () => {
  const secret = (name: string): string => `${name}-secret`;
  const proven = (b: Broker, name: string) => scope.connect(b, name, { key: secret(name) });

  it('never crosses tenants and skips members not authorized for a private topic', async () => {
    const names = ['pub.t1', 'a.t1', 'b.t1', 'x.t2', 'pub.t2'];
    const b = await scope.broker({ security: memorySecurityStore({
      tenants: { t1: '1111', t2: '2222' }, topicAuth: { jobs: names.filter((n) => n !== 'b.t1') },
      keys: Object.fromEntries(names.map((n) => [n, secret(n)])) }) });
    const [pub1, a, b1, x, pub2] = await Promise.all(names.map((n) => proven(b, n)));
    const got = new Map<string, number[]>();
    for (const [name, c] of [['a', a], ['b', b1], ['x', x]] as const) {
      got.set(name, []);
      c!.subscribe$('jobs', { group: 'w' }).subscribe((m) => got.get(name)!.push(m.args[0] as number));
    }
    await roundTrip(a!, b1!, x!);
    await publishAll(pub1!, 'jobs', 6, 1);
    await publishAll(pub2!, 'jobs', 3, 1, 100);
    await roundTrip(pub1!, pub2!, a!, b1!, x!);
    // t1's publishes go to a.t1 only (b.t1 may not read the private topic), t2's to x.t2 only.
    expect(got.get('a')).toEqual(range(6));
    expect(got.get('b')).toEqual([]);
    expect(got.get('x')).toEqual(range(3, 100));
  });

  it('lets one component hold a plain and a group subscription of one pattern, each its own stream', async () => {
    const b = await scope.broker();
    const [both, other, pub] = await scope.connectAll(b, 'both', 'other', 'pub');
    const plain = collect(both.subscribe$('jobs'), 4);
    const mine = collect(both.subscribe$('jobs', { group: 'w' }), 2);
    const theirs = collect(other.subscribe$('jobs', { group: 'w' }), 2);
    await roundTrip(both, other);
    for (let i = 0; i < 4; i++) pub.publish('jobs', i);
    expect(numbers(await plain.done)).toEqual(range(4));
    expect(sorted([...numbers(await mine.done), ...numbers(await theirs.done)])).toEqual(range(4));
    await roundTrip(pub, both, other);
    expect([plain.values.length, mine.values.length, theirs.values.length]).toEqual([4, 2, 2]);
  });
});

describe('shared subscriptions under faults', () => {
  it('skips a member that stops acknowledging and gives its unacknowledged messages to another', async () => {
    const b = await scope.broker({ maxInflight: 4, ackTimeout: 100, sendRetries: 1 });
    const [m1, pub] = await scope.connectAll(b, 'm1', 'pub');
    const got = collect(m1.subscribe$('jobs', { group: 'w' }), 40, { timeout: 8_000 });
    // A reference peer joins with the `$share` spelling, reads nothing more and never ACKs.
    const stuck = await rawMember(b, '$share/w/jobs');
    stuck.pause();
    await roundTrip(m1);
    await publishAll(pub, 'jobs', 40, 1);
    expect(numbers(await got.done).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    stuck.resume();
    await waitFor(() => pubsOf(stuck).length > 0, { what: 'the frames the stuck member was sent' });
    const frames = pubsOf(stuck);
    // The window (4) filled, then it was skipped; its copies carry the group's spelling and QoS1.
    expect(frames.length).toBeGreaterThan(0);
    expect(new Set(frames.map((f) => f.args[0])).size).toBeLessThanOrEqual(4);
    expect(frames.every((f) => f.topic === '$share/w/jobs' && (f.flags & 0x30) === 0x10)).toBe(true);
  });

  it('gives QoS1 in flight to a member whose link drops to another, and QoS2 back to it on rejoin: none lost, none twice', async () => {
    const b = await scope.broker({ ackTimeout: 30_000 });
    const [m1, pub] = await scope.connectAll(b, 'm1', 'pub');
    const got = collect(m1.subscribe$('jobs', { group: 'w' }), 20, { timeout: 8_000 });
    const raw = await rawMember(b, '$share/w/jobs', 'r1');
    await roundTrip(m1);
    await Promise.all([publishAll(pub, 'jobs', 10, 1), publishAll(pub, 'jobs', 10, 2, 100)]);
    await waitFor(() => pubsOf(raw).length + got.values.length >= 20, { what: 'every message to reach a member' });
    const rawFirst = pubsOf(raw);
    expect(rawFirst.length).toBeGreaterThan(0);
    await raw.close(); // never acknowledged anything
    // Its QoS1 messages go to m1 now; its QoS2 ones wait for r1 (they may have reached its application).
    const rawQos2 = rawFirst.filter((p) => (p.flags & 0x30) === 0x30).map((p) => p.args[0] as number);
    const rawQos1 = rawFirst.filter((p) => (p.flags & 0x30) === 0x10).map((p) => p.args[0] as number);
    await waitFor(() => rawQos1.every((n) => numbers(got.values).includes(n)), { what: 'QoS1 redelivered to m1' });
    const back = await rawMember(b, '$share/w/jobs', 'r1');
    await waitFor(() => pubsOf(back).length >= rawQos2.length, { what: 'QoS2 sent again to r1' });
    const again = pubsOf(back);
    expect(again.map((p) => p.args[0]).sort()).toEqual([...rawQos2].sort());
    expect(again.map((p) => p.id).sort()).toEqual(rawFirst.filter((p) => (p.flags & 0x30) === 0x30).map((p) => p.id).sort());
    for (const p of again) back.sendBinary(encodeCbor({ type: 'ack', id: p.id! }));
    await roundTrip(pub, m1);
    const m1Numbers = numbers(got.values);
    const all = [...m1Numbers, ...rawQos2];
    const expected = [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 100 + i)];
    expect([...new Set(all)].sort((x, y) => x - y)).toEqual(expected);
    // Exactly once for QoS2: no QoS2 message reached both r1 and m1, nor m1 twice.
    const m1Qos2 = m1Numbers.filter((n) => n >= 100);
    expect(m1Qos2.filter((n) => rawQos2.includes(n))).toEqual([]);
    expect(new Set(m1Qos2).size).toBe(m1Qos2.length);
  });

  it('never gives a QoS2 message transmitted to an anonymous member whose link dropped to another', async () => {
    const b = await scope.broker({ ackTimeout: 30_000 });
    const [m1, pub] = await scope.connectAll(b, 'm1', 'pub');
    const got = collect(m1.subscribe$('jobs', { group: 'w' }), 5);
    const raw = await rawMember(b, '$share/w/jobs'); // anonymous, never ACKs
    await roundTrip(m1);
    await publishAll(pub, 'jobs', 10, 2);
    await waitFor(() => pubsOf(raw).length + got.values.length >= 10, { what: 'all 10 to reach a member' });
    const rawNumbers = pubsOf(raw).map((p) => p.args[0] as number);
    expect(rawNumbers).toHaveLength(5);
    await raw.close();
    await waitFor(() => b.stats().connections === 2, { what: 'the raw member to be gone' });
    await roundTrip(pub, m1);
    // It may have reached the application over there: given up (MQTT 5 §4.8.2), not duplicated here.
    expect(numbers(got.values).filter((n) => rawNumbers.includes(n))).toEqual([]);
    expect(got.values).toHaveLength(5);
  });

  it('keeps at most outboxCapacity messages waiting in a group, dropping the oldest', async () => {
    const b = await scope.broker({ outboxCapacity: 3 });
    const pub = await scope.connect(b, 'pub');
    const m1 = await scope.connect(b, 'm1');
    m1.subscribe$('jobs', { group: 'w' }).subscribe();
    await roundTrip(m1);
    await m1.close();
    await waitFor(() => b.stats().connections === 1, { what: 'm1 to be offline' });
    await publishAll(pub, 'jobs', 5, 1);
    const m2 = await scope.connect(b, 'm2');
    const got = collect(m2.subscribe$('jobs', { group: 'w' }), 3);
    expect(numbers(await got.done).sort()).toEqual([2, 3, 4]);
    await roundTrip(pub, m2);
    expect(got.values).toHaveLength(3);
  });

  it('delivers every QoS2 message exactly once while members join and leave under load', async () => {
    const b = await scope.broker({ ackTimeout: 150, sendRetries: 2 });
    const [stable, pub] = await scope.connectAll(b, 'stable', 'pub');
    const seen: number[] = [];
    const keep = stable.subscribe$('load', { group: 'w' }).subscribe((m) => seen.push(m.args[0] as number));
    const churners = await scope.connectAll(b, 'c1', 'c2');
    await roundTrip(stable);
    const N = 600;
    const batches: Promise<void>[] = [];
    let churned = 0;
    for (let round = 0; round < 6; round++) {
      const subs = churners.map((c) => c.subscribe$('load', { group: 'w' }).subscribe((m) => { churned++; seen.push(m.args[0] as number); }));
      await roundTrip(...churners); // joined
      // A batch in flight while the churners leave: what they had not acknowledged goes to another member.
      batches.push(publishAll(pub, 'load', N / 6, 2, round * (N / 6)));
      await new Promise((r) => setTimeout(r, 2 * round));
      for (const s of subs) s.unsubscribe();
    }
    await Promise.all(batches);
    await waitFor(() => new Set(seen).size >= N, { timeout: 10_000, what: `all ${N} messages (got ${new Set(seen).size})` });
    await roundTrip(pub, stable, ...churners);
    expect(seen).toHaveLength(N); // none twice
    expect(churned).toBeGreaterThan(0); // the members that came and went did take part
    keep.unsubscribe();
  });
});

/** A raw MQTT 5 client in a `$share` group, recording the numbers it receives. */
async function mqttMember(url: string, shareFilter: string): Promise<{ client: MqttClient; got: number[] }> {
  const client = mqttConnect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  scope.track({ close: () => client.endAsync() });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  const got: number[] = [];
  client.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString('utf8')) as number));
  await client.subscribeAsync(shareFilter, { qos: 1 });
  return { client, got };
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((x, y) => x - y);
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

// Skipped only where no mosquitto binary exists (.ci/run installs it).
describe.skipIf(MOSQUITTO === undefined)('shared subscriptions over MQTT (Mosquitto)', () => {
  it('maps subscribe$ with a group of mqtt:// components to a $share subscription', async () => {
    const mqtt = scope.track(await mosquittoBroker());
    const [m1, m2, plain, pub] = ['m1', 'm2', 'plain', 'pub'].map((n) => scope.track(mqttComponent(`${mqtt.url}/${n}`)));
    await Promise.all([m1, m2, plain, pub].map((c) => c!.ready()));
    const members = [m1, m2].map((m) => collect(m!.subscribe$('jobs', { group: 'w' }), 1, { timeout: 8_000 }));
    const all = collect(plain!.subscribe$('jobs'), 10);
    await settle(m1!, m2!, plain!);
    await publishAll(pub!, 'jobs', 10, 1);
    expect(numbers(await all.done)).toEqual(range(10));
    await waitFor(() => members.reduce((n, m) => n + m.values.length, 0) >= 10, { what: 'the group to get all 10' });
    await settle(pub!, m1!, m2!);
    const got = members.flatMap((m) => numbers(m.values));
    expect(sorted(got)).toEqual(range(10)); // each once, to one member
    expect(members.every((m) => m.values.length > 0)).toBe(true);
    expect(members[0]!.values[0]).toMatchObject({ topic: 'jobs', pattern: 'jobs' });
  });

  it('gives one copy to the group on each side of the MQTT bridge, either way', async () => {
    const mqtt = scope.track(await mosquittoBroker());
    const b = await scope.broker({ mqtt: mqtt.url });
    await firstValueFrom(b.links$.pipe(filter((l) => l.length > 0 && l.every((x) => x.status.type === 'up')), timeout(5_000)));
    const [r1, r2, pub] = await scope.connectAll(b, 'r1', 'r2', 'pub');
    const rembusSide: number[] = [];
    for (const r of [r1, r2]) r.subscribe$('jobs', { group: 'w' }).subscribe((m) => rembusSide.push(m.args[0] as number));
    await roundTrip(r1, r2);
    const q = [await mqttMember(mqtt.url, '$share/w/jobs'), await mqttMember(mqtt.url, '$share/w/jobs')];
    const mqttSide = (): number[] => q.flatMap((m) => m.got);
    // From the Rembus side: the Rembus group gets one copy, the bridge forwards one to MQTT's group.
    await publishAll(pub, 'jobs', 10, 1);
    await waitFor(() => rembusSide.length >= 10 && mqttSide().length >= 10, { what: 'both groups to get 10' });
    // From the MQTT side.
    const sender = (await mqttMember(mqtt.url, 'unrelated')).client;
    for (const n of range(10, 100)) await sender.publishAsync('jobs', JSON.stringify(n), { qos: 1 });
    await waitFor(() => rembusSide.length >= 20 && mqttSide().length >= 20, { what: 'both groups to get 20' });
    await roundTrip(pub, r1, r2);
    expect(sorted(rembusSide)).toEqual([...range(10), ...range(10, 100)]);
    expect(sorted(mqttSide())).toEqual([...range(10), ...range(10, 100)]);
  });
});
