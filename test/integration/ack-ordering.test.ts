/**
 * What leaves the broker only after a commit (spec §4.2, §4.7): a publisher's ACK waits for the
 * commit that holds its message (a publish made while a commit is under way waits for the
 * next one), a subscriber's ACK2 waits for the commit of the mark that covers the message,
 * and a declaration's confirmation for the commit of its key. The store here holds every
 * commit until the test releases it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { broker, memoryStore, type Broker, type Store } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import { newMsgId } from '../../src/codec/msgid.js';
import { type Msg, type MsgId } from '../../src/protocol/messages.js';
import type { StoreBatch } from '../../src/store/types.js';
import { RawClient } from './helpers.js';

/**
 * No stats topic: its snapshot (one a second, logged like any publish) would join the gated
 * commits when a loaded machine makes a test take seconds.
 */
const QUIET = { statsInterval: 0 };

/**
 * A memory store whose commits wait for `release()`, one at a time. It writes rows in commits,
 * as LMDB does, unless `rowsAtOnce`: then the log hands it each row at append (`appendNow`,
 * the memory store's own way) and only the twins' changes wait in commits.
 */
class GatedStore {
  readonly inner = memoryStore();
  readonly held: { batch: StoreBatch; go: () => void }[] = [];
  readonly store: Store = new Proxy(this.inner, {
    get: (target, prop, receiver) => prop === 'commit'
      ? (batch: StoreBatch) => new Promise<void>((resolve) => this.held.push({ batch, go: () => void target.commit(batch).then(resolve) }))
      : prop === 'appendNow' && !this.rowsAtOnce ? undefined
        : Reflect.get(target, prop, receiver) as unknown,
  });

  constructor(readonly rowsAtOnce = false) {}

  /** Let the oldest held commit through. */
  release(): StoreBatch {
    const next = this.held.shift();
    if (next === undefined) throw new Error('no commit held');
    next.go();
    return next.batch;
  }
}

let running: Broker | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await running?.close();
  running = undefined;
});

const decoded = (c: RawClient): Msg[] => c.frames.map((f) => decodeCbor(f as Uint8Array));
const of = (c: RawClient, type: Msg['type']): Msg[] => decoded(c).filter((m) => m.type === type);
async function until(done: () => boolean, what: string, timeout = 5_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** Give the broker a few turns to (wrongly) send something. */
const settle = () => new Promise((r) => setTimeout(r, 100));

async function client(url: string, name: string): Promise<RawClient> {
  const c = await RawClient.open(url);
  clients.push(c);
  c.sendBinary(encodeCbor({ type: 'identity', id: newMsgId(), cid: name }));
  await until(() => of(c, 'response').length === 1, `${name} identity`);
  return c;
}

function pub(c: RawClient, id: MsgId, n: number, flags = 0x10): void {
  c.sendBinary(encodeCbor({ type: 'pub', flags, id, topic: 't', args: [n] }));
}

describe('ACK, ACK2 and confirmations wait for their commit', () => {
  it('acks a publish only after the commit holding it, not after one already under way', async () => {
    const gate = new GatedStore();
    running = await broker({ port: 0, host: '127.0.0.1', http: QUIET, store: gate.store });
    const p = await client(running.url!, 'pub');
    const a = newMsgId();
    pub(p, a, 1);
    await until(() => gate.held.length === 1, 'the first commit');
    const b = newMsgId();
    pub(p, b, 2); // arrives while the first commit is under way
    await settle();
    expect(of(p, 'ack')).toEqual([]);
    expect(gate.release().messages.map((m) => m.uid)).toEqual([a]);
    await until(() => of(p, 'ack').length === 1, 'the first ACK');
    await settle();
    expect(of(p, 'ack')).toEqual([{ type: 'ack', id: a }]);
    await until(() => gate.held.length === 1, 'the second commit');
    expect(gate.release().messages.map((m) => m.uid)).toEqual([b]);
    await until(() => of(p, 'ack').length === 2, 'the second ACK');
  });

  it('refuses (never acks) a QoS1 publish while the log buffer is full, and drops none it took', async () => {
    const gate = new GatedStore();
    running = await broker({ port: 0, host: '127.0.0.1', http: QUIET, store: gate.store, logCapacity: 2 });
    const p = await client(running.url!, 'pub');
    const ids = [newMsgId(), newMsgId(), newMsgId(), newMsgId()];
    pub(p, ids[0]!, 0);
    await until(() => gate.held.length === 1, 'the first commit'); // holds ids[0]
    for (let i = 1; i < 4; i++) pub(p, ids[i]!, i); // 1 and 2 fill the buffer; 3 is refused
    await settle();
    gate.release();
    await until(() => gate.held.length === 1, 'the second commit');
    expect(gate.release().messages.map((m) => m.uid)).toEqual([ids[1], ids[2]]);
    await until(() => of(p, 'ack').length === 3, 'three ACKs');
    await settle();
    expect(of(p, 'ack')).toEqual(ids.slice(0, 3).map((id) => ({ type: 'ack', id })));
  });

  it('sends ACK2 to a subscriber only once the mark covering the message is committed', async () => {
    const gate = new GatedStore();
    running = await broker({ port: 0, host: '127.0.0.1', http: QUIET, store: gate.store });
    const s = await client(running.url!, 'sub');
    s.sendBinary(encodeCbor({ type: 'admin', id: newMsgId(), topic: 't', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    await until(() => gate.held.length === 1, 'the subscription commit');
    expect(of(s, 'response').length).toBe(1); // the identity's only: the subscribe waits for its commit
    gate.release();
    await until(() => of(s, 'response').length === 2, 'the subscribe confirmation');

    const p = await client(running.url!, 'pub');
    const id = newMsgId();
    pub(p, id, 7, 0x30);
    await until(() => gate.held.length === 1, 'the publish commit');
    gate.release();
    await until(() => of(s, 'pub').length === 1, 'the delivery');
    s.sendBinary(encodeCbor({ type: 'ack', id }));
    await until(() => gate.held.length === 1, 'the mark commit');
    await settle();
    expect(of(s, 'ack2')).toEqual([]);
    const batch = gate.release();
    expect(batch.twins.find((t) => t.name === 'sub')?.mark).toBeGreaterThan(0n);
    await until(() => of(s, 'ack2').length === 1, 'ACK2');
    expect(of(s, 'ack2')).toEqual([{ type: 'ack2', id }]);
  });

  it('with rows taken at append, still acks a QoS2 publish only after the commit of its QoS2 id', async () => {
    const gate = new GatedStore(true);
    running = await broker({ port: 0, host: '127.0.0.1', http: QUIET, store: gate.store });
    const p = await client(running.url!, 'pub');
    const all = { after: 0n, upTo: 2n ** 64n - 1n, limit: 100 };
    const id = newMsgId();
    pub(p, id, 9, 0x30);
    await until(() => gate.held.length === 1, 'the commit of the QoS2 id');
    // The row is in the store already; the commit carries the twin's QoS2 set, not the row.
    expect((await gate.inner.readMessages(all)).map((m) => m.uid)).toEqual([id]);
    await settle();
    expect(of(p, 'ack')).toEqual([]);
    const batch = gate.release();
    expect(batch.messages).toEqual([]);
    expect([...batch.twins.find((t) => t.name === 'pub')?.awaitingAck2?.keys() ?? []]).toEqual([id]);
    await until(() => of(p, 'ack').length === 1, 'the ACK');
    // A QoS1 publish changes no twin: its row is in the store at once, and its ACK needs no store write.
    const q = newMsgId();
    pub(p, q, 10);
    await until(() => of(p, 'ack').length === 2, 'the QoS1 ACK');
    expect((await gate.inner.readMessages(all)).map((m) => m.uid)).toEqual([id, q]);
    expect(gate.held).toHaveLength(0);
  });
});
