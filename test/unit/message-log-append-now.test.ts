/**
 * A memory store takes each log row at append (`Store.appendNow`, issue 20, W7): no row waits
 * across the turn for a commit. What must still hold: acknowledgements (`durable`,
 * `afterCommit`) only after a commit succeeded, the twins' changes committed after the rows they
 * refer to, a failing commit acknowledging nothing until a retry succeeds, a refused row (and
 * every row after it) buffered in recv order, reads of rows appended in the same turn, retained
 * rows, close(), and the metered store the broker runs by default.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectedTwins } from '../../src/broker/twin-persistence.js';
import { MessageLog, type MessageLogDeps } from '../../src/broker/message-log.js';
import { StoreMeter } from '../../src/http/store-meter.js';
import { memoryStore } from '../../src/store/memory-store.js';
import type { Store, StoredMessage, TwinDelta } from '../../src/store/types.js';
import type { Logger } from '../../src/types.js';
import { controlled } from './log-stores.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const ALL = { after: 0n, upTo: 2n ** 64n - 1n, limit: 1_000_000 };
const pub = (i: number, flags = 0x10) => ({ type: 'pub' as const, flags, topic: `t/${i}`, args: [i], id: BigInt(i + 1) });
const recvs = (rows: readonly StoredMessage[]): bigint[] => rows.map((r) => r.recv);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Twin changes a test hands to the log's next commit; `restored` counts failed commits' give-backs. */
class Twins {
  pending: TwinDelta[] = [];
  restored = 0;
  collect = (): CollectedTwins => {
    const deltas = this.pending;
    this.pending = [];
    return { deltas, restore: () => { this.restored++; this.pending = deltas.concat(this.pending); } };
  };
}

function deps(twins = new Twins(), onFatal: (err: unknown) => void = () => undefined): MessageLogDeps {
  return { collect: twins.collect, onFatal };
}

describe('MessageLog over a store that takes rows at once', () => {
  let log: MessageLog | undefined;
  afterEach(async () => {
    await log?.close();
    log = undefined;
  });

  it('hands every row to the store at append: nothing buffered, readable in the same turn, never saturated', async () => {
    const store = controlled(memoryStore(), () => undefined);
    log = new MessageLog(store, 3_600_000, 1, quiet, deps());
    const times = [0, 1, 2, 3, 4].map((i) => log!.append(pub(i, i % 2 === 0 ? 0 : 0x10), undefined));
    expect(store.appendedNow).toBe(5);
    expect(log.buffered).toBe(0);
    expect(log.saturated).toBe(false); // capacity 1: only buffered rows count
    // The store and the log's reads both see them before any commit, in recv order.
    expect(recvs(await store.readMessages(ALL))).toEqual(times);
    expect(recvs(await log.read(ALL))).toEqual(times);
    expect(recvs(await log.read({ after: times[1]!, upTo: times[3]!, limit: 10 }))).toEqual(times.slice(2, 4));
    expect(store.commits).toHaveLength(0);
  });

  it('acknowledges only after a commit, and commits the twins\' changes after the rows they refer to', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const twins = new Twins();
    let seenAtCommit: bigint[] = [];
    const store = controlled(memoryStore(), async (batch) => {
      seenAtCommit = recvs(await store.readMessages(ALL));
      expect(batch.messages).toHaveLength(0); // the rows went in at append
      await held;
    });
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet, deps(twins));
    const first = log.append(pub(1), undefined);
    const second = log.append(pub(2), undefined);
    twins.pending.push({ name: 'sub', mark: second, awaitingAck2: new Map([[3n, true]]) });
    const acked: string[] = [];
    log.afterCommit(() => acked.push('ack'));
    const durable = log.durable().then(() => acked.push('durable'));
    await turn();
    await turn();
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]!.twins.map((d) => d.mark)).toEqual([second]);
    expect(seenAtCommit).toEqual([first, second]); // the mark's row is in the store before the mark
    expect(acked).toEqual([]); // the commit is still under way
    release();
    await durable;
    expect(acked).toEqual(['ack', 'durable']);
    expect((await store.loadTwins()).map((t) => [t.name, t.mark, t.awaitingAck2])).toEqual([['sub', second, [3n]]]);
  });

  it('acknowledges nothing while commits fail, keeps the twins\' changes, and acknowledges after a retry', async () => {
    let failures = 2;
    const twins = new Twins();
    const store = controlled(memoryStore(), () => {
      if (failures > 0) {
        failures--;
        throw new Error('disk on fire');
      }
    });
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet, deps(twins));
    const recv = log.append(pub(1), undefined);
    twins.pending.push({ name: 'sub', mark: recv });
    let acked = false;
    const durable = log.durable().then(() => { acked = true; });
    // Retries back off (50, 100 ms): wait for the condition, not for a time.
    while (store.commits.length < 2) await turn();
    expect(acked).toBe(false);
    expect(twins.restored).toBeGreaterThanOrEqual(1);
    expect(recvs(await log.read(ALL))).toEqual([recv]); // the row is readable all along
    await durable;
    expect(store.commits.length).toBe(3);
    expect(store.commits.at(-1)!.twins.map((d) => d.mark)).toEqual([recv]);
    expect((await store.loadTwins()).map((t) => t.mark)).toEqual([recv]);
  });

  it('gives the store up after failureTimeout: nothing more is acknowledged, rows are still logged and read', async () => {
    let fatal: unknown;
    const twins = new Twins();
    const store = controlled(memoryStore(), () => { throw new Error('gone'); });
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet, { collect: twins.collect, onFatal: (err) => { fatal = err; }, failureTimeout: 0 });
    log.append(pub(1), undefined);
    twins.pending.push({ name: 'sub', mark: 1n });
    let acked = false;
    log.afterCommit(() => { acked = true; });
    while (fatal === undefined) await turn();
    expect(log.failed).toBe(fatal);
    const later = log.append(pub(2), undefined);
    log.afterCommit(() => { acked = true; });
    await turn();
    expect(acked).toBe(false);
    expect(recvs(await log.read(ALL)).at(-1)).toBe(later);
  });

  it('buffers a row the store refuses, and every row after it until a commit took them, in recv order', async () => {
    const inner = memoryStore();
    let refuse = 0;
    const store = controlled(inner, () => undefined);
    const take = store.appendNow!;
    const picky = new Proxy(store, {
      get(target, key) {
        if (key === 'appendNow') {
          return (row: StoredMessage) => {
            if (refuse > 0) {
              refuse--;
              throw new RangeError('no arena');
            }
            take(row);
          };
        }
        return Reflect.get(target, key, target);
      },
    });
    log = new MessageLog(picky, 3_600_000, 1_000_000, quiet, deps());
    const a = log.append(pub(1), undefined); // taken
    refuse = 1;
    const b = log.append(pub(2), undefined); // refused: buffered
    const c = log.append(pub(3), undefined); // behind b: buffered too, not taken before it
    expect(log.buffered).toBe(2);
    expect(recvs(await inner.readMessages(ALL))).toEqual([a]);
    expect(recvs(await log.read(ALL))).toEqual([a, b, c]);
    let acked = false;
    const durable = log.durable().then(() => { acked = true; });
    await durable;
    expect(acked).toBe(true);
    expect(recvs(store.commits[0]!.messages)).toEqual([b, c]);
    const d = log.append(pub(4), undefined); // the buffer is empty again: taken at once
    expect(log.buffered).toBe(0);
    expect(recvs(await inner.readMessages(ALL))).toEqual([a, b, c, d]);
  });

  it('does not take a row while a commit of buffered rows is under way (it would land before them)', async () => {
    const inner = memoryStore();
    let refuse = true;
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const store = controlled(inner, () => held);
    const take = store.appendNow!;
    const picky = new Proxy(store, {
      get(target, key) {
        if (key === 'appendNow') return (row: StoredMessage) => { if (refuse) throw new RangeError('no arena'); take(row); };
        return Reflect.get(target, key, target);
      },
    });
    log = new MessageLog(picky, 3_600_000, 1_000_000, quiet, deps());
    const a = log.append(pub(1), undefined); // refused: buffered
    refuse = false;
    const flushed = log.flush(); // `a` is being written
    const b = log.append(pub(2), undefined);
    expect(log.buffered).toBe(2);
    release();
    await flushed;
    await log.flush();
    expect(recvs(await inner.readMessages(ALL))).toEqual([a, b]);
  });

  it('keeps retained rows at once, and a clearing one clears them', async () => {
    const store = memoryStore();
    log = new MessageLog(store, 3_600_000, 1_000_000, quiet, deps());
    const retain = () => ({ expires: null, retain: true, origin: 'p' });
    log.append({ type: 'pub', flags: 0, topic: 'a', args: [1] }, undefined, Uint8Array.of(0x81, 0x01), retain);
    log.append({ type: 'pub', flags: 0, topic: 'b', args: [2] }, undefined, Uint8Array.of(0x81, 0x02), retain);
    log.append({ type: 'pub', flags: 0, topic: 'b', args: [] }, undefined, Uint8Array.of(0x80), retain);
    expect((await store.loadRetained!()).map((m) => [m.topic, [...m.data], m.origin])).toEqual([['a', [0x81, 0x01], 'p']]);
  });

  it('close() commits the last twin changes and logs nothing after it', async () => {
    const twins = new Twins();
    const store = controlled(memoryStore(), () => undefined);
    const closing = new MessageLog(store, 3_600_000, 1_000_000, quiet, deps(twins));
    const recv = closing.append(pub(1), undefined);
    twins.pending.push({ name: 'sub', mark: recv });
    await closing.close();
    await closing.close();
    expect(store.commits.map((c) => c.twins.map((d) => d.mark))).toEqual([[recv]]);
    closing.append(pub(2), undefined);
    expect(recvs(await store.readMessages(ALL))).toEqual([recv]);
  });

  it('takes rows at once through the metered store a broker with HTTP runs', async () => {
    const metered = new StoreMeter().wrap(memoryStore());
    expect(typeof metered.appendNow).toBe('function');
    log = new MessageLog(metered, 3_600_000, 1_000_000, quiet, deps());
    const recv = log.append(pub(1), undefined);
    expect(log.buffered).toBe(0);
    expect(recvs(await metered.readMessages(ALL))).toEqual([recv]);
  });
});
