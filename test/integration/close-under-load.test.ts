/**
 * A durable broker stopped cleanly in the middle of a QoS1 stream (README: "close() is
 * idempotent"; "The broker acknowledges a QoS1/2 publish only once it is committed"; CLI exit
 * code 0): `close()` called twice at once while commits are in flight resolves both calls,
 * releases the data directory, and every publish it acknowledged is in the log when a broker
 * starts again on that directory; `rembus broker` stopped by SIGTERM under the same load exits
 * 0 and keeps every acknowledged message too. durability.test.ts and crash-exactly-once.test.ts
 * do this with SIGKILL; a clean stop takes another path (the pending commit, the lock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { component, ConnectionClosedError, period, type Component } from '../../src/index.js';
import { kill, startBroker, type BrokerProcess } from './broker-process.js';
import { useScope, waitFor } from './helpers.js';

const scope = useScope();
const dirs: string[] = [];
const procs: BrokerProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => kill(p)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rembus-close-load-'));
  dirs.push(dir);
  return dir;
}

/**
 * Publish QoS1 values 0..total-1 on `topic`, `window` in flight at once, until `stop` says so or
 * all are sent; resolves with the values the broker acknowledged once every publish settled.
 */
function load(pub: Component, topic: string, total: number, window: number): { acked: Set<number>; done: Promise<Set<number>> } {
  const acked = new Set<number>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const value = next++;
      try {
        await pub.publishAsync(topic, [value], { qos: 1 });
        acked.add(value);
      } catch (err) {
        // The broker went away with it unacknowledged, or the component closed: not promised.
        if (!(err instanceof ConnectionClosedError) && (err as { code?: string }).code !== 'ACK_TIMEOUT') throw err;
        return;
      }
    }
  };
  const done = Promise.all(Array.from({ length: window }, lane)).then(() => acked);
  return { acked, done };
}

/** Every value a fresh reader replays from the log of `url` on `topic`. */
async function logged(url: string, topic: string, expected: Set<number>): Promise<Set<number>> {
  const reader = scope.track(component(`${url}/reader`));
  const seen = new Set<number>();
  reader.subscribe$<[number]>(topic, { msgfrom: period({ minutes: 10 }) }).subscribe((m) => seen.add(m.args[0]));
  await reader.ready();
  await waitFor(() => [...expected].every((v) => seen.has(v)), { timeout: 20_000,
    what: `the ${expected.size} acknowledged values in the replay (have ${seen.size})` }).catch((err: Error) => {
    const missing = [...expected].filter((v) => !seen.has(v));
    throw new Error(`${err.message}; missing ${missing.length}: ${missing.slice(0, 20).join(', ')}`);
  });
  return seen;
}

describe('a durable broker closed under QoS1 load', () => {
  it('close() twice at once resolves both, frees the data dir, and loses nothing it acknowledged', async () => {
    const dataDir = await tempDir();
    const b1 = await scope.broker({ dataDir });
    const pub = scope.track(component(`${b1.url!}/pub`, { reconnect: { initialDelay: 20, maxDelay: 50 }, ackTimeout: 500, sendRetries: 2 }));
    await pub.ready();
    const { acked, done } = load(pub, 'load', 50_000, 64);
    await waitFor(() => acked.size >= 300, { timeout: 20_000, what: '300 acknowledged publishes' });
    const closes = await Promise.allSettled([b1.close(), b1.close()]);
    expect(closes.map((c) => c.status)).toEqual(['fulfilled', 'fulfilled']);
    await b1.close(); // and once more after
    const before = new Set(acked);
    await pub.close();
    await done;
    expect(acked).toEqual(before); // nothing acknowledged after close() resolved

    const b2 = await scope.broker({ dataDir }); // the lock was released
    const seen = await logged(b2.url!, 'load', acked);
    expect(Math.max(...seen)).toBeLessThan(50_000);
  });

  it('rembus broker stopped by SIGTERM under load exits 0 and keeps every acknowledged message', async () => {
    const dataDir = await tempDir();
    const first = await startBroker(dataDir, 0);
    procs.push(first);
    const pub = scope.track(component(`${first.url}/pub`, { reconnect: { initialDelay: 20, maxDelay: 50 }, ackTimeout: 500, sendRetries: 2 }));
    await pub.ready();
    const { acked, done } = load(pub, 'load', 50_000, 64);
    await waitFor(() => acked.size >= 300, { timeout: 30_000, what: '300 acknowledged publishes' });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await pub.close();
    await done;

    const second = await startBroker(dataDir, 0);
    procs.push(second);
    await logged(second.url, 'load', acked);
  });
});
