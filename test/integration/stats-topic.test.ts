/** Broker stats as a topic (issue 16 item 2): snapshots on `__broker__/stats`, replayable, opt-out. */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, filter, take } from 'rxjs';
import { component, period } from '../../src/index.js';
import type { StatsSnapshot } from '../../src/http/index.js';
import { collect, roundTrip, useScope } from './helpers.js';

const scope = useScope();

describe('__broker__/stats', () => {
  it('publishes snapshots whose counters move with traffic', async () => {
    const b = await scope.broker({ http: { statsInterval: 50 } });
    const watcher = await scope.connect(b, 'watcher');
    const server = await scope.connect(b, 'math');
    server.expose('add', (a: number, c: number) => a + c);
    const snaps = firstValueFrom(watcher.subscribe$<[StatsSnapshot]>('__broker__/stats').pipe(
      filter((m) => m.args[0].wire.publishesIn >= 3 && m.args[0].rpc.length > 0), take(1)));
    for (let i = 0; i < 3; i++) watcher.publish('telemetry', i);
    expect(await watcher.rpc('add', 1, 2)).toBe(3);
    const snap = (await snaps).args[0];
    expect(snap.broker).toBe('broker');
    expect(snap.topics.find((t) => t.topic === 'telemetry')?.published).toBe(3);
    expect(snap.rpc.find((r) => r.method === 'add')).toMatchObject({ calls: 1, errors: 0 });
    expect(snap.components.find((c) => c.name === 'math')).toMatchObject({ online: true, exposed: ['add'] });
    expect(snap.components.find((c) => c.name === 'watcher')?.subscriptions).toEqual(['__broker__/stats']);
    expect(snap.storage.ok).toBe(true);
  });

  it('is replayable like any topic', async () => {
    const b = await scope.broker({ http: { statsInterval: 30 } });
    await new Promise((r) => setTimeout(r, 200));
    const since = Date.now();
    // Declared before the login, so the login's `reactive` replays it (spec §4.7).
    const late = scope.track(component(`${b.url!}/late`));
    const first = await firstValueFrom(late.subscribe$<[StatsSnapshot]>('__broker__/stats', { msgfrom: period({ minutes: 1 }) }));
    // Published before this component existed: it came from the log, not live.
    expect(first.args[0].time).toBeLessThan(since - 100);
  });

  it('reaches exact subscribers only: a catch-all subscriber never sees it (MQTT $SYS rule)', async () => {
    const b = await scope.broker({ http: { statsInterval: 30 } });
    const all = await scope.connect(b, 'all');
    const exact = await scope.connect(b, 'exact');
    const seen: string[] = [];
    all.subscribe$('**').subscribe((m) => seen.push(m.topic));
    await firstValueFrom(exact.subscribe$('__broker__/stats').pipe(take(3)), { defaultValue: undefined });
    // The catch-all does receive ordinary publishes (of another component: no loopback).
    exact.publish('ping', 1);
    const deadline = Date.now() + 5_000;
    while (!seen.includes('ping') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['ping']);
  });

  it('reaches exact subscribers only in a replay too: a replaying catch-all or wildcard subscriber gets none from the log', async () => {
    const b = await scope.broker({ http: { statsInterval: 30 } });
    const pub = await scope.connect(b, 'pub');
    pub.publish('news', 'logged');
    pub.publish('x/stats', 'logged');
    await roundTrip(pub);
    await new Promise((r) => setTimeout(r, 200)); // snapshots logged around them
    const late = scope.track(component(`${b.url!}/late`));
    const all = collect(late.subscribe$('**', { msgfrom: period({ minutes: 1 }) }), 2, { what: "the catch-all's replay" });
    const wild = collect(late.subscribe$('*/stats', { msgfrom: period({ minutes: 1 }) }), 1, { what: "*/stats' replay" });
    await Promise.all([all.done, wild.done]);
    await roundTrip(late);
    expect(all.values.map((m) => m.topic).sort()).toEqual(['news', 'x/stats']);
    expect(wild.values.map((m) => m.topic)).toEqual(['x/stats']);
  });

  it('is not published with statsInterval 0', async () => {
    const b = await scope.broker({ http: { statsInterval: 0 } });
    const node = await scope.connect(b, 'w');
    const seen: unknown[] = [];
    node.subscribe$('__broker__/stats').subscribe((m) => seen.push(m));
    expect(await node.rpc('rid')).toBe('broker');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });
});
