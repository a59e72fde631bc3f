/**
 * README "Durability" / "A failed disk", attacked where disk-full.test.ts does not go: the LMDB
 * log under `fsync: 'interval'` (its sync timer runs while commits fail), and QoS2 — a publisher
 * re-sending its copies while the disk is full must get its ACKs only once the message is
 * stored, and a subscriber must get it once. On a real full tmpfs; needs root (mount -t tmpfs),
 * skipped, saying so, elsewhere.
 */
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';
import { connect, LastReceived, type Component } from '../../src/index.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import { canMountTmpfs, fillDisk, tryMount, unmount } from './tmpfs.js';
import { roundTrip, waitFor } from './helpers.js';

const canMount = await canMountTmpfs();
const opened: { close(): unknown }[] = [];
let base: string | undefined;
let mounted: string | undefined;

afterEach(async () => {
  for (const c of opened.splice(0).reverse()) await c.close();
  if (mounted !== undefined) unmount(mounted);
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  mounted = base = undefined;
});

async function settled(p: Promise<unknown>, ms: number): Promise<'acked' | 'pending'> {
  return Promise.race([p.then(() => 'acked' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe.skipIf(!canMount)('a full disk under the LMDB log (tmpfs; needs root to mount)', () => {
  it.each(['interval', 'off'] as const)('QoS2 copies re-sent while full: acked only once stored, delivered once (fsync %s)', async (fsync) => {
    base = await mkdtemp(join(tmpdir(), 'rembus-lmdb-full-'));
    const dataDir = join(base, 'mnt');
    await mkdir(dataDir);
    expect(tryMount(dataDir)).toBe(true);
    mounted = dataDir;
    const path = join(dataDir, 'broker.lmdb');
    const store = await openLmdbStore({ path, fsync, fsyncInterval: 20 });
    const b: Broker = await broker({ port: 0, host: '127.0.0.1', store, storeFailureTimeout: 60_000 });
    opened.push({ close: () => b.close() }, { close: () => store.close() });
    const sub: Component = await connect(`${b.url!}/sub`);
    opened.push(sub);
    const got: unknown[] = [];
    sub.subscribe$('big', { msgfrom: LastReceived }).subscribe((m) => got.push(m.args[0]));
    await roundTrip(sub);
    const pub: Component = await connect(`${b.url!}/pub`, { ackTimeout: 100, sendRetries: 1_000 });
    opened.push(pub);
    await pub.publishAsync('big', [0, 'small'], { qos: 2 });

    const fillers = await fillDisk(dataDir);
    expect(fillers.length).toBeGreaterThan(0);
    const waiting = pub.publishAsync('big', [1, 'x'.repeat(200_000)], { qos: 2 });
    // Full: every copy (re-sent every 100 ms) waits; none is acknowledged; the sync timer ticks on.
    expect(await settled(waiting, 1_500)).toBe('pending');

    await Promise.all(fillers.map((f) => unlink(f)));
    expect(await settled(waiting, 10_000)).toBe('acked');
    await roundTrip(pub, sub);
    await waitFor(() => got.length >= 2, { timeout: 5_000, interval: 20, what: `two deliveries, got ${JSON.stringify(got)}` });
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
    expect(got).toEqual([0, 1]);

    // Stored once: the log holds each message once after the broker is gone.
    for (const c of opened.splice(0).reverse()) await c.close();
    const reopened = await openLmdbStore({ path });
    opened.push(reopened);
    const rows = await reopened.readMessages({ after: 0n, upTo: 2n ** 64n - 1n, limit: 1_000 });
    expect(rows.filter((r) => r.topic === 'big')).toHaveLength(2);
  }, 40_000);

  it('a disk that stays full stops the broker with STORE_FAILED, the publish never acknowledged (fsync interval)', async () => {
    base = await mkdtemp(join(tmpdir(), 'rembus-lmdb-full-'));
    const dataDir = join(base, 'mnt');
    await mkdir(dataDir);
    expect(tryMount(dataDir)).toBe(true);
    mounted = dataDir;
    const store = await openLmdbStore({ path: join(dataDir, 'broker.lmdb'), fsync: 'interval', fsyncInterval: 20 });
    const b: Broker = await broker({ port: 0, host: '127.0.0.1', store, storeFailureTimeout: 1_000 });
    opened.push({ close: () => b.close() }, { close: () => store.close() });
    const pub: Component = await connect(`${b.url!}/pub`, { ackTimeout: 100, sendRetries: 1_000 });
    opened.push(pub);
    await pub.publishAsync('big', [0], { qos: 1 });
    await fillDisk(dataDir);
    const never = pub.publishAsync('big', [1, 'x'.repeat(200_000)], { qos: 1 });
    never.catch(() => undefined);
    await waitFor(() => b.failure !== undefined, { timeout: 8_000, interval: 20, what: 'the broker to give up its store' });
    expect((b.failure as Error & { code?: string }).code).toBe('STORE_FAILED');
    expect(await settled(never, 200)).toBe('pending');
  }, 20_000);
});
