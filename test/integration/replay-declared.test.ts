/**
 * Replay whenever a subscription is declared (issue 13 item 2, spec §4.7): after connect,
 * with a period, at different times, during a reconnect, with live traffic racing the replay,
 * and across `unreactive()` / `reactive()`. Real broker, real sockets.
 */
import { describe, expect, it } from 'vitest';
import { asyncScheduler, filter, firstValueFrom, type SchedulerLike } from 'rxjs';
import { component, connect, LastReceived, period, type Component, type Message } from '../../src/index.js';
import { collect, relay, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const argsOf = (ms: Message[]): unknown[] => ms.map((m) => m.args[0]);
const range = (from: number, to: number): number[] => [...Array(to - from).keys()].map((i) => i + from);

async function publishAll(pub: Component, topic: string, values: number[]): Promise<void> {
  for (const v of values) pub.publish(topic, v);
  await roundTrip(pub);
}

describe('subscribe$ with msgfrom after connect', () => {
  it('replays with LastReceived what was published before, then live messages, in order', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    await publishAll(pub, 't', range(0, 5));
    const node = await scope.connect(b, 'late');
    const got = collect(node.subscribe$('t', { msgfrom: LastReceived }), 8);
    await waitFor(() => got.values.length >= 5, { what: 'the replay' });
    await publishAll(pub, 't', range(5, 8));
    expect(argsOf(await got.done)).toEqual(range(0, 8));
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(8);
  });

  it('replays with a period only what is recent enough', async () => {
    // The broker's receive times follow `clock`: 1 is ten minutes older than 2 however slow the
    // machine, and the period (5 min) falls between them. With real time and a 250 ms period, a
    // connect and subscribe slower than 250 ms (a loaded CI box) replayed nothing.
    let skew = 0;
    const clock: SchedulerLike = { now: () => Date.now() + skew, schedule: asyncScheduler.schedule.bind(asyncScheduler) };
    const b = await scope.broker({ scheduler: clock });
    const pub = await scope.connect(b, 'pub');
    await publishAll(pub, 't', [1]);
    skew += 10 * 60_000;
    await publishAll(pub, 't', [2]);
    const node = await scope.connect(b, 'p');
    const got = collect(node.subscribe$('t', { msgfrom: period({ minutes: 5 }) }), 1);
    expect(argsOf(await got.done)).toEqual([2]);
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(1);
  });

  it('gives two subscriptions declared at different times what each missed while away', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const first = await scope.connect(b, 'two');
    const a0 = collect(first.subscribe$('a', { msgfrom: LastReceived }), 1);
    const b0 = collect(first.subscribe$('b', { msgfrom: LastReceived }), 1);
    await roundTrip(first);
    await publishAll(pub, 'a', [0]);
    await publishAll(pub, 'b', [0]);
    await Promise.all([a0.done, b0.done]);
    await first.close();
    // QoS0 sent to a link still closing counts as delivered: publish once the broker saw it go.
    await waitFor(() => b.stats().connections === 1, { what: 'the broker to see the link close' });
    await publishAll(pub, 'a', [1, 2, 3]);
    await publishAll(pub, 'b', [1, 2, 3]);
    const again = await scope.connect(b, 'two');
    const a = collect(again.subscribe$('a', { msgfrom: LastReceived }), 4);
    await waitFor(() => a.values.length === 3, { what: 'the replay of a' });
    // Live traffic on `a` moves the twin's mark past b's missed messages: b must still get them.
    await publishAll(pub, 'a', [4]);
    await a.done;
    const bb = collect(again.subscribe$('b', { msgfrom: LastReceived }), 3);
    expect(argsOf(await bb.done)).toEqual([1, 2, 3]);
    expect(argsOf(a.values)).toEqual([1, 2, 3, 4]);
    await roundTrip(pub, again);
    expect(bb.values).toHaveLength(3);
  });

  it('replays a subscription declared while the link is down once it is back', async () => {
    const b = await scope.broker();
    const cut = scope.track(await relay(b.port!));
    const pub = await scope.connect(b, 'pub');
    const node = scope.track(await connect(`${cut.url}/down`));
    node.subscribe$('other').subscribe();
    await roundTrip(node);
    await publishAll(pub, 't', [0, 1]);
    const down = firstValueFrom(node.status$.pipe(filter((s) => s.type !== 'up')));
    cut.cut();
    await down;
    const got = collect(node.subscribe$('t', { msgfrom: LastReceived }), 5);
    await publishAll(pub, 't', [2, 3]);
    await firstValueFrom(node.status$.pipe(filter((s) => s.type === 'up')));
    await publishAll(pub, 't', [4]);
    expect(argsOf(await got.done)).toEqual(range(0, 5));
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(5);
  });

  it('keeps order with no gap and no duplicate when live messages arrive while the replay runs', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    await publishAll(pub, 'feed/x', range(0, 5_000));
    const node = await scope.connect(b, 'racer');
    const got = collect(node.subscribe$('feed/*', { msgfrom: LastReceived }), 8_000, { timeout: 30_000 });
    // Published while the 5,000-message replay is being read from the log and sent.
    for (let i = 5_000; i < 8_000; i++) {
      pub.publish('feed/x', i);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(argsOf(await got.done)).toEqual(range(0, 8_000));
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(8_000);
  }, 40_000);

  it('runs replays declared back to back one after the other, each stream complete and in order', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    for (let i = 0; i < 3_000; i++) {
      pub.publish('x', i);
      pub.publish('y/1', i);
    }
    await roundTrip(pub);
    const node = await scope.connect(b, 'both');
    const x = collect(node.subscribe$('x', { msgfrom: LastReceived }), 3_100, { timeout: 30_000 });
    const y = collect(node.subscribe$('y/*', { msgfrom: LastReceived }), 3_100, { timeout: 30_000 });
    const nowSub = collect(node.subscribe$('z'), 100, { timeout: 30_000 });
    for (let i = 3_000; i < 3_100; i++) {
      pub.publish('x', i);
      pub.publish('y/1', i);
      pub.publish('z', i);
    }
    expect(argsOf(await x.done)).toEqual(range(0, 3_100));
    expect(argsOf(await y.done)).toEqual(range(0, 3_100));
    expect(argsOf(await nowSub.done)).toEqual(range(3_000, 3_100));
    await roundTrip(pub, node);
    expect([x.values.length, y.values.length, nowSub.values.length]).toEqual([3_100, 3_100, 100]);
  }, 40_000);

  it('replays 50 subscriptions re-declared at login, each its own backlog once and in order', async () => {
    const b = await scope.broker();
    const first = await scope.connect(b, 'many');
    const topics = [...Array(50).keys()].map((i) => `m/${i}`);
    for (const t of topics) first.subscribe$(t, { msgfrom: LastReceived }).subscribe();
    await roundTrip(first);
    await first.close();
    await waitFor(() => b.stats().connections === 0, { what: 'the link to close' });
    const pub = await scope.connect(b, 'pub');
    for (let i = 0; i < 20; i++) for (const t of topics) pub.publish(t, i);
    await roundTrip(pub);
    const again = scope.track(component(`${b.url}/many`));
    const got = topics.map((t) => collect(again.subscribe$(t, { msgfrom: LastReceived }), 21, { timeout: 20_000 }));
    await again.ready();
    for (const t of topics) pub.publish(t, 20);
    for (const c of got) expect(argsOf(await c.done)).toEqual(range(0, 21));
    await roundTrip(pub, again);
    expect(got.every((c) => c.values.length === 21)).toBe(true);
  }, 30_000);

  it('does not replay a Now subscription and replays nothing twice after a reconnect', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    await publishAll(pub, 't', [0]);
    const node = await scope.connect(b, 'now');
    const now = collect(node.subscribe$('t'), 0);
    await roundTrip(node, pub);
    const last = collect(node.subscribe$('u', { msgfrom: LastReceived }), 1);
    await publishAll(pub, 'u', [7]);
    await last.done;
    await roundTrip(pub, node);
    expect(now.values).toEqual([]);
    expect(argsOf(last.values)).toEqual([7]);
  });
});

describe('unreactive() / reactive()', () => {
  it('pauses live delivery and replays what came meanwhile, in order, before live messages', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const node = await scope.connect(b, 'pausing');
    const got = collect(node.subscribe$('t'), 7);
    const wild = collect(node.subscribe$('w/*'), 2);
    await roundTrip(node);
    await publishAll(pub, 't', [0, 1]);
    await waitFor(() => got.values.length === 2, { what: 'live messages' });
    await node.unreactive();
    await publishAll(pub, 't', [2, 3, 4]);
    await publishAll(pub, 'w/a', [1]);
    await roundTrip(node);
    expect(argsOf(got.values)).toEqual([0, 1]);
    expect(wild.values).toEqual([]);
    await node.reactive();
    await publishAll(pub, 't', [5, 6]);
    await publishAll(pub, 'w/a', [2]);
    expect(argsOf(await got.done)).toEqual(range(0, 7));
    expect(argsOf(await wild.done)).toEqual([1, 2]);
    expect(wild.values.map((m) => m.topic)).toEqual(['w/a', 'w/a']);
    await roundTrip(pub, node);
    expect(got.values).toHaveLength(7);
  });

  it('stays paused across a reconnect', async () => {
    const b = await scope.broker();
    const cut = scope.track(await relay(b.port!));
    const pub = await scope.connect(b, 'pub');
    const node = scope.track(await connect(`${cut.url}/sleepy`));
    const got = collect(node.subscribe$('t'), 3);
    await roundTrip(node);
    await node.unreactive();
    await publishAll(pub, 't', [0]);
    const down = firstValueFrom(node.status$.pipe(filter((s) => s.type !== 'up')));
    cut.cut();
    await down;
    await firstValueFrom(node.status$.pipe(filter((s) => s.type === 'up')));
    await roundTrip(node);
    await publishAll(pub, 't', [1]);
    await roundTrip(node);
    expect(got.values).toEqual([]);
    await node.reactive();
    await publishAll(pub, 't', [2]);
    expect(argsOf(await got.done)).toEqual([0, 1, 2]);
  });
});

describe('subscribe$ with a bad msgfrom', () => {
  it('errors the stream with the broker refusal (status 10) and keeps the component usable', async () => {
    const b = await scope.broker();
    const node = await scope.connect(b, 'bad');
    const bad = collect(node.subscribe$('t', { msgfrom: Number.NaN }), 1);
    await expect(bad.done).rejects.toThrow(/invalid msg_from/);
    const good = collect(node.subscribe$('u', { msgfrom: LastReceived }), 1);
    const pub = await scope.connect(b, 'pub');
    await publishAll(pub, 'u', [1]);
    expect(argsOf(await good.done)).toEqual([1]);
  });
});
