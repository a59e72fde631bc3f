/**
 * When the log buffers rows for a memory store (a store without `appendNow`, or after
 * `appendNow` refused one) it commits them in batches of MEMORY_APPEND_BATCH (issue 20, W7):
 * the entries waiting in the broker's buffer are few, so they die young. At the limit: one
 * entry short of a batch stays buffered until the interval; the batch-th entry commits all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageLog } from '../../src/broker/message-log.js';
import { MEMORY_APPEND_BATCH, memoryStore } from '../../src/store/memory-store.js';
import type { Logger } from '../../src/types.js';
import { buffering } from './log-stores.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const ALL = { after: 0n, upTo: 2n ** 63n, limit: 1_000_000 };
const pub = { type: 'pub' as const, flags: 0, topic: 't', args: [1] };

describe('MessageLog buffering for a memory store', () => {
  let log: MessageLog | undefined;
  afterEach(async () => {
    await log?.close();
  });

  it(`commits every ${MEMORY_APPEND_BATCH} entries without waiting for the interval`, async () => {
    const store = buffering(memoryStore());
    expect(store.appendBatch).toBe(MEMORY_APPEND_BATCH);
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet);
    for (let i = 0; i < MEMORY_APPEND_BATCH - 1; i++) log.append(pub, undefined);
    await Promise.resolve();
    expect(log.buffered).toBe(MEMORY_APPEND_BATCH - 1);
    expect(await store.readMessages(ALL)).toHaveLength(0);
    log.append(pub, undefined);
    // The memory store copies the batch in synchronously; the flush settles a microtask later.
    expect(await store.readMessages(ALL)).toHaveLength(MEMORY_APPEND_BATCH);
    await new Promise((r) => setImmediate(r));
    expect(log.buffered).toBe(0);
  });

  it('appends past the batch within one turn lose nothing and keep their order', async () => {
    const store = buffering(memoryStore());
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet);
    const n = 5 * MEMORY_APPEND_BATCH + 7;
    const times: bigint[] = [];
    for (let i = 0; i < n; i++) times.push(log.append({ ...pub, args: [i] }, undefined));
    await log.flush();
    const rows = await store.readMessages(ALL);
    expect(rows.map((r) => r.recv)).toEqual(times);
  });
});
