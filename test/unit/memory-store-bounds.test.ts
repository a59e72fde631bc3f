import { describe, expect, it } from 'vitest';
import { MEMORY_LOG_DEFAULTS, memoryStore } from '../../src/store/memory-store.js';
import type { StoredMessage } from '../../src/store/types.js';

const row = (recv: bigint, bytes = 100): StoredMessage =>
  ({ recv, slot: null, qos: 0, uid: null, topic: 'bench/telemetry', data: new Uint8Array(bytes).fill(1) });
const ALL = { after: 0n, upTo: 2n ** 64n, limit: Infinity };

/** Append `n` rows in batches of 512 (MessageLog → Store.commit). */
async function fill(store: ReturnType<typeof memoryStore>, n: number, bytes?: number): Promise<void> {
  for (let from = 1; from <= n; from += 512) {
    const messages = [];
    for (let i = from; i < Math.min(from + 512, n + 1); i++) messages.push(row(BigInt(i), bytes));
    await store.commit({ messages, twins: [] });
  }
}

describe('memoryStore log bounds', () => {
  it('keeps the newest messages up to 10,000 by default, oldest 4,096 dropped at once', async () => {
    expect(MEMORY_LOG_DEFAULTS.maxMessages).toBe(10_000);
    const store = memoryStore();
    await fill(store, 50_000);
    const kept = (await store.readMessages(ALL)).map((m) => m.recv);
    expect(kept.length).toBeLessThanOrEqual(10_000);
    expect(kept.length).toBeGreaterThan(10_000 - 4096);
    expect(kept.at(-1)).toBe(50_000n);
    expect(kept).toEqual(kept.map((_, i) => 50_001n - BigInt(kept.length) + BigInt(i))); // no gap
    // A replay asked from before the window starts at the oldest kept message.
    expect((await store.readMessages({ after: 1n, upTo: 2n ** 64n, limit: 1 }))[0]!.recv).toBe(kept[0]);
  });

  it('keeps at most 8 MiB of topics and args by default (plus the segment being filled)', async () => {
    const store = memoryStore();
    await fill(store, 5_000, 4096); // 20 MiB of args
    const kept = await store.readMessages(ALL);
    const bytes = kept.reduce((n, m) => n + m.data.length + m.topic.length, 0);
    expect(bytes).toBeLessThanOrEqual(MEMORY_LOG_DEFAULTS.maxBytes);
    expect(bytes).toBeGreaterThan(MEMORY_LOG_DEFAULTS.maxBytes - 1024 * 1024);
    expect(kept.at(-1)!.recv).toBe(5_000n);
  });

  it('keeps more when asked: maxMessages and maxBytes are the bounds', async () => {
    const store = memoryStore({ maxMessages: 100_000, maxBytes: 64 * 1024 * 1024 });
    await fill(store, 50_000);
    expect((await store.readMessages(ALL)).length).toBe(50_000);
  });
});
