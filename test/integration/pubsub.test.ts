/**
 * QoS0 publish/subscribe between components over a real broker (spec §4): argument types,
 * fan-out, no echo, wildcard and catch-all delivery, one shared stream per pattern, and
 * synchronous topic validation.
 */
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/wire.js';
import { ConnectionClosedError, InvalidTopicError, type Message } from '../../src/index.js';
import { collect, decoded, roundTrip, tappedDial, useScope, waitFor, type Tap } from './helpers.js';

const scope = useScope();

/** Admin commands `cmd` on `topic` among recorded frames. */
function adminFrames(frames: Frame[], cmd: string, topic: string): number {
  return decoded(frames).filter((m) => m.type === 'admin' && m.topic === topic && m.cmd['cmd'] === cmd).length;
}

/** Publishes on `topic` among recorded frames. */
function pubFrames(frames: Frame[], topic: string): number {
  return decoded(frames).filter((m) => m.type === 'pub' && m.topic === topic).length;
}

describe('subscribe$ / publish', () => {
  it('delivers positional arguments of every CBOR type intact when published QoS0', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('types'), 1, { what: 'typed message' });
    await roundTrip(sub); // the subscribe declaration has reached the broker
    const bytes = Uint8Array.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]);
    const nested = { a: { b: [1, { c: 'x' }], d: null }, list: [[1, 2], [3, [4, []]]], empty: {}, t: true };
    const args = [
      bytes, new Uint8Array(0),
      2 ** 40, 2 ** 53 - 1, 2n ** 63n, 2n ** 64n - 1n,
      0, 23, 24, 255, 65_536,
      -1, -24, -25, -1000, -(2 ** 40), -(2n ** 63n),
      1.5, -0.25, 0.1, 1.5e300, -2.5e-300, Infinity, -Infinity,
      '', 'plain', 'emoji 😀🚀', '漢字かな', 'ñandú €',
      null, true, false,
      nested, [1, 'two', [3, [4]]], [],
    ];
    pub.publish('types', ...args);
    const [m] = await got.done;
    expect(m!.topic).toBe('types');
    expect(m!.pattern).toBe('types');
    expect(m!.qos).toBe(0);
    const a = m!.args;
    expect(a).toHaveLength(args.length);
    // Byte strings arrive as Uint8Array (Buffer in Node) with the same bytes.
    expect(a[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(a[0] as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(a[1]).toBeInstanceOf(Uint8Array);
    expect((a[1] as Uint8Array).length).toBe(0);
    // Integers that fit a JS number arrive as numbers; wider ones as bigint (spec §2.1).
    expect(a.slice(2, 6)).toStrictEqual([2 ** 40, 2 ** 53 - 1, 2n ** 63n, 2n ** 64n - 1n]);
    expect(typeof a[2]).toBe('number');
    expect(a.slice(6, 11)).toStrictEqual([0, 23, 24, 255, 65_536]);
    expect(a.slice(11, 17)).toStrictEqual([-1, -24, -25, -1000, -(2 ** 40), -(2n ** 63n)]);
    expect(a.slice(17, 24)).toStrictEqual([1.5, -0.25, 0.1, 1.5e300, -2.5e-300, Infinity, -Infinity]);
    expect(a.slice(24, 29)).toStrictEqual(['', 'plain', 'emoji 😀🚀', '漢字かな', 'ñandú €']);
    expect(a.slice(29, 32)).toStrictEqual([null, true, false]);
    expect(a[32]).toEqual(nested);
    expect(a[33]).toStrictEqual([1, 'two', [3, [4]]]);
    expect(a[34]).toStrictEqual([]);
  });

  it('delivers NaN as NaN', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('nan'), 1);
    await roundTrip(sub);
    pub.publish('nan', NaN);
    const [m] = await got.done;
    expect(Number.isNaN(m!.args[0])).toBe(true);
  });

  it('delivers an empty argument list when published with no arguments', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('tick'), 1);
    await roundTrip(sub);
    pub.publish('tick');
    const [m] = await got.done;
    expect(m).toEqual({ topic: 'tick', pattern: 'tick', args: [], qos: 0 });
  });

  it('delivers each message once to every subscriber when several subscribe', async () => {
    const b = await scope.broker();
    const [pub, s1, s2, s3] = await scope.connectAll(b, 'pub', 's1', 's2', 's3');
    const subscribers = [s1, s2, s3];
    const got = subscribers.map((s) => collect(s.subscribe$('fan'), 2));
    await roundTrip(...subscribers);
    pub.publish('fan', 1);
    pub.publish('fan', 2);
    for (const g of got) expect((await g.done).map((m) => m.args)).toEqual([[1], [2]]);
    await roundTrip(pub, ...subscribers); // anything more would have arrived by now
    for (const g of got) expect(g.values).toHaveLength(2);
  });

  it('never echoes a message to its publisher when the publisher is subscribed too', async () => {
    const b = await scope.broker();
    const [pub, other] = await scope.connectAll(b, 'pub', 'other');
    const own = collect(pub.subscribe$('echo'), 1);
    const ownWild = collect(pub.subscribe$('echo/**'), 1);
    const theirs = collect(other.subscribe$('echo'), 1);
    await roundTrip(pub, other);
    pub.publish('echo', 'hi');
    pub.publish('echo/x', 'hi');
    expect((await theirs.done)[0]!.args).toEqual(['hi']);
    await roundTrip(pub);
    expect(own.values).toEqual([]);
    expect(ownWild.values).toEqual([]);
    // It does receive the same topic from someone else.
    other.publish('echo', 'from other');
    expect((await own.done)[0]!.args).toEqual(['from other']);
  });

  it.each([
    ['x/*/y', 'x/k/y'],
    ['**/telemetry', 'plant/7/telemetry'],
    ['a/**', 'a/b/c'],
    ['a/**', 'a/'],
  ])('delivers %s with the original topic %s, the pattern and args without the topic', async (pattern, topic) => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$(pattern), 1);
    await roundTrip(sub);
    pub.publish(topic, 'v', 42, { k: [1] });
    const [m] = await got.done;
    expect(m).toEqual({ topic, pattern, args: ['v', 42, { k: [1] }], qos: 0 });
  });

  it('delivers through a wildcard what the plain readers leave to the general path: non-ASCII and long topics, no args, a number first', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const topics = ['café/température/€', `long/${'x'.repeat(300)}`, 'emoji/😀', 'a/b'];
    const got = collect(sub.subscribe$('*/**'), topics.length + 2);
    await roundTrip(sub);
    for (const t of topics) pub.publish(t, t.length, { t });
    pub.publish('none/args');
    pub.publish('num/first', 7, 'x');
    const ms = await got.done;
    expect(ms.map((m) => [m.topic, m.pattern, m.args])).toEqual([...topics.map((t) => [t, '*/**', [t.length, { t }]]),
      ['none/args', '*/**', []], ['num/first', '*/**', [7, 'x']]]);
  });

  it('does not match a verbatim @ chunk or a topic outside the pattern with a wildcard', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('k/*/y'), 1);
    await roundTrip(sub);
    pub.publish('k/@e/y', 'verbatim');
    pub.publish('k/e/f/y', 'two chunks');
    pub.publish('k/e/y', 'match');
    const [m] = await got.done;
    expect(m).toMatchObject({ topic: 'k/e/y', pattern: 'k/*/y', args: ['match'] });
    await roundTrip(pub, sub);
    expect(got.values.map((v) => v.args)).toEqual([['match']]);
  });

  it('stops delivering to a closed wildcard subscriber while others still receive', async () => {
    const b = await scope.broker();
    const [pub, w1, w2] = await scope.connectAll(b, 'pub', 'w1', 'w2');
    const anon = await scope.connect(b);
    const first = collect(w1.subscribe$('k/*/y'), 1);
    const second = collect(w2.subscribe$('k/*/y'), 2);
    const third = collect(anon.subscribe$('k/*/y'), 1);
    await roundTrip(w1, w2, anon);
    pub.publish('k/a/y', 1);
    await Promise.all([first.done, third.done]);
    await w1.close();
    await anon.close();
    pub.publish('k/b/y', 2);
    expect((await second.done).map((m) => m.topic)).toEqual(['k/a/y', 'k/b/y']);
    expect([first.values.length, first.completed, third.values.length, third.completed]).toEqual([1, true, 1, true]);
  });

  it('delivers every topic with its own topic to a catch-all * subscriber', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('*'), 3);
    await roundTrip(sub);
    pub.publish('plain', 1);
    pub.publish('deep/er/topic', 2);
    pub.publish('k/@e/y', 3);
    const msgs = await got.done;
    expect(msgs).toEqual([
      { topic: 'plain', pattern: '*', args: [1], qos: 0 },
      { topic: 'deep/er/topic', pattern: '*', args: [2], qos: 0 },
      { topic: 'k/@e/y', pattern: '*', args: [3], qos: 0 },
    ]);
  });

  it('delivers one copy per stream when a component has an exact and a catch-all subscription', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const all = collect(sub.subscribe$('*'), 1);
    const exact = collect(sub.subscribe$('both'), 1);
    await roundTrip(sub);
    pub.publish('both', 'x');
    expect((await all.done)[0]).toMatchObject({ topic: 'both', pattern: '*' });
    expect((await exact.done)[0]).toMatchObject({ topic: 'both', pattern: 'both' });
    await roundTrip(pub, sub);
    expect([all.values.length, exact.values.length]).toEqual([1, 1]);
  });
});

describe('subscribe$ sharing', () => {
  it('returns the same stream for the same pattern and declares it to the broker once', async () => {
    const b = await scope.broker();
    const { sent, received }: Tap = { sent: [], received: [] };
    const sub = await scope.connect(b, 'sub', { dial: tappedDial({ sent, received }) });
    const [pub, witness] = await scope.connectAll(b, 'pub', 'witness');
    const s1 = sub.subscribe$<[number]>('shared');
    const s2 = sub.subscribe$<[number]>('shared');
    expect(s2).toBe(s1);
    const first = collect(s1, 1, { what: 'first subscriber' });
    const second = collect(s2, 1, { what: 'second subscriber' });
    const seen = collect(witness.subscribe$('shared'), 2, { what: 'witness' });
    await roundTrip(sub, witness);
    expect(adminFrames(sent, 'subscribe', 'shared')).toBe(1);

    pub.publish('shared', 1);
    expect((await first.done)[0]!.args).toEqual([1]);
    expect((await second.done)[0]!.args).toEqual([1]);
    await roundTrip(pub, sub);
    expect(pubFrames(received, 'shared')).toBe(1); // one delivery feeds both subscribers

    // One leaves: the pattern stays declared.
    first.unsubscribe();
    await roundTrip(sub);
    expect(adminFrames(sent, 'unsubscribe', 'shared')).toBe(0);
    // The last leaves: one unsubscribe, and the broker stops delivering to this component.
    second.unsubscribe();
    await roundTrip(sub); // the unsubscribe has reached the broker
    expect(adminFrames(sent, 'unsubscribe', 'shared')).toBe(1);
    pub.publish('shared', 2);
    expect((await seen.done).map((m: Message) => m.args)).toEqual([[1], [2]]);
    await roundTrip(pub, sub);
    expect(pubFrames(received, 'shared')).toBe(1);
    expect(second.values.map((m) => m.args)).toEqual([[1]]);
  });

  it('declares the pattern again when subscribed after the last unsubscribe', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const once = collect(sub.subscribe$('again'), 1);
    once.unsubscribe();
    const got = collect(sub.subscribe$('again'), 1);
    await roundTrip(sub);
    pub.publish('again', 'back');
    expect((await got.done)[0]!.args).toEqual(['back']);
  });
});

describe('topic validation', () => {
  it('throws InvalidTopicError at the call site for an invalid topic or pattern', async () => {
    const b = await scope.broker();
    const c = await scope.connect(b, 'v');
    expect(() => c.publish('')).toThrow(InvalidTopicError);
    expect(() => c.publish('a/*')).toThrow(InvalidTopicError);
    expect(() => c.publish('a/**')).toThrow(InvalidTopicError);
    expect(() => c.subscribe$('')).toThrow(InvalidTopicError);
    expect(() => c.subscribe$('a/***')).toThrow(InvalidTopicError);
    expect(() => c.rpc$('')).toThrow(InvalidTopicError);
    expect(() => c.call$('a/*', [])).toThrow(InvalidTopicError);
    expect(() => c.expose('', () => 1)).toThrow(InvalidTopicError);
    // Still usable afterwards.
    expect(await c.rpc('rid')).toBe('broker');
  });

  it('checks the topic of publish online and offline alike, in any position, then sends the next one', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('ok/**'), 2);
    await roundTrip(sub);
    for (const bad of ['', '*', 'a/*', 'ok/x*', 'ok/\u0000', 'ok/\u007f', '\u001fok', 'ok/\n/é']) {
      expect(() => pub.publish(bad, 1)).toThrow(InvalidTopicError);
    }
    pub.publish('ok/é/\u0080', 1); // non-ASCII and C1 characters are topic characters
    pub.publish('ok/plain', 2);
    expect((await got.done).map((m) => [m.topic, m.args])).toEqual([['ok/é/\u0080', [1]], ['ok/plain', [2]]]);
    let down = false;
    pub.status$.subscribe((st) => { if (st.type === 'down') down = true; });
    await b.close();
    await waitFor(() => down, { what: 'the link to drop' });
    expect(() => pub.publish('a/*', 1)).toThrow(InvalidTopicError);
    expect(() => pub.publish('offline/ok', 1)).not.toThrow(); // held for the next link
    await pub.close();
    expect(() => pub.publish('a/*', 1)).toThrow(InvalidTopicError);
    expect(() => pub.publish('closed/ok', 1)).toThrow(ConnectionClosedError);
  });
});
