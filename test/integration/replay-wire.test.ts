/**
 * Replay and msg_from on the wire (issue 13 items 2 and 3), with raw frames a reference or a
 * buggy peer sends: a bad msg_from is refused (status 10) and never stored; a bad stored
 * subscription from an old data dir never stops the others' replay; reference peers (no
 * `replay` key) keep the login-time replay only.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore, type Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { LastReceived, type Message } from '../../src/index.js';
import type { Msg, PubMsg, ResponseMsg } from '../../src/protocol/messages.js';
import type { Store } from '../../src/store/types.js';
import { collect, roundTrip, useScope, type RawClient, rawRequest } from './helpers.js';

const scope = useScope();
let nextId = 1n;

const request = (raw: RawClient, msg: Msg): Promise<ResponseMsg> => rawRequest(raw, msg as Msg & { id: bigint });

async function login(b: Broker, cid: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  expect((await request(raw, { type: 'identity', id: nextId++, cid })).status).toBe(0);
  return raw;
}

const subscribe = (raw: RawClient, topic: string, cmd: Record<string, unknown>): Promise<ResponseMsg> =>
  request(raw, { type: 'admin', id: nextId++, topic, cmd: { cmd: 'subscribe', ...cmd } });
const reactive = (raw: RawClient): Promise<ResponseMsg> =>
  request(raw, { type: 'admin', id: nextId++, topic: '__config__', cmd: { cmd: 'reactive', status: true } });

/** The PUB frames that arrive before the answer to a `rid` RPC (everything the broker sent before it). */
async function pubsUntilRoundTrip(raw: RawClient): Promise<PubMsg[]> {
  const id = nextId++;
  raw.sendBinary(encodeCbor({ type: 'rpc', id, topic: 'rid', target: null, args: [] } as Msg));
  const pubs: PubMsg[] = [];
  for (;;) {
    const msg = decodeCbor(await raw.next() as Uint8Array);
    if (msg.type === 'pub') pubs.push(msg);
    if (msg.type === 'response' && msg.id === id) return pubs;
  }
}

async function storedSubscriptions(store: Store, name: string): Promise<ReadonlyMap<string, number> | undefined> {
  return (await store.loadTwins()).find((t) => t.name === name)?.subscriptions;
}

describe('subscribe msg_from', () => {
  it.each([
    ['NaN', Number.NaN], ['-Infinity', Number.NEGATIVE_INFINITY], ['a negative period', -5], ['a string', 'yesterday'],
    ['a map', { days: 1 }], ['a boolean', true],
  ])('refuses %s with status 10 naming msg_from, and stores nothing', async (_what, msgFrom) => {
    const store = memoryStore();
    const b = await scope.broker({ store });
    const raw = await login(b, 'buggy');
    const reply = await subscribe(raw, 'bad', { msg_from: msgFrom });
    expect(reply.status).toBe(10);
    expect(String(reply.data)).toMatch(/invalid msg_from/);
    expect((await subscribe(raw, 'good', { msg_from: LastReceived })).status).toBe(0);
    expect([...(await storedSubscriptions(store, 'buggy'))!.keys()]).toEqual(['good']);
  });

  it('accepts Now, LastReceived, a period, an integer and an absent msg_from (JL default Now)', async () => {
    const store = memoryStore();
    const b = await scope.broker({ store });
    const raw = await login(b, 'fine');
    for (const [topic, msgFrom] of [['a', 0], ['b', LastReceived], ['c', 9e8], ['d', 5n]] as const) {
      expect((await subscribe(raw, topic, { msg_from: msgFrom })).status).toBe(0);
    }
    expect((await subscribe(raw, 'e', {})).status).toBe(0);
    expect(await storedSubscriptions(store, 'fine')).toEqual(new Map([['a', 0], ['b', Infinity], ['c', 9e8], ['d', 5], ['e', 0]]));
  });
});

describe('replay from an old data dir with a bad stored msg_from', () => {
  it('replays the good subscriptions, the bad ones nothing, until declared again with a good value', async () => {
    const store = memoryStore();
    await store.saveTwin({
      name: 'old', mark: 0n, exposed: [], awaitingAck2: [],
      subscriptions: new Map([['nan', Number.NaN], ['good', LastReceived], ['neg', Number.NEGATIVE_INFINITY], ['also', 1e12]]),
    });
    const b = await scope.broker({ store });
    const pub = await scope.connect(b, 'pub');
    for (const topic of ['nan', 'good', 'neg', 'also']) pub.publish(topic, topic);
    await roundTrip(pub);
    const raw = await login(b, 'old');
    expect((await reactive(raw)).status).toBe(0);
    const pubs = await waitForPubs(raw, 2);
    expect(pubs.map((m) => m.topic)).toEqual(['good', 'also']);
    // The TS component's own declaration replays too.
    await raw.close();
    await waitForConnections(b, 1);
    pub.publish('good', 'again');
    pub.publish('nan', 'again');
    await roundTrip(pub);
    const node = await scope.connect(b, 'old');
    const got = collect(node.subscribe$<[string]>('good', { msgfrom: LastReceived }), 1);
    // Declared again with a good value, the bad stored one is replaced and replays like any other.
    const nan = collect(node.subscribe$('nan', { msgfrom: LastReceived }), 1);
    expect((await got.done).map((m: Message<[string]>) => m.args[0])).toEqual(['again']);
    expect((await nan.done).map((m) => m.args[0])).toEqual(['again']);
    await roundTrip(pub, node);
    expect((await storedSubscriptions(store, 'old'))!.get('nan')).toBe(Infinity);
  });
});

describe('a replay under heavy live traffic', () => {
  it('sends what a full hold had to drop from the log, so the stream has no gap and no duplicate', async () => {
    // A loaded machine reads the 16 MiB back slowly: that is not the slow consumer flow control cuts.
    // The log must keep all 102,010 (16 MiB): more than the in-memory default (10,000, 8 MiB).
    const b = await scope.broker({ flowControl: { stallTimeout: 30_000 },
      store: memoryStore({ maxMessages: 1_000_000, maxBytes: 64 * 1024 * 1024 }) });
    const big = 'x'.repeat(8_192);
    for (let i = 0; i < 2_000; i++) b.publish('t', i, big);
    const raw = await login(b, 'slowpoke');
    expect((await subscribe(raw, 't', { msg_from: LastReceived, replay: true })).status).toBe(0);
    // The replay (16 MiB) stalls on the unread socket; 100,010 live messages pile up behind it.
    raw.pause();
    for (let i = 2_000; i < 102_010; i++) b.publish('t', i);
    expect(b.stats().held).toBe(100_000);
    raw.resume();
    const seen: unknown[] = [];
    while (seen.length < 102_010) {
      const msg = decodeCbor(await raw.next(20_000) as Uint8Array);
      if (msg.type === 'pub') seen.push(msg.args[0]);
    }
    expect(seen).toEqual([...Array(102_010).keys()]);
    expect(await pubsUntilRoundTrip(raw)).toEqual([]);
    expect(b.stats().held).toBe(0);
  }, 180_000);
});

describe('reference peers (no replay key)', () => {
  it('replay at reactive only: a subscribe after it replays nothing, as with the references', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    pub.publish('t', 1);
    await roundTrip(pub);
    const raw = await login(b, 'py');
    expect((await reactive(raw)).status).toBe(0);
    expect((await subscribe(raw, 't', { msg_from: LastReceived })).status).toBe(0);
    expect(await pubsUntilRoundTrip(raw)).toEqual([]);
    // The TS extension: the same command with `replay: true` replays at once, after its answer.
    expect((await subscribe(raw, 'u', { msg_from: LastReceived, replay: true })).status).toBe(0);
    pub.publish('u', 2);
    await roundTrip(pub);
    expect((await pubsUntilRoundTrip(raw)).map((m) => [m.topic, m.args])).toEqual([['u', [2]]]);
    const late = await login(b, 'py2');
    expect((await subscribe(late, 't', { msg_from: LastReceived, replay: true })).status).toBe(0);
    expect((await pubsUntilRoundTrip(late)).map((m) => [m.topic, m.args])).toEqual([['t', [1]]]);
  });

  it('reactive false pauses a reference peer; reactive true (PY) or setup (JL reconnect) resumes with what came meanwhile', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const raw = await login(b, 'jl');
    expect((await subscribe(raw, 't', { msg_from: 0 })).status).toBe(0);
    expect((await reactive(raw)).status).toBe(0);
    const unreactive = { type: 'admin', id: 0n, topic: '__config__', cmd: { cmd: 'reactive', status: false } } as const;
    expect((await request(raw, { ...unreactive, id: nextId++ })).status).toBe(0);
    pub.publish('t', 1);
    await roundTrip(pub);
    expect(await pubsUntilRoundTrip(raw)).toEqual([]);
    expect((await reactive(raw)).status).toBe(0);
    pub.publish('t', 2);
    await roundTrip(pub);
    expect((await pubsUntilRoundTrip(raw)).map((m) => m.args[0])).toEqual([1, 2]);
    expect((await request(raw, { ...unreactive, id: nextId++ })).status).toBe(0);
    pub.publish('t', 3);
    await roundTrip(pub);
    const setup = { cmd: 'setup', exposers: [], subscribers: ['t'] };
    expect((await request(raw, { type: 'admin', id: nextId++, topic: '__config__', cmd: setup })).status).toBe(0);
    expect((await pubsUntilRoundTrip(raw)).map((m) => m.args[0])).toEqual([3]);
  });

  it('a PY client subscribing before reactive gets its replay at reactive, then live messages', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    pub.publish('t', 1);
    await roundTrip(pub);
    const raw = await login(b, 'py');
    expect((await subscribe(raw, 't', { msg_from: LastReceived })).status).toBe(0);
    pub.publish('t', 2);
    await roundTrip(pub);
    expect(await pubsUntilRoundTrip(raw)).toEqual([]);
    expect((await reactive(raw)).status).toBe(0);
    pub.publish('t', 3);
    await roundTrip(pub);
    expect((await pubsUntilRoundTrip(raw)).map((m) => m.args[0])).toEqual([1, 2, 3]);
  });
});

async function waitForPubs(raw: RawClient, n: number): Promise<PubMsg[]> {
  const pubs: PubMsg[] = [];
  while (pubs.length < n) {
    const msg = decodeCbor(await raw.next() as Uint8Array);
    if (msg.type === 'pub') pubs.push(msg);
  }
  pubs.push(...await pubsUntilRoundTrip(raw));
  return pubs;
}

async function waitForConnections(b: Broker, n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (b.stats().connections !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} connections, have ${b.stats().connections}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
