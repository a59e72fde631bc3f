/**
 * Delivery guarantees through a real broker (spec §4.2, §4.3, §4.7): QoS1 at least once and
 * QoS2 exactly once over a lossy link, offline replay, bounded memory.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AckTimeoutError, component, LastReceived, Now, QueueFullError, period } from '../../src/index.js';
import { lossyLink, type LossScript } from '../../src/testing/index.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';
import { decodeCbor } from '../../src/codec/index.js';
import { DEFAULT_MAX_INFLIGHT } from '../../src/broker/outbox.js';
import { memoryStore } from '../../src/broker/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const isType = (frame: unknown, type: string): boolean =>
  frame instanceof Uint8Array && decodeCbor(frame).type === type;

function lossy(script: LossScript) {
  return { dial: async (url: string) => lossyLink(await dialWebSocket(url), script) };
}

describe('QoS over a lossy link', () => {
  const scope = useScope();

  it('QoS1 is re-sent when the ACK is lost and delivered at least once', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('t'), 2);
    await roundTrip(sub);
    // Lose the first ACK coming back to the publisher: it must re-send the same message.
    let acks = 0;
    const pub = await scope.connect(b, 'pub', { ackTimeout: 100, ...lossy({ drop: (f, d) => d === 'in' && isType(f, 'ack') && ++acks === 1 }) });
    await pub.publishAsync('t', ['x'], { qos: 1 });
    const messages = await got.done;
    expect(messages.map((m) => m.args)).toEqual([['x'], ['x']]);
    expect(messages.every((m) => m.qos === 1)).toBe(true);
  });

  it('QoS2 is delivered exactly once although PUB frames are duplicated and an ACK is lost', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub', lossy({ duplicate: (f, d) => d === 'in' && isType(f, 'pub') }));
    const received: unknown[] = [];
    sub.subscribe$('t').subscribe((m) => received.push(m.args[0]));
    await roundTrip(sub);
    let acks = 0;
    const pub = await scope.connect(b, 'pub', { ackTimeout: 100, ...lossy({
      duplicate: (f, d) => d === 'out' && isType(f, 'pub'),
      drop: (f, d) => d === 'in' && isType(f, 'ack') && ++acks <= 2,
    }) });
    for (let i = 0; i < 20; i++) await pub.publishAsync('t', [i], { qos: 2 });
    await roundTrip(pub, sub);
    await waitFor(() => received.length >= 20, { timeout: 5_000, interval: 10, what: '20 messages' });
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toEqual([...Array(20).keys()]);
  });

  it('delivers every QoS1 message through delayed, reordered frames', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub', lossy({ delay: (f, d, i) => (d === 'in' && i % 3 === 0 ? 30 : 0) }));
    const got = collect(sub.subscribe$('t'), 30);
    await roundTrip(sub);
    const pub = await scope.connect(b, 'pub');
    await Promise.all([...Array(30).keys()].map((i) => pub.publishAsync('t', [i], { qos: 1 })));
    const values = (await got.done).map((m) => m.args[0] as number);
    expect([...new Set(values)].sort((a, c) => a - c)).toEqual([...Array(30).keys()]);
  });

  it('gives up with AckTimeoutError after sendRetries when no ACK ever comes', async () => {
    const b = await scope.broker();
    let sent = 0;
    const pub = await scope.connect(b, 'pub', { ackTimeout: 50, sendRetries: 2, ...lossy({
      drop: (f, d) => d === 'in' && isType(f, 'ack'),
      duplicate: (f, d) => { if (d === 'out' && isType(f, 'pub')) sent++; return false; },
    }) });
    await expect(pub.publishAsync('t', [1], { qos: 1 })).rejects.toBeInstanceOf(AckTimeoutError);
    expect(sent).toBe(3);
  });
});

describe('offline replay', () => {
  const scope = useScope();

  /** A named component whose subscription exists before it logs in (so replay finds it). */
  function late(b: { url?: string }, name: string, pattern: string, n: number, msgfrom: number) {
    const node = scope.track(component(`${b.url}/${name}`));
    const got = collect(node.subscribe$(pattern, { msgfrom }), n, { timeout: 30_000 });
    return { node, got };
  }

  it('an offline subscriber that missed 10,000 messages receives them all, in order, on reconnect', async () => {
    // More than the in-memory log keeps by default (10,000, with the stats topic's messages).
    const b = await scope.broker({ store: memoryStore({ maxMessages: 100_000 }) });
    const first = late(b, 'late', 'feed/*', 0, LastReceived);
    await first.node.ready();
    await roundTrip(first.node);
    await first.node.close();
    const pub = await scope.connect(b, 'pub');
    for (let i = 0; i < 10_000; i++) pub.publish(`feed/${i % 7}`, i);
    await roundTrip(pub);
    const again = late(b, 'late', 'feed/*', 10_000, LastReceived);
    // Published while the replay runs: must come after it, once.
    await again.node.ready();
    pub.publish('feed/0', 10_000);
    const values = (await again.got.done).map((m) => m.args[0]);
    expect(values).toEqual([...Array(10_000).keys()]);
    await waitFor(() => again.got.values.length === 10_001, { timeout: 5_000, what: 'the live message after the replay' });
    expect(again.got.values[10_000]!.args[0]).toBe(10_000);
    expect(again.got.values[10_000]!.topic).toBe('feed/0');
    await roundTrip(pub, again.node);
    expect(again.got.values).toHaveLength(10_001);
  }, 60_000);

  it('replays QoS1 messages with the handshake, and nothing a second time after a reconnect', async () => {
    const b = await scope.broker();
    const first = late(b, 'q', 't', 0, LastReceived);
    await first.node.ready();
    await first.node.close();
    const pub = await scope.connect(b, 'pub');
    for (let i = 0; i < 5; i++) await pub.publishAsync('t', [i], { qos: 1 });
    const second = late(b, 'q', 't', 5, LastReceived);
    expect((await second.got.done).map((m) => [m.args[0], m.qos])).toEqual([0, 1, 2, 3, 4].map((i) => [i, 1]));
    await roundTrip(second.node);
    await second.node.close();
    const third = late(b, 'q', 't', 0, LastReceived);
    await third.node.ready();
    await roundTrip(pub, third.node);
    expect(third.got.values).toEqual([]);
  });

  it('msgfrom Now replays nothing and a period replays only what is recent enough', async () => {
    // The broker's receive times follow `clock`: message 1 is ten minutes older than message 2
    // however slow the machine, and the period (5 min) falls between them. With real time and a
    // 200 ms period, a login and subscribe slower than 200 ms (a loaded CI box) replayed nothing.
    let skew = 0;
    const clock: SchedulerLike = { now: () => Date.now() + skew, schedule: asyncScheduler.schedule.bind(asyncScheduler) };
    const b = await scope.broker({ scheduler: clock });
    const pub = await scope.connect(b, 'pub');
    pub.publish('old', 1);
    await roundTrip(pub);
    skew += 10 * 60_000;
    pub.publish('old', 2);
    await roundTrip(pub);
    const now = late(b, 'n', 'old', 0, Now);
    const recent = late(b, 'r', 'old', 1, period({ minutes: 5 }));
    const all = late(b, 'a', 'old', 2, LastReceived);
    await Promise.all([now.node.ready(), recent.node.ready(), all.node.ready()]);
    expect((await recent.got.done).map((m) => m.args[0])).toEqual([2]);
    expect((await all.got.done).map((m) => m.args[0])).toEqual([1, 2]);
    await roundTrip(now.node, recent.node, all.node);
    expect(now.got.values).toEqual([]);
    expect(recent.got.values).toHaveLength(1);
  });

  it('keeps broker memory bounded when a subscriber never acknowledges', async () => {
    const b = await scope.broker({ outboxCapacity: 50, ackTimeout: 10_000 });
    const sub = await scope.connect(b, 'mute', lossy({ drop: (f, d) => d === 'out' && isType(f, 'ack') }));
    sub.subscribe$('t').subscribe();
    await roundTrip(sub);
    const pub = await scope.connect(b, 'pub');
    await Promise.all([...Array(2_000).keys()].map((i) => pub.publishAsync('t', [i], { qos: 1 })));
    // The queue's capacity plus the window of messages awaiting their ACK.
    expect(b.stats().outboxed).toBeLessThanOrEqual(50 + DEFAULT_MAX_INFLIGHT);
  });
});

describe('acknowledged publishing window', () => {
  const scope = useScope();

  it('keeps at most maxInflight QoS1 publishes awaiting their ACK and sends the rest as ACKs return', async () => {
    const b = await scope.broker();
    let outstanding = 0;
    let peak = 0;
    const count = (f: unknown, d: string): boolean => {
      if (d === 'out' && isType(f, 'pub')) peak = Math.max(peak, ++outstanding);
      if (d === 'in' && isType(f, 'ack')) outstanding--;
      return false;
    };
    const pub = await scope.connect(b, 'pub', { maxInflight: 3, ...lossy({ drop: count }) });
    await Promise.all([...Array(20).keys()].map((i) => pub.publishAsync('t', [i], { qos: 1 })));
    expect(peak).toBe(3);
    expect(outstanding).toBe(0);
  });

  it('sends nothing for a publish withdrawn while it waited for room in the window', async () => {
    const b = await scope.broker();
    const sent: unknown[] = [];
    const record = (f: unknown, d: string): boolean => {
      if (d === 'out' && isType(f, 'pub')) sent.push((decodeCbor(f as Uint8Array) as { args: unknown[] }).args[0]);
      return false;
    };
    const pub = await scope.connect(b, 'pub', { maxInflight: 1, ...lossy({ drop: record }) });
    const first = pub.publishAsync('t', ['a'], { qos: 1 });
    pub.publish$('t', ['b'], { qos: 1 }).subscribe().unsubscribe();
    await first;
    await pub.publishAsync('t', ['c'], { qos: 1 });
    expect(sent).toEqual(['a', 'c']);
  });

  it('errors with QueueFullError past maxInflight plus inflightQueueCapacity publishes', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub', { maxInflight: 1, inflightQueueCapacity: 1 });
    const results = await Promise.allSettled([1, 2, 3].map((i) => pub.publishAsync('t', [i], { qos: 1 })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
  });
});

describe('offline publishing', () => {
  const scope = useScope();

  it('buffers publishes while disconnected up to a capacity and flushes them in order', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('t'), 3);
    await roundTrip(sub);
    const offline = scope.track(component(`${b.url}/pub`, { offlineCapacity: 3 }));
    offline.publish('t', 1);
    offline.publish('t', 2);
    const acked = offline.publishAsync('t', [3], { qos: 1 });
    expect(() => offline.publish('t', 4)).toThrow(QueueFullError);
    await offline.ready();
    await acked;
    expect((await got.done).map((m) => m.args[0])).toEqual([1, 2, 3]);
  });

  it('applies dropOldest when asked', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('t'), 2);
    await roundTrip(sub);
    const offline = scope.track(component(`${b.url}/pub`, { offlineCapacity: 2, offlineOverflow: 'dropOldest' }));
    for (let i = 1; i <= 4; i++) offline.publish('t', i);
    await offline.ready();
    expect((await got.done).map((m) => m.args[0])).toEqual([3, 4]);
  });
});
