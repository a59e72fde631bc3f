import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogBound } from '../../src/broker/log-bound.js';
import { planTrim } from '../../src/store/lmdb/log-trim.js';
import { encodeRecord, recvKey } from '../../src/store/lmdb/log-record.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import { memoryStore } from '../../src/store/memory-store.js';
import type { Store, StoredMessage } from '../../src/store/types.js';
import { warnRecorder } from '../integration/helpers.js';

const row = (recv: bigint, bytes = 1_000): StoredMessage =>
  ({ recv, slot: null, qos: 0x10, uid: recv, topic: 't', data: new Uint8Array(bytes).fill(7) });
const ALL = { after: 0n, upTo: 2n ** 64n - 1n, limit: Infinity };
const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** `commits` commits of `rows` rows of `bytes` each, recv 1, 2, 3… */
async function fill(store: Store, commits: number, rows: number, bytes: number): Promise<void> {
  let recv = 1n;
  for (let c = 0; c < commits; c++) {
    const messages = Array.from({ length: rows }, () => row(recv++, bytes));
    await store.commit({ messages, twins: [] });
  }
}

/** An LMDB store in a temp dir (closed and removed after the test) holding 40 commits of ~50 KB. */
async function filledLmdbStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'rembus-trim-'));
  dirs.push(dir);
  const store = await openLmdbStore({ path: join(dir, 'b.lmdb') });
  stores.push(store);
  await fill(store, 40, 50, 1_000);
  return store;
}

describe('planTrim', () => {
  const rec = (first: bigint, n: number, bytes: number) => {
    const rows = Array.from({ length: n }, (_, i) => row(first + BigInt(i), bytes));
    return { key: recvKey(first), value: encodeRecord(rows) };
  };

  it('removes the oldest records until the estimate is under the target, counting their messages', () => {
    const records = [rec(1n, 10, 1_000), rec(11n, 10, 1_000), rec(21n, 10, 1_000), rec(31n, 10, 1_000)];
    // Each ~10 KB record sits on 3 overflow pages of 4 KiB: 12,288 bytes freed by each.
    const plan = planTrim(records, 4 * 12_288, 2 * 12_288, 4096);
    expect(plan.keys.map((k) => k.readBigUInt64BE(0))).toEqual([1n, 11n]);
    expect(plan.messages).toBe(20);
    expect(plan.oldest).toBe(21n);
  });

  it('never removes the newest record, whatever the target', () => {
    const records = [rec(1n, 5, 2_000), rec(6n, 5, 2_000)];
    const plan = planTrim(records, 10 * 4096 * 2, 0, 4096);
    expect(plan.keys).toHaveLength(1);
    expect(plan.oldest).toBe(6n);
  });

  it('removes nothing under the target', () => {
    expect(planTrim([rec(1n, 1, 10)], 100, 1_000, 4096)).toEqual({ keys: [], messages: 0, oldest: 1n });
  });
});

describe('the LMDB store: logBytes and trimMessages', () => {
  it('measures its pages, trims whole commits oldest first to the target, and keeps the rest readable', async () => {
    const store = await filledLmdbStore();
    const before = store.logBytes!();
    expect(before).toBeGreaterThan(40 * 50_000);
    const trim = await store.trimMessages!(1024 * 1024);
    expect(trim.before).toBe(before);
    expect(trim.after).toBeLessThanOrEqual(1024 * 1024);
    expect(trim.after).toBeGreaterThan(1024 * 1024 - 2 * 56 * 1024); // not much more than asked
    expect(trim.messages % 50).toBe(0); // whole commits
    const kept = (await store.readMessages(ALL)).map((m) => m.recv);
    expect(kept[0]).toBe(trim.oldest);
    expect(kept[0]).toBe(BigInt(trim.messages) + 1n);
    expect(kept.at(-1)).toBe(2_000n);
    expect(store.logBytes!()).toBe(trim.after);
    // Under the bound: nothing more goes.
    expect((await store.trimMessages!(1024 * 1024)).messages).toBe(0);
  });
});

describe('LogBound', () => {
  it('counts and logs what a trim drops, naming the offline twins it cut', async () => {
    const store = await filledLmdbStore();
    const log = warnRecorder();
    const asked: bigint[] = [];
    const bound = new LogBound(store, 1024 * 1024, log, (oldest) => { asked.push(oldest); return ['late']; });
    await bound.start();
    expect(bound.dropped).toBeGreaterThan(0);
    expect(asked).toHaveLength(1);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]!.obj).toMatchObject({ dropped: bound.dropped, names: ['late'], twinsBehind: 1 });
    expect(store.logBytes!()).toBeLessThanOrEqual(1024 * 1024);
  });

  it('counts the memory store\'s own drops and warns at the first and at each doubling', async () => {
    const store = memoryStore({ maxMessages: 4_096 * 2 });
    const log = warnRecorder();
    const bound = new LogBound(store, undefined, log, () => []);
    expect(bound.applies).toBe(false);
    await fill(store, 10, 4_096, 10);
    bound.sweep();
    expect(bound.dropped).toBe(store.evictedMessages!());
    expect(bound.dropped).toBeGreaterThan(0);
    expect(log.warnings).toHaveLength(1);
    bound.sweep(); // nothing new: nothing logged
    await fill(store, 1, 4_096, 10);
    bound.sweep(); // more dropped, less than double: counted, not warned
    expect(log.warnings).toHaveLength(1);
  });

  it('says so when the store cannot bound its log by size (the DuckDB store), and drops nothing', async () => {
    // A store with none of logBytes, trimMessages, evictedMessages (what LogBound reads).
    const bare = {} as Store;
    const log = warnRecorder();
    const bound = new LogBound(bare, 1 << 20, log, () => []);
    await bound.start();
    bound.check();
    expect(bound.dropped).toBe(0);
    expect(log.warnings.map((w) => w.msg)).toEqual(['maxLogBytes not applied: this store cannot bound its log by size']);
  });

  it('the memory store trims to a byte bound, whole segments, never the newest', async () => {
    const store = memoryStore({ maxMessages: 1e9, maxBytes: 1e9 });
    await fill(store, 20, 1_000, 1_000); // ~20 MB in segments of 512 KiB
    const trim = await store.trimMessages!(4 * 1024 * 1024);
    expect(trim.after).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(store.logBytes!()).toBe(trim.after);
    const kept = await store.readMessages(ALL);
    expect(kept[0]!.recv).toBe(trim.oldest);
    expect(kept.at(-1)!.recv).toBe(20_000n);
    expect(kept.length + trim.messages).toBe(20_000);
  });
});
