/**
 * Per-topic NATS interest (`cluster: { interest: 'subscribed' }`, README "Cluster"): a broker
 * takes from NATS only the QoS0 publishes of topics its components subscribe to. Counted on the
 * receiving broker's `messages$` (every publish it accepts, those from the cluster included).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { Observable, Subscription } from 'rxjs';
import type { Broker, BrokerOptions } from '../../src/broker/index.js';
import { patternToSubject, subjectMatches } from '../../src/cluster/subject.js';
import type { Component } from '../../src/index.js';
import { roundTrip, useScope, waitFor } from '../integration/helpers.js';
import { startNats, type NatsCluster } from './nats.js';

const scope = useScope();
let nats: NatsCluster;
let n = 0;

beforeAll(async () => { nats = await startNats(1); }, 30_000);
afterAll(async () => { await nats?.close(); });

/** Two brokers of a fresh cluster with per-topic interest; `seen` counts b's publishes by topic. */
async function pair(cluster: Partial<NonNullable<BrokerOptions['cluster']>> = {}):
Promise<{ a: Broker; b: Broker; seen: Map<string, number>; stop: Subscription }> {
  const options = { servers: nats.urls, name: `i${process.pid}_${++n}`, advertiseInterval: 200, interest: 'subscribed' as const, ...cluster };
  const a = await scope.broker({ name: 'a', cluster: options });
  const b = await scope.broker({ name: 'b', cluster: options });
  const seen = new Map<string, number>();
  const stop = b.messages$.subscribe((p) => seen.set(p.topic, (seen.get(p.topic) ?? 0) + 1));
  return { a, b, seen, stop };
}

/** Everything `source` emits, until `stop`. */
function gather<T>(source: Observable<T>): { values: T[]; stop: Subscription } {
  const values: T[] = [];
  return { values, stop: source.subscribe((v) => values.push(v)) };
}

/** Publish `topic` from `pub` until `sub`'s collector got one (a NATS subscription takes a round trip). */
async function deliveredOnce(pub: Component, topic: string, got: { values: unknown[] }): Promise<void> {
  await waitFor(() => {
    if (got.values.length > 0) return true;
    pub.publish(topic, 'probe');
    return false;
  }, { timeout: 5_000, interval: 50, what: `${topic} to be delivered across brokers` });
}

/** Publish a marker b subscribes to, after the rest: once it arrived, anything published before it has too. */
async function barrier(pub: Component, marks: { values: unknown[] }): Promise<void> {
  const before = marks.values.length;
  await waitFor(() => {
    if (marks.values.length > before) return true;
    pub.publish('mark', 'm');
    return false;
  }, { timeout: 5_000, interval: 100, what: 'the marker' });
}

describe('per-topic NATS interest', () => {
  it('maps patterns to NATS wildcards that cover every topic they match', () => {
    expect(patternToSubject('p', 'plant/1/t')).toBe('p.plant.1.t');
    expect(patternToSubject('p', 'plant/*/t')).toBe('p.plant.*.t');
    expect(patternToSubject('p', 'plant/**')).toBe('p.plant.>');
    expect(patternToSubject('p', 'plant/**/t')).toBe('p.plant.>');
    expect(patternToSubject('p', 'pl*nt/x')).toBe('p.>');
    expect(patternToSubject('p', '*')).toBe('p.>');
    expect(patternToSubject('p', '**')).toBe('p.>');
    expect(subjectMatches('p.plant.*.t', 'p.plant.1.t')).toBe(true);
    expect(subjectMatches('p.plant.*.t', 'p.plant.1.u')).toBe(false);
    expect(subjectMatches('p.plant.>', 'p.plant')).toBe(false);
    expect(subjectMatches('p.plant.>', 'p.plant.%')).toBe(true);
  });

  it('does not take topics nobody subscribes to on a broker; a subscription on the fly starts them, its end stops them', async () => {
    const { a, b, seen, stop } = await pair();
    try {
      const pub = await scope.connect(a, 'pub');
      const [watcher, late] = await scope.connectAll(b, 'watcher', 'late');
      const marks = gather(watcher.subscribe$('mark'));
      await roundTrip(watcher);
      await barrier(pub, marks);
      for (let i = 0; i < 20; i++) pub.publish('quiet/1', i);
      await barrier(pub, marks);
      expect(seen.get('quiet/1')).toBeUndefined();

      const got = gather(late.subscribe$('quiet/1'));
      await roundTrip(late);
      await deliveredOnce(pub, 'quiet/1', got);
      for (let i = 0; i < 5; i++) pub.publish('quiet/1', i);
      await barrier(pub, marks);
      expect(got.values.length).toBeGreaterThanOrEqual(6);
      expect(seen.get('quiet/1')).toBe(got.values.length); // once each, none routed twice

      got.stop.unsubscribe();
      await roundTrip(late);
      await barrier(pub, marks); // past the flush that drops the NATS subscription
      const before = seen.get('quiet/1');
      for (let i = 0; i < 20; i++) pub.publish('quiet/1', i);
      await barrier(pub, marks);
      expect(seen.get('quiet/1')).toBe(before);
    } finally {
      stop.unsubscribe();
    }
  }, 40_000);

  it('takes what a pattern matches and nothing else, once each where an exact topic and a pattern overlap', async () => {
    const { a, b, seen, stop } = await pair();
    try {
      const pub = await scope.connect(a, 'pub');
      const [watcher, wild, exact] = await scope.connectAll(b, 'watcher', 'wild', 'exact');
      const marks = gather(watcher.subscribe$('mark'));
      const gotWild = gather(wild.subscribe$('plant/*/t'));
      const gotExact = gather(exact.subscribe$('plant/1/t'));
      await roundTrip(watcher, wild, exact);
      await deliveredOnce(pub, 'plant/1/t', gotExact);
      await barrier(pub, marks);
      const [w0, e0] = [gotWild.values.length, gotExact.values.length];
      for (let i = 0; i < 10; i++) {
        pub.publish('plant/1/t', i);
        pub.publish('plant/2/t', i);
        pub.publish('other/1/t', i);
      }
      await barrier(pub, marks);
      expect(gotExact.values.length - e0).toBe(10);
      expect(gotWild.values.length - w0).toBe(20);
      expect(seen.get('other/1/t')).toBeUndefined();
      expect(seen.get('plant/2/t')).toBe(10);
      expect(seen.get('plant/1/t')).toBe(gotExact.values.length);
    } finally {
      stop.unsubscribe();
    }
  }, 40_000);

  it('takes the topics of a shared subscription (group) whose only members are on this broker', async () => {
    const { a, b, seen, stop } = await pair();
    try {
      const pub = await scope.connect(a, 'pub');
      const [watcher, worker] = await scope.connectAll(b, 'watcher', 'worker');
      const marks = gather(watcher.subscribe$('mark'));
      const jobs = gather(worker.subscribe$('jobs/*', { group: 'workers' }));
      await roundTrip(watcher, worker);
      await deliveredOnce(pub, 'jobs/1', jobs);
      pub.publish('skipped/1', 0);
      await barrier(pub, marks);
      expect(seen.get('skipped/1')).toBeUndefined();
      jobs.stop.unsubscribe();
      await roundTrip(worker);
      await barrier(pub, marks);
      const before = seen.get('jobs/1');
      pub.publish('jobs/1', 'after');
      await barrier(pub, marks);
      expect(seen.get('jobs/1')).toBe(before);
    } finally {
      stop.unsubscribe();
    }
  }, 40_000);

  it('falls back to every topic above the limit of subscriptions, and for the catch-all', async () => {
    const { a, b, seen, stop } = await pair({ interestLimit: 3 });
    try {
      const pub = await scope.connect(a, 'pub');
      const [watcher, many] = await scope.connectAll(b, 'watcher', 'many');
      const marks = gather(watcher.subscribe$('mark'));
      for (const t of ['t/1', 't/2', 't/3']) many.subscribe$(t).subscribe();
      await roundTrip(watcher, many);
      await barrier(pub, marks);
      pub.publish('unrelated', 1);
      await barrier(pub, marks);
      expect(seen.get('unrelated')).toBe(1);

      const { b: b2, a: a2, seen: seen2, stop: stop2 } = await pair();
      try {
        const pub2 = await scope.connect(a2, 'pub');
        const all = await scope.connect(b2, 'all');
        const got = gather(all.subscribe$('*'));
        await roundTrip(all);
        await deliveredOnce(pub2, 'any/thing', got);
        expect(seen2.get('any/thing')).toBe(got.values.length);
      } finally {
        stop2.unsubscribe();
      }
    } finally {
      stop.unsubscribe();
    }
  }, 40_000);
});
