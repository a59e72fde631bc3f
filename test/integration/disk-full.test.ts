/**
 * A failed disk is not a half-alive broker (README "Durability"): a real broker process on a
 * tiny tmpfs that fills up acknowledges nothing it could not store; once space returns it
 * stores and acknowledges what waited; a disk that stays full past `--store-failure-timeout`
 * stops the broker with exit code 3 and a clear message, for a supervisor to restart it.
 * Needs root (mount -t tmpfs); skipped, saying so, elsewhere.
 */
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canMountTmpfs, fillDisk, tryMount, unmount } from './tmpfs.js';
import { component, LastReceived, type Component } from '../../src/index.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';

const opened: Component[] = [];
const brokers: BrokerProcess[] = [];
let base: string | undefined;
let mounted: string | undefined;

const canMount = await canMountTmpfs();

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await Promise.all(brokers.splice(0).map(kill));
  if (mounted !== undefined) unmount(mounted);
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  mounted = base = undefined;
});

function open(url: string, options = {}): Component {
  const node = component(url, { reconnect: { initialDelay: 50, maxDelay: 200 }, ...options });
  opened.push(node);
  return node;
}

/** Fill the file system with files of 64 KiB until it refuses; returns their paths. */
async function settled(p: Promise<unknown>, ms: number): Promise<'acked' | 'pending'> {
  return Promise.race([p.then(() => 'acked' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe.skipIf(!canMount)('a full disk (tmpfs; needs root to mount)', () => {
  // fsync 'always' commits on lmdb's write thread (asynchronous, a failure arrives as a rejection).
  it.each(['off', 'always'])('acks nothing unstored, recovers when space returns, and exits 3 when it does not (fsync %s)', async (fsync) => {
    base = await mkdtemp(join(tmpdir(), 'rembus-full-'));
    const dataDir = join(base, 'mnt');
    await mkdir(dataDir);
    expect(tryMount(dataDir)).toBe(true);
    mounted = dataDir;
    const port = await freePort();
    let broker = await startBroker(dataDir, port, ['--store-failure-timeout', '60000', '--fsync', fsync]);
    brokers.push(broker);

    const keeper = open(`${broker.url}/keeper`);
    keeper.subscribe$('big', { msgfrom: LastReceived }).subscribe();
    await keeper.ready();
    await keeper.rpc('rid');
    await keeper.close();

    const pub = open(`${broker.url}/producer`, { ackTimeout: 300, sendRetries: 1_000 });
    await pub.publishAsync('big', [0, 'small'], { qos: 1 });

    const fillers = await fillDisk(dataDir);
    expect(fillers.length).toBeGreaterThan(0);
    const payload = 'x'.repeat(200_000);
    const waiting = pub.publishAsync('big', [1, payload], { qos: 1 });
    // The disk is full: the broker keeps retrying and acknowledges nothing.
    expect(await settled(waiting, 2_000)).toBe('pending');
    expect(broker.stderr()).toContain('commit failed');

    await Promise.all(fillers.map((f) => unlink(f)));
    expect(await settled(waiting, 20_000)).toBe('acked');
    await pub.close();

    // Stored for real: after a SIGKILL the subscriber gets both messages from the log.
    await kill(broker);
    broker = await startBroker(dataDir, port, ['--store-failure-timeout', '1000', '--fsync', fsync]);
    brokers.push(broker);
    const back = open(`${broker.url}/keeper`);
    const got: number[] = [];
    back.subscribe$('big', { msgfrom: LastReceived }).subscribe((m) => got.push(m.args[0] as number));
    await back.ready();
    const end = Date.now() + 15_000;
    while (!(got.includes(0) && got.includes(1)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(got).toContain(0);
    expect(got).toContain(1);

    // Full for good: past --store-failure-timeout the broker exits 3, saying why.
    await fillDisk(dataDir);
    const pub2 = open(`${broker.url}/producer2`, { ackTimeout: 300, sendRetries: 1_000 });
    const never = pub2.publishAsync('big', [2, payload], { qos: 1 });
    never.catch(() => undefined);
    const code = await Promise.race([broker.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(code).toBe(3);
    expect(broker.stderr()).toContain('durable store failed');
    expect(await settled(never, 10)).toBe('pending');
  }, 120_000);
});
