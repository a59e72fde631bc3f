/**
 * The one-hour replay limit (README "Delivery guarantees": "at most one hour back (PY's replay
 * window)"), attacked the way a user would: a component away longer than an hour, a `period`
 * longer than an hour, messages just inside and just outside the hour. The log is filled with
 * rows received in the past (the store is what a broker restarted on an old data dir reads), then
 * a real broker serves a real component over WebSocket. Margins are minutes wide, so a loaded
 * machine cannot move a row across the boundary between the write and the replay.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore, type StoredMessage } from '../../src/broker/index.js';
import { component, LastReceived, period, type Message } from '../../src/index.js';
import { decodeCbor, encodeCbor as encodeFrame, encodeValue } from '../../src/codec/index.js';
import type { Msg, PubMsg } from '../../src/protocol/messages.js';
import { collect, rawRequest, roundTrip, useScope, type RawClient } from './helpers.js';

const scope = useScope();
const MIN = 60_000_000_000n;
const argsOf = (ms: Message[]): unknown[] => ms.map((m) => m.args[0]);

/** A memory store holding one QoS0 row on `topic` per age (minutes before now), oldest first. */
async function storeWithAges(topic: string, ages: number[]): Promise<ReturnType<typeof memoryStore>> {
  const store = memoryStore();
  const now = BigInt(Date.now()) * 1_000_000n;
  const messages: StoredMessage[] = ages.map((age) => ({
    recv: now - BigInt(Math.round(age * 60_000)) * 1_000_000n, slot: null, qos: 0, uid: null, topic,
    data: encodeValue([`${age} min ago`]),
  }));
  await store.commit({ messages, twins: [] });
  return store;
}

describe('the one-hour replay window', () => {
  const AGES = [24 * 60, 120, 61, 59, 30, 1];

  it('replays to a component away for a day only what is younger than an hour, then live ones', async () => {
    const b = await scope.broker({ store: await storeWithAges('t', AGES) });
    const node = await scope.connect(b, 'back-after-a-day');
    const got = collect(node.subscribe$('t', { msgfrom: LastReceived }), 4);
    const pub = await scope.connect(b, 'pub');
    await roundTrip(node);
    pub.publish('t', 'live');
    expect(argsOf(await got.done)).toEqual(['59 min ago', '30 min ago', '1 min ago', 'live']);
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(4);
  });

  it('caps a period longer than an hour at the hour', async () => {
    const b = await scope.broker({ store: await storeWithAges('t', AGES) });
    const node = await scope.connect(b, 'two-hours');
    const got = collect(node.subscribe$('t', { msgfrom: period({ hours: 2 }) }), 3);
    expect(argsOf(await got.done)).toEqual(['59 min ago', '30 min ago', '1 min ago']);
    await roundTrip(node);
    expect(got.values).toHaveLength(3);
  });

  it('keeps a period shorter than the hour, and a subscription declared before connecting gets the same', async () => {
    const b = await scope.broker({ store: await storeWithAges('t', AGES) });
    const short = await scope.connect(b, 'short');
    const got = collect(short.subscribe$('t', { msgfrom: period({ minutes: 45 }) }), 2);
    expect(argsOf(await got.done)).toEqual(['30 min ago', '1 min ago']);
    // The subscription exists before the link is up: it is declared at login, replayed the same way.
    const early = scope.track(component(`${b.url!}/early`));
    const before = collect(early.subscribe$('t', { msgfrom: LastReceived }), 3);
    expect(argsOf(await before.done)).toEqual(['59 min ago', '30 min ago', '1 min ago']);
    await roundTrip(short, early);
    expect(got.values).toHaveLength(2);
    expect(before.values).toHaveLength(3);
  });

  it('replays nothing older than the hour to a twin whose mark is older than the hour', async () => {
    const store = await storeWithAges('t', AGES);
    // A twin that was last delivered the row of two hours ago, subscribed then with LastReceived.
    const now = BigInt(Date.now()) * 1_000_000n;
    await store.saveTwin({ name: 'old-twin', subscriptions: new Map([['t', LastReceived]]), exposed: [],
      mark: now - 120n * MIN, awaitingAck2: [] });
    const b = await scope.broker({ store });
    const node = await scope.connect(b, 'old-twin');
    const got = collect(node.subscribe$('t', { msgfrom: LastReceived }), 3);
    expect(argsOf(await got.done)).toEqual(['59 min ago', '30 min ago', '1 min ago']);
    await roundTrip(node);
    expect(got.values).toHaveLength(3);
  });

  // A reference peer subscribes without the TS `replay` key and replays at `reactive` (spec §4.7).
  let nextId = 1n;
  const request = (raw: RawClient, msg: Msg) => rawRequest(raw, { ...msg, id: nextId++ } as Msg & { id: bigint });
  async function pubsUntilRoundTrip(raw: RawClient): Promise<unknown[]> {
    const id = nextId++;
    raw.sendBinary(encodeFrame({ type: 'rpc', id, topic: 'rid', target: null, args: [] } as Msg));
    const values: unknown[] = [];
    for (;;) {
      const msg = decodeCbor(await raw.next() as Uint8Array);
      if (msg.type === 'pub') values.push((msg as PubMsg).args[0]);
      if (msg.type === 'response' && msg.id === id) return values;
    }
  }

  it.each([
    ['a Python peer (reactive without msg_from): the hour', undefined, ['59 min ago', '30 min ago', '1 min ago']],
    ['a Julia peer (reactive with msg_from 90 min): its own window', 90 * 60e9, ['61 min ago', '59 min ago', '30 min ago', '1 min ago']],
  ])('replays to %s', async (_who, maxPeriod, expected) => {
    const b = await scope.broker({ store: await storeWithAges('t', AGES) });
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', cid: 'ref' } as unknown as Msg)).status).toBe(0);
    expect((await request(raw, { type: 'admin', topic: 't', cmd: { cmd: 'subscribe', msg_from: LastReceived } } as unknown as Msg)).status).toBe(0);
    const cmd = maxPeriod === undefined ? { cmd: 'reactive', status: true } : { cmd: 'reactive', status: true, msg_from: maxPeriod };
    expect((await request(raw, { type: 'admin', topic: '__config__', cmd } as unknown as Msg)).status).toBe(0);
    // The replay runs after the reply; an RPC sent after it is answered behind the replayed messages
    // only once they left, so poll until the whole window is in.
    const got: unknown[] = [];
    for (let i = 0; i < 50 && got.length < expected.length; i++) got.push(...await pubsUntilRoundTrip(raw));
    got.push(...await pubsUntilRoundTrip(raw));
    expect(got).toEqual(expected);
  });
});
