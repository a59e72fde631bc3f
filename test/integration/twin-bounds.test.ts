/**
 * Twins are bounded and expire (issue 13 item 8): names minted by real connections, left
 * offline past a short `twinTtl`, disappear from memory, routing and the store; `maxTwins`
 * refuses a login that would create one more twin, with a reason and a typed error.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broker, memoryStore, type Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { connect, LastReceived, TwinLimitError } from '../../src/index.js';
import type { Msg, ResponseMsg } from '../../src/protocol/messages.js';
import { collect, roundTrip, useScope, waitFor, type RawClient, rawRequest } from './helpers.js';

const scope = useScope();
let nextId = 1n;

const request = (raw: RawClient, msg: Msg): Promise<ResponseMsg> => rawRequest(raw, msg as Msg & { id: bigint });

/** Log in as `cid` on a raw socket, subscribe to 5 topics and expose one method; returns the socket. */
async function mint(b: Broker, cid: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  const login = await request(raw, { type: 'identity', id: nextId++, cid });
  if (login.status !== 0) throw new Error(`login of ${cid}: ${login.status} ${String(login.data)}`);
  for (let i = 0; i < 5; i++) {
    const r = await request(raw, { type: 'admin', id: nextId++, topic: `${cid}/t${i}`, cmd: { cmd: 'subscribe', msg_from: LastReceived } });
    expect(r.status).toBe(0);
  }
  expect((await request(raw, { type: 'admin', id: nextId++, topic: `${cid}_m`, cmd: { cmd: 'expose' } })).status).toBe(0);
  return raw;
}

describe('twinTtl', () => {
  it('expires twins unseen past the TTL: memory, routing and store; online ones stay', async () => {
    const store = memoryStore();
    const b = await scope.broker({ store, twinTtl: 2_000 });
    const stay = await scope.connect(b, 'stay');
    // Its clock runs from here, through the TTL waits below (≥ 5 s on a loaded box): the test's bound.
    const kept = collect(stay.subscribe$('kept', { msgfrom: LastReceived }), 1, { timeout: 19_000 });
    await roundTrip(stay);
    const names = [...Array(20).keys()].map((i) => `minted${i}`);
    await Promise.all(names.map(async (name) => (await mint(b, name)).close()));
    await waitFor(() => b.stats().connections === 1, { what: 'the minted links to close' });
    expect((await store.loadTwins()).map((t) => t.name).sort()).toEqual([...names, 'stay'].sort());
    await waitFor(() => b.stats().expiredTwins === 20, { timeout: 10_000, what: 'the twins to expire' });
    expect(b.stats().twins).toBe(1);
    await waitFor(async () => (await store.loadTwins()).length === 1, { what: 'the store to forget them' });
    expect((await store.loadTwins()).map((t) => t.name)).toEqual(['stay']);
    // An expired twin's exposure is gone from routing: its method is unknown, not unavailable.
    await expect(stay.rpc('minted0_m')).rejects.toMatchObject({ code: 'METHOD_NOT_FOUND' });
    // The online twin kept its subscription through several TTLs.
    const pub = await scope.connect(b, 'pub');
    pub.publish('kept', 1);
    expect((await kept.done).map((m) => m.args[0])).toEqual([1]);
  });

  it('forgets an expired name entirely: it comes back with no subscription and no replay', async () => {
    const b = await scope.broker({ twinTtl: 200 });
    await (await mint(b, 'ghost')).close();
    await waitFor(() => b.stats().expiredTwins === 1, { what: 'the twin to expire' });
    const pub = await scope.connect(b, 'pub');
    pub.publish('ghost/t0', 'missed');
    await roundTrip(pub);
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', id: nextId++, cid: 'ghost' })).status).toBe(0);
    expect((await request(raw, { type: 'admin', id: nextId++, topic: '__config__', cmd: { cmd: 'reactive', status: true } })).status).toBe(0);
    const rid = nextId++;
    raw.sendBinary(encodeCbor({ type: 'rpc', id: rid, topic: 'rid', target: null, args: [] } as Msg));
    expect(decodeCbor(await raw.next() as Uint8Array)).toMatchObject({ type: 'response', id: rid, status: 0 });
  });

  it('restarts the clock when a twin comes back before its TTL', async () => {
    const b = await scope.broker({ twinTtl: 2_000 });
    await (await mint(b, 'back')).close();
    await new Promise((r) => setTimeout(r, 1_000));
    const again = await scope.connect(b, 'back');
    // Past the TTL counted from the first disconnect: still there, the clock restarted.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(b.stats().expiredTwins).toBe(0);
    await again.close();
    await waitFor(() => b.stats().expiredTwins === 1, { what: 'the twin to expire after its second visit' });
  });

  it('expires twins restored from a data dir, counting from the restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rembus-twins-'));
    try {
      const first = await broker({ port: 0, host: '127.0.0.1', dataDir });
      try {
        for (const name of ['old1', 'old2']) await (await mint(first, name)).close();
      } finally {
        await first.close();
      }
      const b = await scope.broker({ dataDir, twinTtl: 300 });
      expect(b.stats().twins).toBe(2);
      await waitFor(() => b.stats().expiredTwins === 2, { timeout: 5_000, what: 'the restored twins to expire' });
      expect(b.stats().twins).toBe(0);
      await b.close();
      const again = await scope.broker({ dataDir });
      expect(again.stats().twins).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('maxTwins', () => {
  it('refuses a login that would add a twin past the cap, with status 10 naming it; known names and anonymous links still get in', async () => {
    const b = await scope.broker({ maxTwins: 3 });
    for (const name of ['a', 'b', 'c']) await (await mint(b, name)).close();
    await waitFor(() => b.stats().connections === 0, { what: 'the links to close' });
    const raw = await scope.raw(b);
    const refused = await request(raw, { type: 'identity', id: nextId++, cid: 'd' });
    expect(refused.status).toBe(10);
    expect(String(refused.data)).toMatch(/^twin limit reached: .*at most 3 .*maxTwins/);
    await expect(connect(`${b.url}/e`, { reconnect: { maxRetries: 0 } })).rejects.toBeInstanceOf(TwinLimitError);
    expect(b.stats()).toMatchObject({ twins: 3, refusedTwins: 2 });
    const known = await scope.connect(b, 'a');
    const anonymous = await scope.connect(b);
    await roundTrip(known, anonymous);
    expect(b.stats().twins).toBe(3);
  });

  it('admits a new name again once an expired twin made room', async () => {
    const b = await scope.broker({ maxTwins: 1, twinTtl: 200 });
    await (await mint(b, 'first')).close();
    await expect(connect(`${b.url}/second`)).rejects.toBeInstanceOf(TwinLimitError);
    await waitFor(() => b.stats().expiredTwins === 1, { what: 'the twin to expire' });
    const second = await scope.connect(b, 'second');
    await roundTrip(second);
    expect(b.stats()).toMatchObject({ twins: 1, refusedTwins: 1, expiredTwins: 1 });
  });
});
