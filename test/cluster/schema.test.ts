/**
 * Data at rest in a cluster (issue 19 item 3), in process over a real nats-server: one broker
 * (the leader) writes the schema tables, the table RPCs of every broker reach it and answer
 * the same, and while the lease names a broker that does not answer they fail at once with a
 * typed error naming the cause.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { openDatabase } from '../../src/store/duckdb/database.js';
import type { Component } from '../../src/index.js';
import { useScope, waitFor } from '../integration/helpers.js';
import { startNats, type NatsCluster } from './nats.js';

export const SCHEMA = {
  tables: [
    { table: 'reading', topic: ':site/reading', columns: [{ col: 'site', type: 'TEXT' }, { col: 'n', type: 'BIGINT' }] },
    { table: 'device', topic: 'device', columns: [{ col: 'dev', type: 'TEXT', nullable: false }, { col: 'v', type: 'BIGINT' }], keys: ['dev'] },
  ],
};
type Frame = pl.DataFrame;
/** The lease of the takeover test: short, so it lapses quickly. */
const LEASE = 1_000;

const scope = useScope();
let nats: NatsCluster;
let dir: string;
let n = 0;
beforeAll(async () => { nats = await startNats(1); }, 30_000);
afterAll(async () => { await nats?.close(); });
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-cluster-schema-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

function member(name: string, cluster: string, leaseTtl?: number): Promise<Broker> {
  return scope.broker({ name, dataDir: join(dir, name), schema: SCHEMA,
    cluster: { servers: nats.urls, name: cluster, advertiseInterval: 200, ...(leaseTtl === undefined ? {} : { leaseTtl }) } });
}

/** Rows of `reading` as `site:n` strings, sorted (what a query answers, comparable across brokers). */
async function readings(c: Component, where?: string): Promise<string[]> {
  const df = await c.rpc<Frame>('query_reading', ...(where === undefined ? [] : [{ where }]));
  const sites = df.getColumn('site').toArray() as string[];
  const ns = df.getColumn('n').toArray() as (number | bigint)[];
  return sites.map((s, i) => `${s}:${Number(ns[i])}`).sort();
}

/** Rows of `reading` in the DuckDB file a broker wrote (after it closed). */
async function rowsOnDisk(name: string): Promise<number> {
  const db = await openDatabase(join(dir, name, `${name}.duckdb`));
  try {
    return Number((await db.read('SELECT count(*) AS c FROM reading'))[0]!['c']);
  } finally {
    await db.close();
  }
}

describe('schema tables in a cluster', () => {
  it('one broker writes every row once; query, upsert and delete answer the same from every broker', async () => {
    const cluster = `s${process.pid}_${++n}`;
    // The default lease (3 s): with a 1 s one, a leader starved of CPU for ~⅓ s misses its renewal,
    // steps down and resumes, and the QoS0 rows routed meanwhile are not stored (README "Data at
    // rest in a cluster": at most once) — seen 1 in 6 runs under two CPU hogs; this test is not about takeovers.
    const [a, b] = [await member('a', cluster), await member('b', cluster)];
    const [pubA, clientA] = await scope.connectAll(a, 'pubA', 'clientA');
    const [pubB, clientB] = await scope.connectAll(b, 'pubB', 'clientB');
    // Until a leader is elected the calls fail (typed, at once); then they answer.
    await waitFor(async () => (await clientA.rpc('query_reading').then(() => true, () => false)), { timeout: 10_000, what: 'a leader' });
    // The other broker knows it at once: it asks the bucket when it has not polled the lease yet.
    await clientB.rpc('query_reading');

    const acks: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      acks.push(pubA.publishAsync('a/reading', [{ n: i }], { qos: 1 }), pubB.publishAsync('b/reading', [{ n: i }], { qos: 2 }));
      pubA.publish('a0/reading', { n: i });
      pubB.publish('b0/reading', { n: i });
    }
    await Promise.all(acks);
    // Acknowledged QoS1/2 rows are in every answer at once, from either broker.
    const acked = (rows: string[]): string[] => rows.filter((r) => /^[ab]:/u.test(r));
    const want = [...Array.from({ length: 50 }, (_, i) => `a:${i}`), ...Array.from({ length: 50 }, (_, i) => `b:${i}`)].sort();
    expect(acked(await readings(clientA))).toEqual(want);
    expect(acked(await readings(clientB))).toEqual(want);
    // QoS0 rows reach the leader over core NATS: wait for them, then both brokers answer the same.
    await waitFor(async () => (await readings(clientB)).length === 200, { timeout: 10_000, what: 'the QoS0 rows' });
    const all = await readings(clientA);
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    expect(await readings(clientB)).toEqual(all);
    expect(await readings(clientB, "site = 'b0' AND n < 5")).toEqual(['b0:0', 'b0:1', 'b0:2', 'b0:3', 'b0:4']);

    await clientA.rpc('upsert_device', { dev: 'x', v: 1 });
    await clientB.rpc('upsert_device', [{ dev: 'x', v: 2 }, { dev: 'y', v: 3 }]);
    // A DataFrame argument crosses to the leader too (tag 80), whichever broker is called.
    for (const c of [clientA, clientB]) await c.rpc('upsert_device', pl.DataFrame({ dev: ['z'], v: [4] }));
    for (const c of [clientA, clientB]) {
      const df = await c.rpc<Frame>('query_device');
      const vs = df.getColumn('v').toArray().map(Number);
      expect(df.getColumn('dev').toArray().map((d, i) => `${String(d)}=${vs[i]}`).sort()).toEqual(['x=2', 'y=3', 'z=4']);
    }
    await clientB.rpc('delete_reading', { where: "site = 'a0'" });
    expect(await readings(clientA)).toHaveLength(150);
    expect(await readings(clientB)).toEqual(await readings(clientA));
    // A bad call fails the same way from either broker.
    const errA = await clientA.rpc('query_reading', { where: 'nope = 1' }).catch((e: unknown) => e);
    const errB = await clientB.rpc('query_reading', { where: 'nope = 1' }).catch((e: unknown) => e);
    expect(errA).toMatchObject({ remoteCode: 40 });
    expect((errB as { details: unknown }).details).toEqual((errA as { details: unknown }).details);

    // On disk: one broker's file holds the rows, the other's none.
    await a.close();
    await b.close();
    expect([await rowsOnDisk('a'), await rowsOnDisk('b')].sort()).toEqual([0, 150]);
  }, 60_000);

  it('fails table calls at once with CLUSTER_NO_LEADER while the lease holder does not answer, then takes over', async () => {
    const cluster = `s${process.pid}_${++n}`;
    // A lease held by a "broker" that is no broker: renewed by the test, answering nothing.
    const nc = await natsConnect({ servers: nats.urls });
    try {
      const kv = await new Kvm(jetstream(nc)).create(`REMBUS_${cluster}_LEADER`, { history: 1 });
      let rev = await kv.create('leader', new TextEncoder().encode('ghost'));
      const renew = setInterval(() => { void kv.update('leader', new TextEncoder().encode('ghost'), rev).then((r) => { rev = r; }, () => undefined); }, LEASE / 4);
      const b = await member('b', cluster, LEASE);
      const client = await scope.connect(b, 'client');
      await client.publishAsync('x/reading', [{ n: 1 }], { qos: 1 });
      await new Promise((r) => setTimeout(r, 2 * LEASE)); // b has seen the lease held
      for (const method of ['query_reading', 'upsert_device', 'delete_reading']) {
        const t0 = Date.now();
        const err = await client.rpc(method, ...(method === 'upsert_device' ? [{ dev: 'x' }] : [])).catch((e: unknown) => e);
        expect(Date.now() - t0).toBeLessThan(2_000);
        expect(err).toMatchObject({ remoteCode: 40 });
        expect(String((err as { details: unknown }).details)).toMatch(new RegExp(`${method}: cluster '${cluster}' has no leader to answer \\(leader ghost does not answer`, 'u'));
      }
      // The ghost stops renewing: b takes over after the lease lapses and has the row.
      clearInterval(renew);
      await waitFor(async () => (await client.rpc<Frame>('query_reading').then((df) => df.height, () => -1)) === 1,
        { timeout: 10 * LEASE, what: 'b to take over' });
    } finally {
      await nc.close();
    }
  }, 60_000);
});
