/**
 * The LMDB store takes each log row at append (`Store.appendNow`, issue 14, W9): the row is
 * packed into the record the next commit writes, while its frame is in cache. What must hold:
 * a taken row is readable at once and durable only once a commit called after it succeeded;
 * a commit writes exactly the rows taken before it was called (a row taken later waits for the
 * next one, with the twins' changes made meanwhile: its QoS2 id is never committed apart from
 * it); a failed commit (a real full disk) stores none of them and keeps them, readable, for the
 * next; records split by rows and by bytes; reused record buffers and reused socket chunks
 * change nothing read back; retained rows; the bound on rows held; and the broker's log over it.
 */
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageLog } from '../../src/broker/message-log.js';
import { encodeCbor } from '../../src/codec/index.js';
import { decodeLazyPub } from '../../src/codec/lazy-pub.js';
import { StoreWriteError } from '../../src/store/errors.js';
import { FrameRow } from '../../src/store/frame-row.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import { PENDING_RECORD_ROWS, PENDING_ROWS_MAX } from '../../src/store/lmdb/pending-log.js';
import type { Store, StoredMessage } from '../../src/store/types.js';
import type { Logger } from '../../src/types.js';
import { canMountTmpfs, fillDisk, tryMount, unmount } from './tmpfs.js';

const MAX_U64 = 2n ** 64n - 1n;
const ALL = { after: 0n, upTo: MAX_U64, limit: 10_000_000 };
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const base = await mkdtemp(join(tmpdir(), 'rembus-lmdb-append-now-'));
afterAll(() => rm(base, { recursive: true, force: true }));
let files = 0;
const fresh = (): string => join(base, `s${files++}`, 'broker.lmdb');
const canMount = await canMountTmpfs();

const stores: Store[] = [];
afterEach(async () => { await Promise.all(stores.splice(0).map((s) => s.close())); });
async function open(path: string, fsync: 'off' | 'always' = 'off'): Promise<Store> {
  const store = await openLmdbStore({ path, fsync });
  stores.push(store);
  return store;
}
async function reopen(store: Store, path: string, fsync: 'off' | 'always' = 'off'): Promise<Store> {
  await store.close();
  return open(path, fsync);
}

const msg = (recv: bigint, bytes = 3, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  recv, slot: null, qos: 0x10, uid: recv, topic: `t/${recv % 7n}`, data: new Uint8Array(bytes).fill(Number(recv % 251n)), ...extra,
});
/** A row as the broker logs a publish read in place: a FrameRow over a view of a shared chunk. */
function framed(recv: bigint, chunk: Buffer, at: number, args: unknown[]): { row: FrameRow; end: number } {
  const bytes = encodeCbor({ type: 'pub', flags: 0x10, topic: `site/${recv % 5n}/télé`, args, id: recv });
  chunk.set(bytes, at);
  const pub = decodeLazyPub(chunk.subarray(at, at + bytes.length))!;
  return { row: new FrameRow(recv, null, 0x10, recv, pub.topic, pub.frame, pub.textAt, pub.argsAt), end: at + bytes.length };
}
/** Compared as text: deep compares of thousands of byte arrays are slow on a loaded box. */
const line = (m: StoredMessage): string => `${m.recv} ${m.qos} ${m.uid} ${m.slot} ${m.topic} ${Buffer.from(m.data).toString('hex')}`;
const recvs = (rows: readonly StoredMessage[]): bigint[] => rows.map((m) => m.recv);

describe('openLmdbStore appendNow', () => {
  it('holds a taken row readable at once and writes it with the next commit, for both fsync modes', async () => {
    for (const fsync of ['off', 'always'] as const) {
      const path = fresh();
      let store = await open(path, fsync);
      await store.commit({ messages: [msg(1n)], twins: [] });
      expect(store.appendNow!(msg(2n))).toBe(true);
      expect(store.appendNow!(msg(3n, 5, { slot: 9, uid: null, qos: 0 }))).toBe(true);
      expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n, 3n]);
      expect(recvs(await store.readMessages({ after: 1n, upTo: 2n, limit: 10 }))).toEqual([2n]);
      expect(recvs(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 2 }))).toEqual([1n, 2n]);
      expect(await store.lastRecv()).toBe(3n);
      // Not committed: gone with the process (the broker commits before it closes).
      store = await reopen(store, path, fsync);
      expect(recvs(await store.readMessages(ALL))).toEqual([1n]);
      store.appendNow!(msg(2n));
      store.appendNow!(msg(3n, 5, { slot: 9, uid: null, qos: 0 }));
      await store.commit({ messages: [], twins: [{ name: 'sub', mark: 3n }] });
      store = await reopen(store, path, fsync);
      const back = await store.readMessages(ALL);
      expect(back.map(line)).toEqual([msg(1n), msg(2n), msg(3n, 5, { slot: 9, uid: null, qos: 0 })].map(line));
      expect((await store.loadTwins()).map((t) => t.mark)).toEqual([3n]);
    }
  });

  it('commits exactly the rows taken before the commit was called, with its twin changes; later ones wait', async () => {
    const path = fresh();
    let store = await open(path);
    store.appendNow!(msg(1n));
    store.appendNow!(msg(2n));
    const first = store.commit({ messages: [], twins: [{ name: 'q2', awaitingAck2: new Map([[2n, true]]) }] });
    store.appendNow!(msg(3n)); // its QoS2 id would go with the next commit: not with this one
    await first;
    expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n, 3n]);
    store = await reopen(store, path);
    expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n]);
    expect((await store.loadTwins())[0]!.awaitingAck2).toEqual([2n]);
  });

  it('writes each row once when commits overlap, in recv order after a reopen', async () => {
    const path = fresh();
    let store = await open(path);
    store.appendNow!(msg(1n));
    const a = store.commit({ messages: [], twins: [] });
    store.appendNow!(msg(2n));
    const b = store.commit({ messages: [], twins: [] }); // takes 1 (still under way) and 2
    const c = store.commit({ messages: [], twins: [] }); // nothing new
    await Promise.all([a, b, c]);
    store.appendNow!(msg(3n));
    await store.commit({ messages: [msg(4n)], twins: [] }); // held rows first, then the batch
    store = await reopen(store, path);
    expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n, 3n, 4n]);
    expect(await store.lastRecv()).toBe(4n);
  });

  it('splits records by rows and by bytes; reused record buffers and socket chunks change nothing read back', async () => {
    const path = fresh();
    let store = await open(path);
    const expected: string[] = [];
    let recv = 0n;
    let chunk = Buffer.alloc(65_536);
    let used = 0;
    const chunks: Buffer[] = [chunk];
    // Three rounds: the second and third fill the buffers the first commits gave back.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < PENDING_RECORD_ROWS + 300; i++) {
        recv++;
        // Mostly W9-sized frames, some above the word-copy limit, every 1,000th a 300 KiB one.
        const size = i % 1000 === 999 ? 300_000 : i % 50 === 0 ? 400 : 40;
        const args = [Number(recv), 'x'.repeat(size)];
        if (used + size + 64 > chunk.length) { chunks.push(chunk = Buffer.alloc(Math.max(65_536, size + 64))); used = 0; }
        used += i % 3; // frames a few stray bytes apart
        const { row, end } = framed(recv, chunk, used, args);
        used = end;
        expected.push(line(row));
        store.appendNow!(row);
      }
      // The socket reader reuses its chunks: nothing held may be a view of them.
      for (const c of chunks) c.fill(0xa5);
      expect((await store.readMessages(ALL)).map(line)).toEqual(expected);
      await store.commit({ messages: [], twins: [] });
    }
    store = await reopen(store, path);
    expect((await store.readMessages(ALL)).map(line)).toEqual(expected);
    expect(await store.lastRecv()).toBe(recv);
  }, 60_000);

  it('keeps the retained values of rows taken at once, readable before and stored by the commit', async () => {
    const path = fresh();
    let store = await open(path);
    await store.commit({ messages: [msg(1n, 2, { topic: 'a', retain: true })], twins: [] });
    store.appendNow!(msg(2n, 2, { topic: 'b', retain: true, origin: 'pub', expires: 99n }));
    store.appendNow!(msg(3n, 1, { topic: 'a', retain: true, data: Uint8Array.of(0x80) })); // clears a
    store.appendNow!(msg(4n, 2, { topic: 'c', retain: true }));
    store.appendNow!(msg(5n, 1, { topic: 'c', retain: true, data: Uint8Array.of(0x80) })); // clears c
    const retained = async (): Promise<unknown[]> => (await store.loadRetained!()).map((m) => [m.topic, m.recv, m.origin, m.expires]);
    expect(await retained()).toEqual([['b', 2n, 'pub', 99n]]);
    await store.commit({ messages: [], twins: [] });
    store = await reopen(store, path);
    expect(await retained()).toEqual([['b', 2n, 'pub', 99n]]);
    expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it(`refuses a row past ${PENDING_ROWS_MAX} held (the broker then holds it), and takes rows again after a commit`, async () => {
    const store = await open(fresh());
    for (let i = 1; i <= PENDING_ROWS_MAX; i++) store.appendNow!(msg(BigInt(i), 1));
    const refused = (() => { try { store.appendNow!(msg(BigInt(PENDING_ROWS_MAX + 1), 1)); return undefined; } catch (err) { return err; } })();
    expect(refused).toBeInstanceOf(StoreWriteError);
    expect(await store.lastRecv()).toBe(BigInt(PENDING_ROWS_MAX));
    await store.commit({ messages: [], twins: [] });
    expect(store.appendNow!(msg(BigInt(PENDING_ROWS_MAX + 1), 1))).toBe(true);
    expect((await store.readMessages(ALL)).length).toBe(PENDING_ROWS_MAX + 1);
  }, 60_000);

  it('under the broker\'s log: counted as buffered until committed, committed on the interval and by batch', async () => {
    const store = await open(fresh());
    const log = new MessageLog(store, 20, 1_000_000, quiet);
    try {
      const pub = (i: number) => ({ type: 'pub' as const, flags: 0x10, topic: 'w9', args: [i], id: BigInt(i) });
      const first = log.append(pub(1), undefined);
      expect(log.buffered).toBe(1);
      expect(recvs(await log.read(ALL))).toEqual([first]);
      while (log.buffered > 0) await new Promise((r) => setTimeout(r, 5)); // the 20 ms interval commits it
      // A full record's worth commits before the interval would.
      for (let i = 2; i <= PENDING_RECORD_ROWS + 1; i++) log.append(pub(i), undefined);
      let acked = false;
      const durable = log.durable().then(() => { acked = true; });
      expect(acked).toBe(false);
      await durable;
      expect(log.buffered).toBe(0);
      expect((await store.readMessages(ALL)).length).toBe(PENDING_RECORD_ROWS + 1);
    } finally {
      await log.close();
    }
  });

  describe.skipIf(!canMount)('on a full disk (tmpfs; needs root to mount)', () => {
    for (const fsync of ['off', 'always'] as const) {
      it(`fsync ${fsync}: a refused commit stores none of the rows it took, keeps them readable, and the next stores them once`, async () => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
        process.on('unhandledRejection', onUnhandled);
        const dir = join(base, `mnt${files++}`);
        await mkdir(dir);
        expect(tryMount(dir)).toBe(true);
        try {
          const path = join(dir, 'broker.lmdb');
          let store = await open(path, fsync);
          store.appendNow!(msg(1n));
          await store.commit({ messages: [], twins: [{ name: 't', mark: 1n }] });
          const fillers = await fillDisk(dir);
          store.appendNow!(msg(2n, 200_000));
          store.appendNow!(msg(3n, 200_000));
          const twins = [{ name: 't', mark: 3n, awaitingAck2: new Map([[3n, true]]) }];
          await expect(store.commit({ messages: [], twins })).rejects.toBeInstanceOf(StoreWriteError);
          store.appendNow!(msg(4n));
          await expect(store.commit({ messages: [], twins })).rejects.toBeInstanceOf(StoreWriteError);
          expect(recvs(await store.readMessages(ALL))).toEqual([1n, 2n, 3n, 4n]); // held, readable
          expect((await store.loadTwins())[0]!.mark).toBe(1n);
          await Promise.all(fillers.map((f) => unlink(f)));
          await store.commit({ messages: [], twins });
          store = await reopen(store, path, fsync);
          expect((await store.readMessages(ALL)).map(line)).toEqual([msg(1n), msg(2n, 200_000), msg(3n, 200_000), msg(4n)].map(line));
          const [twin] = await store.loadTwins();
          expect([twin!.mark, twin!.awaitingAck2]).toEqual([3n, [3n]]);
          await new Promise((r) => setTimeout(r, 50));
          expect(unhandled).toEqual([]);
        } finally {
          process.off('unhandledRejection', onUnhandled);
          await Promise.all(stores.splice(0).map((s) => s.close()));
          unmount(dir);
        }
      }, 60_000);
    }
  });
});
