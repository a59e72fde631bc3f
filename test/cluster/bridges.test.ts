/**
 * `--join` (and `--mqtt`, same path) on several brokers of a cluster (issue 19): only the
 * leader runs the bridges, so a message crosses between the cluster and the joined broker once,
 * and when the leader goes the next one opens them.
 */
import { firstValueFrom, filter } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import type { LinkState } from '../../src/bridge/link-state.js';
import type { Component } from '../../src/index.js';
import { roundTrip, useScope, waitFor } from '../integration/helpers.js';
import { startNats, type NatsCluster } from './nats.js';

const scope = useScope();
let nats: NatsCluster;
beforeAll(async () => { nats = await startNats(1); }, 30_000);
afterAll(async () => { await nats?.close(); });

const latest = (b: Broker): readonly LinkState[] => {
  let v: readonly LinkState[] = [];
  b.links$.subscribe((x) => { v = x; }).unsubscribe();
  return v;
};
const up = (b: Broker): boolean => latest(b).length > 0 && latest(b).every((l) => l.status.type === 'up');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('bridges of a cluster', () => {
  it('runs --join on the leader only: each message crosses once, and the next leader takes the link over', async () => {
    const x = await scope.broker({ name: 'x' });
    const cluster = { servers: nats.urls, name: `j${process.pid}`, leaseTtl: 1_000, advertiseInterval: 200 };
    const a = await scope.broker({ name: 'a', join: [x.url!], cluster });
    const b = await scope.broker({ name: 'b', join: [x.url!], cluster });
    await waitFor(() => up(a) || up(b), { timeout: 15_000, what: 'the leader\'s join' });
    await sleep(1_500); // a lease time: the follower has not opened a link meanwhile
    expect([latest(a).length, latest(b).length].sort()).toEqual([0, 1]);
    const [leader, follower] = up(a) ? [a, b] : [b, a];

    const onX = await scope.connect(x, 'on-x');
    const onLeader = await scope.connect(leader, 'on-leader');
    const onFollower = await scope.connect(follower, 'on-follower');
    const got = (c: Component, topic: string): { values: unknown[] } => {
      const out = { values: [] as unknown[] };
      c.subscribe$(topic).subscribe((m) => out.values.push(m.args[0]));
      return out;
    };
    const atLeader = got(onLeader, 'fed/x');
    const atFollower = got(onFollower, 'fed/x');
    const atX = got(onX, 'fed/y');
    await roundTrip(onX, onLeader, onFollower);
    // The bridge learns the subscriptions on its refresh: publish until the first one crosses.
    await waitFor(async () => {
      onX.publish('fed/x', 0);
      await sleep(100);
      return atFollower.values.length > 0 && atLeader.values.length > 0;
    }, { timeout: 10_000, what: 'fed/x to cross' });
    await waitFor(async () => {
      onFollower.publish('fed/y', 0);
      await sleep(100);
      return atX.values.length > 0;
    }, { timeout: 10_000, what: 'fed/y to cross' });
    await sleep(500);
    const base = { leader: atLeader.values.length, follower: atFollower.values.length, x: atX.values.length };
    for (let i = 1; i <= 3; i++) {
      onX.publish('fed/x', i);
      onFollower.publish('fed/y', i);
    }
    await waitFor(() => atFollower.values.length >= base.follower + 3 && atX.values.length >= base.x + 3, { timeout: 10_000, what: 'the copies' });
    await sleep(500); // room for a second copy
    expect({ leader: atLeader.values.length - base.leader, follower: atFollower.values.length - base.follower, x: atX.values.length - base.x })
      .toEqual({ leader: 3, follower: 3, x: 3 });

    // The leader closes: the follower leads and opens the join.
    await leader.close();
    await firstValueFrom(follower.links$.pipe(filter((ls) => ls.length > 0 && ls.every((l) => l.status.type === 'up'))));
    const before = atFollower.values.length;
    await waitFor(async () => {
      onX.publish('fed/x', 100);
      await sleep(200);
      return atFollower.values.length > before;
    }, { timeout: 10_000, what: 'fed/x to cross through the new leader' });
    const n = atFollower.values.length;
    onX.publish('fed/x', 101);
    await waitFor(() => atFollower.values.length > n, { timeout: 5_000, what: 'the last copy' });
    await sleep(500);
    expect(atFollower.values.length).toBe(n + 1);
  }, 60_000);
});
