/**
 * A broker that joins a cluster learns the twin records of the other brokers from a KV watch
 * (twin-cache.ts). Under load that watch's initial load can come after the first logins: a
 * component that moved there was then served as new, and the stream messages its new broker
 * never routed were skipped (the red CI run of twins.test.ts "a broker that joined after the
 * twin's mark…", which got [7, 8] instead of 4..8). Here the watch's initial load is made slow
 * on purpose (its KV `watch` call is delayed), so the race is no longer left to the scheduler.
 */
import { Bucket } from '@nats-io/kv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { component, LastReceived, type Component, type Message } from '../../src/index.js';
import { collect, useScope, warnRecorder } from '../integration/helpers.js';
import { useTwinBucket } from './twin-bucket.js';

const scope = useScope();
const bucket = useTwinBucket();
let n = 0;

const extra: Component[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(extra.splice(0).map((x) => x.close()));
});

const numbers = (ms: { args: unknown[] }[]): number[] => ms.map((m) => m.args[0] as number);

/**
 * Delay every KV watch of cluster `name`'s twin bucket started from now on by `ms` (never
 * resolving when `ms` is Infinity), as a loaded NATS server or event loop would. The watch then
 * runs as usual.
 */
function slowTwinWatch(name: string, ms: number): void {
  const watch = Bucket.prototype.watch;
  vi.spyOn(Bucket.prototype, 'watch').mockImplementation(async function (this: Bucket, ...args) {
    if (this.bucket === `REMBUS_${name}_TWINS`) await new Promise((r) => { if (ms !== Infinity) setTimeout(r, ms); });
    return watch.apply(this, args);
  });
}

/** Cluster `name` with brokers a and b, where `late` got 1..3 on a, left, and 4..6 were published on b meanwhile. */
async function missedOnA(name: string): Promise<{ pub: Component; cluster: { servers: string[]; name: string } }> {
  const cluster = { servers: bucket.urls, name };
  const a = await scope.broker({ name: 'a', cluster });
  const b = await scope.broker({ name: 'b', cluster });
  const pub = await scope.connect(b, 'pub');
  const first = component(`${a.url!}/late`);
  extra.push(first);
  const got = collect(first.subscribe$('t', { msgfrom: LastReceived }), 3);
  await first.ready();
  for (const v of [1, 2, 3]) await pub.publishAsync('t', [v], { qos: 1 });
  expect(numbers(await got.done)).toEqual([1, 2, 3]);
  await first.close();
  await bucket.offlineIn(name, 'late');
  expect((await bucket.record(name, 'late'))?.seq).toBe(3);
  for (const v of [4, 5, 6]) await pub.publishAsync('t', [v], { qos: 1 });
  return { pub, cluster };
}

describe('a broker joining a cluster and the twin records of the others', () => {
  it('serves no login before its watch has loaded the records: a twin that moved there gets the stream messages it never routed', async () => {
    const name = `load${process.pid}_${++n}`;
    const { pub, cluster } = await missedOnA(name);
    slowTwinWatch(name, 1_500);
    const c = await scope.broker({ name: 'c', cluster }); // joins after 6: 4..6 are only in the stream
    const again = component(`${c.url!}/late`);
    extra.push(again);
    const got = collect(again.subscribe$('t', { msgfrom: LastReceived }), 4);
    await again.ready();
    await pub.publishAsync('t', [7], { qos: 1 });
    expect(numbers(await got.done)).toEqual([4, 5, 6, 7]);
  }, 30_000);

  it('a watch that never loads holds the start only for twinLoadTimeout, with a warning; the broker then serves', async () => {
    const name = `stall${process.pid}_${++n}`;
    const { pub, cluster } = await missedOnA(name);
    slowTwinWatch(name, Infinity);
    const logger = warnRecorder();
    const started = Date.now();
    const c = await scope.broker({ name: 'c', cluster: { ...cluster, twinLoadTimeout: 500 }, logger });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(logger.warnings.map((w) => w.msg)).toContain('twin records not loaded in time: a component that moved here is served as new until they are');
    // Without the records the twin is new here (the documented fallback): it gets what c routes.
    const again = component(`${c.url!}/late`);
    extra.push(again);
    const got = collect(again.subscribe$('t', { msgfrom: LastReceived }), 1);
    await again.ready();
    await pub.publishAsync('t', [7], { qos: 1 });
    expect(numbers(await got.done)).toEqual([7]);
  }, 30_000);
});
