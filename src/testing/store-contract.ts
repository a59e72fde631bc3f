/**
 * The behaviour every Store backend must show, as a vitest suite [aedes-persistence].
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, StoredMessage, TwinRecord } from '../store/types.js';

const MAX_U64 = 2n ** 64n - 1n;

const msg = (recv: bigint, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  recv, slot: null, qos: 0x10, uid: recv, topic: `t/${recv}`, data: new Uint8Array([1, 2, 3]), ...extra,
});
const recvs = (ms: readonly StoredMessage[]): bigint[] => ms.map((m) => m.recv);
const twin = (name: string, extra: Partial<TwinRecord> = {}): TwinRecord => ({
  name, subscriptions: new Map(), exposed: [], mark: 0n, awaitingAck2: [], ...extra,
});
/** Twins in a comparable form: sorted, except awaitingAck2 whose order the broker relies on. */
const plain = (twins: readonly TwinRecord[]) => twins
  .map((t) => ({ name: t.name, mark: t.mark, awaitingAck2: [...t.awaitingAck2],
    subscriptions: [...t.subscriptions].sort(([a], [b]) => a.localeCompare(b)),
    exposed: [...t.exposed].sort() }))
  .sort((a, b) => a.name.localeCompare(b.name));

/** Options of {@link storeContract}. */
export interface StoreContractOptions {
  /**
   * The backend keeps TS publish options (`StoredMessage.expires`, `retain`) and implements
   * `loadRetained`: check them too. Default false (a PY-schema store such as DuckDB's). Every
   * backend keeps `origin` (tenants).
   */
  readonly publishOptions?: boolean;
}

/**
 * Register a vitest `describe` block that checks a Store backend against the contract of
 * `Store` (spec §4.7): log windows, pruning, exact bytes and uint64 values, twin records,
 * call-order application and idempotent close. Each test gets a fresh store and closes it.
 *
 * @example
 * ```ts
 * import { storeContract } from 'rembus/testing/store-contract';
 * import { memoryStore } from 'rembus/broker';
 * storeContract('memoryStore', async () => memoryStore());
 * ```
 * @param name Shown in the suite title.
 * @param makeStore Returns a new, empty store each time it is called.
 * @see memoryStore, openDuckDbStore
 */
export function storeContract(name: string, makeStore: () => Promise<Store>, { publishOptions = false }: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => { store = await makeStore(); });
    afterEach(async () => { await store.close(); });

    it('reports lastRecv 0n and reads nothing when the log is empty', async () => {
      expect(await store.lastRecv()).toBe(0n);
      expect(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 })).toEqual([]);
    });

    it('reads appended messages oldest first, across batches', async () => {
      await store.appendMessages([msg(10n), msg(20n)]);
      await store.appendMessages([]);
      await store.appendMessages([msg(30n)]);
      expect(recvs(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 100 })))
        .toEqual([10n, 20n, 30n]);
      expect(await store.lastRecv()).toBe(30n);
    });

    it('reads the window (after, upTo]: after exclusive, upTo inclusive', async () => {
      await store.appendMessages([1n, 2n, 3n, 4n, 5n].map((r) => msg(r)));
      expect(recvs(await store.readMessages({ after: 2n, upTo: 4n, limit: 100 }))).toEqual([3n, 4n]);
      expect(recvs(await store.readMessages({ after: 5n, upTo: MAX_U64, limit: 100 }))).toEqual([]);
      expect(recvs(await store.readMessages({ after: 3n, upTo: 3n, limit: 100 }))).toEqual([]);
    });

    it('returns at most limit messages, the oldest of the window', async () => {
      await store.appendMessages([1n, 2n, 3n, 4n, 5n].map((r) => msg(r)));
      expect(recvs(await store.readMessages({ after: 1n, upTo: 5n, limit: 2 }))).toEqual([2n, 3n]);
      expect(await store.readMessages({ after: 0n, upTo: 5n, limit: 0 })).toEqual([]);
    });

    it('prunes messages with recv < before and says how many', async () => {
      await store.appendMessages([1n, 2n, 3n, 4n].map((r) => msg(r)));
      expect(await store.pruneMessages(1n)).toBe(0);
      expect(await store.pruneMessages(3n)).toBe(2);
      expect(recvs(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 }))).toEqual([3n, 4n]);
      expect(await store.pruneMessages(MAX_U64)).toBe(2);
      expect(await store.lastRecv()).toBe(0n);
    });

    it('round-trips data bytes, uint64 recv/uid near 2^64-1, slot and qos exactly', async () => {
      const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) & 0xff);
      const batch = [
        msg(MAX_U64 - 2n, { data: new Uint8Array(0), uid: null, qos: 0x00 }),
        msg(MAX_U64 - 1n, { data: Uint8Array.of(0, 0xff, 0, 0x80), slot: 0, uid: MAX_U64, qos: 0x70 }),
        msg(MAX_U64, { data: big, slot: 0xffff_ffff, uid: 2n ** 63n, qos: 0x30, topic: 'ä/€/🙂' }),
      ];
      await store.appendMessages(batch);
      const got = await store.readMessages({ after: MAX_U64 - 3n, upTo: MAX_U64, limit: 10 });
      expect(got.map((m) => ({ ...m, data: [...m.data] }))).toEqual(batch.map((m) => ({ ...m, data: [...m.data] })));
      expect(got[0]!.data).toBeInstanceOf(Uint8Array);
      expect(await store.lastRecv()).toBe(MAX_U64);
    });

    it('loads nothing when no twin was saved', async () => {
      expect(await store.loadTwins()).toEqual([]);
    });

    it('saves, loads and replaces twins, keeping awaitingAck2 order and +Infinity msg_from', async () => {
      const foo = twin('foo', { subscriptions: new Map([['a/b', 0], ['x/**', Infinity], ['p', 9e8]]),
        exposed: ['add', 'mul'], mark: MAX_U64, awaitingAck2: [7n, 2n, MAX_U64, 5n] });
      await store.saveTwin(foo);
      await store.saveTwin(twin('bar', { subscriptions: new Map([['t', Infinity]]) }));
      expect(plain(await store.loadTwins())).toEqual(plain([foo, twin('bar', { subscriptions: new Map([['t', Infinity]]) })]));
      const foo2 = twin('foo', { subscriptions: new Map([['c', 0]]), mark: 3n });
      await store.saveTwin(foo2);
      const loaded = await store.loadTwins();
      expect(plain(loaded.filter((t) => t.name === 'foo'))).toEqual(plain([foo2]));
      expect(loaded.find((t) => t.name === 'bar')?.subscriptions.get('t')).toBe(Infinity);
    });

    it('updates only marks with saveMarks, creating mark-only twins', async () => {
      const foo = twin('foo', { subscriptions: new Map([['a', Infinity]]), exposed: ['m'], awaitingAck2: [1n] });
      await store.saveTwin(foo);
      await store.saveMarks(new Map([['foo', 42n], ['ghost', MAX_U64]]));
      await store.saveMarks(new Map());
      expect(plain(await store.loadTwins())).toEqual(plain([{ ...foo, mark: 42n }, twin('ghost', { mark: MAX_U64 })]));
      await store.saveMarks(new Map([['foo', 43n]]));
      expect((await store.loadTwins()).find((t) => t.name === 'foo')?.mark).toBe(43n);
    });

    it('returns a twin known only by its subscriptions', async () => {
      await store.saveTwin(twin('subs', { subscriptions: new Map([['a', 0]]) }));
      expect(plain(await store.loadTwins())).toEqual(plain([twin('subs', { subscriptions: new Map([['a', 0]]) })]));
    });

    it('deletes a twin and nothing else', async () => {
      await store.saveTwin(twin('foo', { exposed: ['m'], mark: 5n }));
      await store.saveTwin(twin('bar', { mark: 6n }));
      await store.deleteTwin('foo');
      await store.deleteTwin('unknown');
      expect(plain(await store.loadTwins())).toEqual(plain([twin('bar', { mark: 6n })]));
    });

    it('applies calls in call order when they are not awaited in between', async () => {
      const a1 = store.appendMessages([msg(1n), msg(2n)]);
      const r1 = store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 });
      const a2 = store.appendMessages([msg(3n)]);
      const l1 = store.lastRecv();
      const p1 = store.pruneMessages(2n);
      const r2 = store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 });
      const s1 = store.saveTwin(twin('foo', { mark: 1n }));
      const m1 = store.saveMarks(new Map([['foo', 2n]]));
      const t1 = store.loadTwins();
      const d1 = store.deleteTwin('foo');
      const t2 = store.loadTwins();
      await Promise.all([a1, a2, s1, m1, d1]);
      expect(recvs(await r1)).toEqual([1n, 2n]);
      expect(await l1).toBe(3n);
      expect(await p1).toBe(1);
      expect(recvs(await r2)).toEqual([2n, 3n]);
      expect((await t1).map((t) => t.mark)).toEqual([2n]);
      expect(await t2).toEqual([]);
    });

    it('commits log rows and twin changes together, applying each change by key', async () => {
      await store.saveTwin(twin('foo', { subscriptions: new Map([['a', 0], ['b', Infinity]]), exposed: ['m', 'n'],
        awaitingAck2: [1n, 2n] }));
      await store.commit({ messages: [msg(1n), msg(2n)], twins: [
        { name: 'foo', mark: 2n, subscriptions: new Map([['a', null], ['c', 5]]), exposed: new Map([['m', false], ['o', true]]),
          awaitingAck2: new Map([[1n, false], [MAX_U64, true]]) },
        { name: 'new' },
      ] });
      await store.commit({ messages: [], twins: [{ name: 'foo', awaitingAck2: new Map([[3n, true]]) }] });
      expect(recvs(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 }))).toEqual([1n, 2n]);
      expect(plain(await store.loadTwins())).toEqual(plain([
        twin('foo', { subscriptions: new Map([['b', Infinity], ['c', 5]]), exposed: ['n', 'o'], mark: 2n,
          awaitingAck2: [2n, MAX_U64, 3n] }),
        twin('new'),
      ]));
    });

    it('reads a window across commits of many sizes, and prunes inside a commit', async () => {
      const rows = Array.from({ length: 10_000 }, (_, i) => msg(BigInt(i + 1)));
      await store.commit({ messages: rows.slice(0, 1), twins: [] });
      await store.commit({ messages: rows.slice(1, 9_000), twins: [] });
      await store.commit({ messages: rows.slice(9_000), twins: [] });
      expect(recvs(await store.readMessages({ after: 4_999n, upTo: 5_002n, limit: 10 }))).toEqual([5_000n, 5_001n, 5_002n]);
      expect(recvs(await store.readMessages({ after: 8_998n, upTo: MAX_U64, limit: 3 }))).toEqual([8_999n, 9_000n, 9_001n]);
      expect(await store.pruneMessages(5_000n)).toBe(4_999);
      expect((await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 1 }))[0]?.recv).toBe(5_000n);
      expect(await store.lastRecv()).toBe(10_000n);
    });

    it('round-trips a row\'s publisher: a name, anonymous, the broker\'s own (null), none kept', async () => {
      // Tenants: a replay reaches the publisher's tenant, the broker's own every tenant, a row
      // without one no tenant (src/broker/guard.ts replayable); a store that lost the
      // difference would leak rows across tenants or withhold the broker's own.
      const rows = [msg(1n, { origin: 'pub.tenant' }), msg(2n, { origin: '' }), msg(3n, { origin: null }), msg(4n),
        msg(5n, { origin: 'é.t'.repeat(20) })];
      await store.commit({ messages: rows, twins: [] });
      const back = await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 });
      expect(back.map((m) => ('origin' in m ? m.origin : 'absent'))).toEqual(['pub.tenant', '', null, 'absent', 'é.t'.repeat(20)]);
    });

    if (publishOptions) {
      it('round-trips a row\'s expiry', async () => {
        const rows = [msg(1n, { expires: MAX_U64 - 1n, retain: true, origin: 'pub.tenant' }), msg(2n, { expires: 5n }), msg(3n)];
        await store.commit({ messages: rows, twins: [] });
        const back = await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 });
        expect(back.map((m) => m.expires ?? null)).toEqual([MAX_U64 - 1n, 5n, null]);
      });

      it('keeps the latest retained row per topic, cleared by empty args, apart from the log and its pruning', async () => {
        const empty = Uint8Array.of(0x80);
        await store.commit({ messages: [
          msg(1n, { topic: 'a', retain: true, data: Uint8Array.of(0x81, 0x01), origin: 'pub.tenant', expires: 7n }),
          msg(2n, { topic: 'b', retain: true, data: Uint8Array.of(0x81, 0x02), origin: 'p' }),
          msg(3n, { topic: 'a', data: Uint8Array.of(0x81, 0x09) }), // not retained: a keeps 1
          msg(4n, { topic: 'c', retain: true, data: Uint8Array.of(0x81, 0x03) }),
        ], twins: [] });
        await store.appendMessages([msg(5n, { topic: 'c', retain: true, data: empty }), msg(6n, { topic: 'b', retain: true, data: Uint8Array.of(0x81, 0x04) })]);
        expect(await store.pruneMessages(100n)).toBe(6);
        const kept = (await store.loadRetained!()).sort((x, y) => x.topic.localeCompare(y.topic));
        expect(kept.map((m) => [m.topic, m.recv, [...m.data]])).toEqual([['a', 1n, [0x81, 0x01]], ['b', 6n, [0x81, 0x04]]]);
        expect([kept[0]!.origin, kept[0]!.expires]).toEqual(['pub.tenant', 7n]);
        expect(kept[1]!.origin).toBeUndefined();
      });
    }

    it('takes rows at once with appendNow (a store without it: by commit), in recv order after earlier commits', async () => {
      await store.commit({ messages: [msg(1n)], twins: [] });
      const later = [msg(2n, { retain: publishOptions }), msg(3n)];
      if (store.appendNow === undefined) await store.commit({ messages: later, twins: [] });
      else for (const m of later) store.appendNow(m);
      expect(recvs(await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 10 }))).toEqual([1n, 2n, 3n]);
      expect(await store.lastRecv()).toBe(3n);
      if (publishOptions) expect((await store.loadRetained!()).map((m) => m.recv)).toEqual([2n]);
    });

    it('closes idempotently', async () => {
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
