/**
 * `fsync: 'always'` on the LMDB store (README "Durability"): a commit syncs on lmdb's write
 * thread, not on the event loop, and resolves only once written; a commit that the disk
 * refuses (a real full tmpfs) rejects with a typed error, stores none of its rows or twin
 * state, leaves no unhandled rejection behind, and the store carries on once space returns.
 * The full-disk case needs root (mount -t tmpfs); skipped, saying so, elsewhere.
 */
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canMountTmpfs, fillDisk, tryMount, unmount } from './tmpfs.js';
import { StoreWriteError } from '../../src/store/errors.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import type { Store, StoredMessage } from '../../src/store/types.js';

const MAX_U64 = 2n ** 64n - 1n;
const all = { after: 0n, upTo: MAX_U64, limit: 1_000_000 };
const msg = (recv: bigint, bytes = 1): StoredMessage => ({
  recv, slot: null, qos: 0x10, uid: recv, topic: 'a/b', data: new Uint8Array(bytes).fill(Number(recv % 256n)),
});

let base: string | undefined;
let mounted: string | undefined;
const stores: Store[] = [];

const canMount = await canMountTmpfs();

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  if (mounted !== undefined) unmount(mounted);
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  mounted = base = undefined;
});

async function open(path: string, fsync: 'off' | 'always'): Promise<Store> {
  const store = await openLmdbStore({ path, fsync });
  stores.push(store);
  return store;
}

/** Did `p` settle while only microtasks ran (no event-loop turn)? */
async function settlesInMicrotasks(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i < 50; i++) await Promise.resolve();
  return settled;
}

describe("openLmdbStore({ fsync: 'always' })", () => {
  it('commits off the event loop: the commit resolves on a later turn, with fsync off at once', async () => {
    base = await mkdtemp(join(tmpdir(), 'rembus-always-'));
    const always = await open(join(base, 'always.lmdb'), 'always');
    const off = await open(join(base, 'off.lmdb'), 'off');
    await always.lastRecv();
    await off.lastRecv();
    // The synchronous commit (fsync off) is done when its microtasks are; the synced one is not:
    // its transaction and sync run on lmdb's write thread while this loop is free.
    const offCommit = off.commit({ messages: [msg(1n)], twins: [{ name: 't', mark: 1n }] });
    expect(await settlesInMicrotasks(offCommit)).toBe(true);
    const alwaysCommit = always.commit({ messages: [msg(1n)], twins: [{ name: 't', mark: 1n }] });
    expect(await settlesInMicrotasks(alwaysCommit)).toBe(false);
    await alwaysCommit;
    expect(await always.readMessages(all)).toHaveLength(1);
    expect((await always.loadTwins())[0]!.mark).toBe(1n);
  });

  describe.skipIf(!canMount)('on a full disk (tmpfs; needs root to mount)', () => {
    it('rejects with STORE_WRITE_FAILED, stores none of the commit, and stores again once space returns', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
      process.on('unhandledRejection', onUnhandled);
      try {
        base = await mkdtemp(join(tmpdir(), 'rembus-always-full-'));
        const dir = join(base, 'mnt');
        await mkdir(dir);
        expect(tryMount(dir)).toBe(true);
        mounted = dir;
        const path = join(dir, 'broker.lmdb');
        let store = await open(path, 'always');
        await store.commit({ messages: [msg(1n)], twins: [{ name: 't', mark: 1n, awaitingAck2: new Map([[7n, true]]) }] });

        const fillers = await fillDisk(dir);
        expect(fillers.length).toBeGreaterThan(0);

        // A commit the disk cannot hold: rows, a new mark and a released QoS2 id, all refused.
        const big = { messages: [msg(2n, 200_000), msg(3n, 200_000)], twins: [{ name: 't', mark: 3n, awaitingAck2: new Map([[7n, false]]) }] };
        const failed = await store.commit(big).then(() => undefined, (err: unknown) => err);
        expect(failed).toBeInstanceOf(StoreWriteError);
        expect((failed as StoreWriteError).code).toBe('STORE_WRITE_FAILED');
        // Again: still refused, and the store still answers reads with what it had.
        await expect(store.commit(big)).rejects.toBeInstanceOf(StoreWriteError);
        expect((await store.readMessages(all)).map((m) => m.recv)).toEqual([1n]);
        const [twin] = await store.loadTwins();
        expect(twin!.mark).toBe(1n);
        expect(twin!.awaitingAck2).toEqual([7n]);

        // Space returns: the same commit is stored, and found after reopening.
        await Promise.all(fillers.map((f) => unlink(f)));
        await store.commit(big);
        await store.close();
        store = await open(path, 'always');
        expect((await store.readMessages(all)).map((m) => m.recv)).toEqual([1n, 2n, 3n]);
        const [again] = await store.loadTwins();
        expect(again!.mark).toBe(3n);
        expect(again!.awaitingAck2).toEqual([]);
        // lmdb rejects a failed commit twice (the write and its `commitError`): both handled.
        await new Promise((r) => setTimeout(r, 50));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    }, 60_000);
  });
});
