/**
 * The message log's size bound (`maxLogBytes`, `--max-log-size`; README "Durability"), on a
 * real 3 MiB tmpfs: a publisher that never stops would fill it (the broker then stops with
 * STORE_FAILED, and a restart finds it full); with a 1 MiB bound the oldest messages go —
 * counted, logged, the offline twins they cut named — every publish is acknowledged, replay
 * returns the newest messages without a gap, across a restart, and a broker restarted on a
 * disk its log filled comes back once given a bound. Needs root (mount -t tmpfs); skipped,
 * saying so, elsewhere.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';
import { component, connect, LastReceived, type Component } from '../../src/index.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import type { Store } from '../../src/store/types.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';
import { waitFor, warnRecorder } from './helpers.js';
import { canMountTmpfs, tryMount, unmount } from './tmpfs.js';

const canMount = await canMountTmpfs();
const MiB = 1024 * 1024;
const opened: { close(): unknown }[] = [];
const brokers: BrokerProcess[] = [];
let base: string | undefined;
let mounted: string | undefined;

afterEach(async () => {
  for (const c of opened.splice(0).reverse()) await c.close();
  await Promise.all(brokers.splice(0).map(kill));
  if (mounted !== undefined) unmount(mounted);
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  mounted = base = undefined;
});

async function tmpfs(): Promise<string> {
  base = await mkdtemp(join(tmpdir(), 'rembus-log-bound-'));
  const dir = join(base, 'mnt');
  await mkdir(dir);
  expect(tryMount(dir)).toBe(true);
  mounted = dir;
  return dir;
}

/**
 * The broker of the flood test: a 1 MiB log bound, and no `__broker__/stats` snapshots — they are
 * logged (one a second), so a trim counted them with the flood's messages whenever the test ran
 * past a tick (a loaded machine), and the counts below would no longer be the flood's alone.
 */
const BOUNDED = { port: 0, host: '127.0.0.1', maxLogBytes: MiB, storeFailureTimeout: 2_000, http: { statsInterval: 0 } } as const;

/** Messages 0..n-1 on `big` at QoS1 (40 KB each), ten in flight at a time; every one acknowledged. */
async function flood(pub: Component, from: number, n: number): Promise<void> {
  const payload = 'x'.repeat(40_000);
  for (let i = from; i < from + n; i += 10) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(from + n, i + 10); j++) batch.push(pub.publishAsync('big', [j, payload], { qos: 1 }));
    await Promise.all(batch);
  }
}

/** What a named subscriber with LastReceived is replayed on `big` when it connects, in order. */
async function replayed(url: string, name: string, last: number): Promise<number[]> {
  const sub = await connect(`${url}/${name}`);
  opened.push(sub);
  const got: number[] = [];
  sub.subscribe$('big', { msgfrom: LastReceived }).subscribe((m) => got.push(m.args[0] as number));
  await waitFor(() => got.at(-1) === last, { timeout: 15_000, interval: 20, what: `replay up to ${last}, got ${got.length}` });
  return got;
}

function contiguous(got: readonly number[]): boolean {
  return got.every((v, i) => i === 0 || v === got[i - 1]! + 1);
}

/** Wait until the log's trims are over: `logDropped` unchanged across 300 ms. */
async function trimsSettled(b: Broker): Promise<void> {
  let last = -1;
  await waitFor(() => {
    const now = b.stats().logDropped;
    const same = now === last;
    last = now;
    return same;
  }, { timeout: 10_000, interval: 300, what: 'the trims to settle' });
}

describe.skipIf(!canMount)('the message log size bound (tmpfs; needs root to mount)', () => {
  it.each(['off', 'always'] as const)('keeps a 1 MiB log on a 3 MiB disk under a 6 MB flood, counted, logged, replayed, across a restart (fsync %s)', async (fsync) => {
    const dir = await tmpfs();
    const path = join(dir, 'broker.lmdb');
    const log = warnRecorder();
    let store: Store = await openLmdbStore({ path, fsync });
    let b: Broker = await broker({ ...BOUNDED, store, logger: log });
    opened.push({ close: () => b.close() });
    // An offline named subscriber: the flood trims what it has not been sent, and says so.
    const lagger = await connect(`${b.url!}/lagger`);
    lagger.subscribe$('big', { msgfrom: LastReceived }).subscribe();
    await lagger.rpc('rid');
    await lagger.close();

    const pub = await connect(`${b.url!}/pub`);
    opened.push(pub);
    await flood(pub, 0, 150); // 6 MB: twice the disk
    expect(b.failure).toBeUndefined();
    await waitFor(() => b.stats().logDropped > 0, { timeout: 5_000, interval: 20, what: 'a trim' });
    await trimsSettled(b); // a trim runs after the commit that crossed the bound: the flood's last ones may still be going
    expect((await stat(path)).size).toBeLessThanOrEqual(2.5 * MiB);
    const bound = log.warnings.filter((w) => w.msg.includes('size bound'));
    expect(bound.length).toBeGreaterThan(0);
    expect(bound.some((w) => (w.obj['names'] as string[] | undefined)?.includes('lagger'))).toBe(true);
    const dropped = b.stats().logDropped;
    const metrics = await (await fetch(`${b.url!.replace('ws:', 'http:')}/metrics`)).text();
    expect(metrics).toContain(`rembus_log_dropped_total ${dropped}`);

    // The replay returns what the bound kept: the newest messages, in order, no gap, ~1 MiB of them.
    const kept = await replayed(b.url!, 'lagger', 149);
    expect(contiguous(kept)).toBe(true);
    expect(kept[0]).toBeGreaterThan(100);
    expect(kept.length).toBeGreaterThan(15);
    expect(dropped).toBe(kept[0]); // every message before the first kept one was counted

    // Restarted on the same file: the log, its bound and the counting go on.
    for (const c of opened.splice(0).reverse()) await c.close();
    store = await openLmdbStore({ path, fsync });
    b = await broker({ ...BOUNDED, store, logger: log });
    opened.push({ close: () => b.close() });
    const again = await replayed(b.url!, 'fresh', 149);
    expect(again).toEqual(kept);
    const pub2 = await connect(`${b.url!}/pub`);
    opened.push(pub2);
    await flood(pub2, 150, 100);
    expect(b.failure).toBeUndefined();
    await waitFor(() => b.stats().logDropped > 0, { timeout: 5_000, interval: 20, what: 'a trim after the restart' });
    await trimsSettled(b);
    // lagger (mark 149) was offline again: what it missed past the bound is gone, and said so.
    expect(log.warnings.filter((w) => (w.obj['names'] as string[] | undefined)?.includes('lagger')).length).toBeGreaterThan(1);
    const after = await replayed(b.url!, 'lagger', 249);
    expect(contiguous(after)).toBe(true);
    expect(after[0]).toBe(kept[0]! + b.stats().logDropped); // each one dropped since the restart counted
  }, 90_000);

  it('a broker whose log filled the disk (exit 3) comes back with --max-log-size, trims, and acknowledges again', async () => {
    const dir = await tmpfs();
    const port = await freePort();
    let proc = await startBroker(dir, port, ['--store-failure-timeout', '500']);
    brokers.push(proc);
    const pub = component(`${proc.url}/pub`, { ackTimeout: 300, sendRetries: 1_000, reconnect: { initialDelay: 50, maxDelay: 200 } });
    opened.push(pub);
    let acked = 0;
    const payload = 'x'.repeat(40_000);
    const exited = proc.exited;
    for (let i = 0; ; i++) {
      const done = pub.publishAsync('big', [i, payload], { qos: 1 });
      done.catch(() => undefined);
      const r = await Promise.race([done.then(() => 'acked' as const), exited.then(() => 'exited' as const)]);
      if (r === 'exited') break;
      acked = i + 1;
    }
    expect(await exited).toBe(3);
    expect(acked).toBeGreaterThan(20);
    // Gone with the broker: left open, it re-sent its unacknowledged publish (number `acked`)
    // whenever it reconnected, which on a loaded machine came after pub2's flood and ended the
    // replay with it (… 134, 135, 75).
    await pub.close();

    proc = await startBroker(dir, port, ['--max-log-size', '1MiB', '--store-failure-timeout', '2000']);
    brokers.push(proc);
    expect(proc.stderr()).toMatch(/size bound/);
    const pub2 = await connect(`${proc.url}/pub2`);
    opened.push(pub2);
    await pub2.publishAsync('big', [acked, payload], { qos: 1 });
    await flood(pub2, acked + 1, 60);
    const got = await replayed(proc.url, 'late', acked + 60);
    expect(contiguous(got)).toBe(true);
    expect(got[0]).toBeGreaterThan(acked);
    expect(proc.child.exitCode).toBeNull();
  }, 90_000);
});

describe('rembus broker --max-log-size', () => {
  it.each(['10', '64k', 'lots', '-1MiB'])('refuses %s as a usage error (exit 1), naming the flag', async (size) => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--no-persist', '--port', '0', '--max-log-size', size],
        { cwd: join(import.meta.dirname, '..', '..'), timeout: 20_000 },
        (err, _out, stderr) => resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--max-log-size.*must be a size of at least 64KiB/);
  }, 30_000);
});
