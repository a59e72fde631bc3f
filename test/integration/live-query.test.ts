/**
 * Live queries through a real broker (issue 18 item 3): snapshot then live rows with no gap and
 * no duplicate while writers publish, server work released on unsubscribe, disconnect and
 * close, typed refusals, and the RPC + topic pair driven with raw frames as a PY/JL client would.
 */
import pl from 'nodejs-polars';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { decodeCbor } from '../../src/codec/index.js';
import { tagToDataFrame } from '../../src/dataframe/index.js';
import {
  LiveQueryLimitError, LiveQueryUnsupportedError, QueryError, UnknownTableError,
  type Component, type LiveQueryEvent,
} from '../../src/index.js';
import type { Msg, PubMsg, ResponseMsg } from '../../src/protocol/messages.js';
import { collect, rawRequest, roundTrip, useScope, waitFor, type RawClient } from './helpers.js';

const SCHEMA = {
  tables: [{
    table: 'reading',
    topic: ':dev/reading',
    columns: [
      { col: 'dev', type: 'TEXT', nullable: false },
      { col: 'seq', type: 'BIGINT', nullable: false },
      { col: 'value', type: 'DOUBLE' },
    ],
    extras: { recv_ts: 'ts' },
  }],
};
/** 64-bit integers arrive as numbers when they are safe integers (cbor-x), as bigint beyond. */
interface Reading { dev: string; seq: number; value: number | null; ts: bigint }

const scope = useScope();
let nextId = 1n;
const liveCount = (b: Broker): number => b.stats().schema?.liveQueries ?? -1;
const request = (raw: RawClient, msg: Msg): Promise<ResponseMsg> => rawRequest(raw, msg as Msg & { id: bigint });

async function schemaBroker(options: Parameters<typeof scope.broker>[0] = {}): Promise<Broker> {
  // Small, frequent commits: many commits land while a live query takes its snapshot.
  return scope.broker({ schema: SCHEMA, schemaWrites: { batchSize: 20, flushInterval: 2 }, ...options });
}

/** Everything a live query delivered so far, split into its parts. */
function record(events: LiveQueryEvent<Reading>[]): { snapshot: Reading[]; live: Reading[] } {
  const snapshot = events[0]?.type === 'snapshot' ? events[0].rows : [];
  return { snapshot, live: events.slice(1).flatMap((e) => { expect(e.type).toBe('rows'); return e.rows; }) };
}

describe('query$ live', () => {
  it('joins snapshot and live rows with no gap and no duplicate while two writers publish', async () => {
    const b = await schemaBroker();
    const [w1, w2, reader] = await scope.connectAll(b, 'w1', 'w2', 'reader');
    const total = 1_500;
    let sent = 0;
    const queries: { events: LiveQueryEvent<Reading>[]; startedAt: number }[] = [];
    const write = async (w: Component, dev: string): Promise<void> => {
      for (let seq = 0; seq < total; seq++) {
        // The last 200 rows of each writer follow every query's snapshot: each has a live part.
        if (seq === total - 200) {
          await waitFor(() => queries.length === 4 && queries.every((q) => q.events.length > 0), { timeout: 20_000, what: 'four snapshots' });
        }
        w.publish(`${dev}/reading`, { dev, seq, value: seq });
        sent++;
        if (seq % 25 === 24) await new Promise((resolve) => setImmediate(resolve));
      }
      await roundTrip(w);
    };
    const writers = Promise.all([write(w1, 'a'), write(w2, 'b')]);
    // Four queries, started at different points of the stream: each must see every even seq once.
    for (const at of [200, 900, 1_600, 2_300]) {
      await waitFor(() => sent >= at, { timeout: 20_000, what: `${at} publishes` });
      const events: LiveQueryEvent<Reading>[] = [];
      const sub = reader.query$<Reading>('reading', { where: 'seq % 2 = 0', live: true }).subscribe((e) => events.push(e));
      scope.track({ close: () => sub.unsubscribe() });
      queries.push({ events, startedAt: sent });
    }
    await writers;
    const rows = (q: { events: LiveQueryEvent<Reading>[] }): Reading[] => { const r = record(q.events); return [...r.snapshot, ...r.live]; };
    await waitFor(() => queries.every((q) => rows(q).length >= total), { timeout: 20_000, what: 'every even row on every query' });
    await roundTrip(reader);
    for (const q of queries) {
      expect(q.startedAt).toBeLessThan(2 * total); // the writers were still going
      const { snapshot, live } = record(q.events);
      expect(live.length).toBeGreaterThan(0);
      for (const dev of ['a', 'b']) {
        const seqs = [...snapshot, ...live].filter((r) => r.dev === dev).map((r) => Number(r.seq));
        expect(seqs).toHaveLength(total / 2); // no duplicate
        expect(new Set(seqs)).toEqual(new Set(Array.from({ length: total / 2 }, (_, i) => 2 * i))); // no gap
      }
      // Per writer, live rows come in commit order.
      for (const dev of ['a', 'b']) {
        const seqs = live.filter((r) => r.dev === dev).map((r) => Number(r.seq));
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    expect(liveCount(b)).toBe(4);
  });

  it('stops the broker work on unsubscribe and when the component disconnects', async () => {
    const b = await schemaBroker();
    const [pub, reader, other] = await scope.connectAll(b, 'pub', 'reader', 'other');
    const first = collect(reader.query$<Reading>('reading', { live: true }), 1);
    await first.done;
    const second = collect(other.query$<Reading>('reading', { where: "dev = 'x'", live: true }), 2);
    await waitFor(() => liveCount(b) === 2, { what: 'two live queries' });
    first.unsubscribe();
    await waitFor(() => liveCount(b) === 1, { what: 'the unsubscribed query released' });
    pub.publish('x/reading', { dev: 'x', seq: 1, value: 1 });
    const [, rows] = await second.done;
    expect(rows).toMatchObject({ type: 'rows', rows: [{ dev: 'x', seq: 1, value: 1 }] });
    expect(first.values).toHaveLength(1); // nothing after unsubscribe
    await other.close();
    await waitFor(() => liveCount(b) === 0, { what: 'the disconnected query released' });
    second.unsubscribe();
  });

  it('emits an empty snapshot and nothing else for a where that matches nothing', async () => {
    const b = await schemaBroker();
    const [pub, reader] = await scope.connectAll(b, 'pub', 'reader');
    pub.publish('a/reading', { dev: 'a', seq: 1, value: 5 });
    const events = collect(reader.query$<Reading>('reading', { where: 'value > 100', live: true }), 1);
    expect(await events.done).toEqual([{ type: 'snapshot', rows: [] }]);
    for (let i = 0; i < 20; i++) pub.publish('a/reading', { dev: 'a', seq: i, value: i });
    await roundTrip(pub);
    await reader.rpc('query_reading'); // flushes: every row above is committed now
    pub.publish('a/reading', { dev: 'a', seq: 99, value: 101 });
    await waitFor(() => events.values.length === 2, { what: 'the one matching row' });
    expect(events.values[1]).toMatchObject({ type: 'rows', rows: [{ seq: 99, value: 101 }] });
    events.unsubscribe();
  });

  it('answers a one-shot query$ with plain row objects', async () => {
    const b = await schemaBroker();
    const [pub, reader] = await scope.connectAll(b, 'pub', 'reader');
    for (let i = 0; i < 5; i++) pub.publish('a/reading', { dev: 'a', seq: i, value: i * 1.5 });
    await roundTrip(pub);
    const rows = await firstValueFrom(reader.query$<Reading>('reading', { where: 'seq >= 3' }).pipe(toArray()));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.map((r) => r.seq).sort()).toEqual([3, 4]);
    expect(typeof rows[0]![0]!.ts).toBe('bigint');
    expect(liveCount(b)).toBe(0);
  });

  it('refuses with typed errors: unknown table, bad where, unsupported live construct, the per-connection limit', async () => {
    const b = await schemaBroker({ liveQueries: { maxPerConnection: 2 } });
    const reader = await scope.connect(b, 'reader');
    await expect(firstValueFrom(reader.query$('nope', { live: true }))).rejects.toBeInstanceOf(UnknownTableError);
    await expect(firstValueFrom(reader.query$('reading', { where: 'seq > ; DROP TABLE reading' })))
      .rejects.toBeInstanceOf(QueryError);
    await expect(firstValueFrom(reader.query$('reading', { where: 'nosuch = 1', live: true }))).rejects.toThrow(/unknown column 'nosuch'/);
    const unsupported = firstValueFrom(reader.query$('reading', { where: "regexp_matches(dev, '^a')", live: true }));
    await expect(unsupported).rejects.toBeInstanceOf(LiveQueryUnsupportedError);
    await expect(unsupported).rejects.toMatchObject({ construct: 'function regexp_matches()' });
    // The same condition is fine one-shot.
    await expect(firstValueFrom(reader.query$('reading', { where: "regexp_matches(dev, '^a')" }))).resolves.toEqual([]);
    const q1 = collect(reader.query$('reading', { live: true }), 1);
    const q2 = collect(reader.query$('reading', { live: true }), 1);
    await Promise.all([q1.done, q2.done]);
    const third = firstValueFrom(reader.query$('reading', { live: true }));
    await expect(third).rejects.toBeInstanceOf(LiveQueryLimitError);
    await expect(third).rejects.toMatchObject({ code: 'LIVE_QUERY_LIMIT', limit: 2 });
    expect(liveCount(b)).toBe(2);
    q1.unsubscribe();
    q2.unsubscribe();
    await waitFor(() => liveCount(b) === 0, { what: 'both released' });
  });

  it('releases every query when the broker closes, and takes a fresh snapshot once reconnected', async () => {
    const b = await schemaBroker();
    const reader = await scope.connect(b, 'reader', { reconnect: { initialDelay: 20, maxDelay: 50 } });
    const pub = await scope.connect(b, 'pub');
    pub.publish('a/reading', { dev: 'a', seq: 1, value: 1 });
    await roundTrip(pub);
    const events = collect(reader.query$<Reading>('reading', { live: true }), 1);
    expect((await events.done)[0]).toMatchObject({ type: 'snapshot', rows: [{ seq: 1 }] });
    await b.close();
    expect(liveCount(b)).toBe(0);
    const again = await schemaBroker({ port: b.port }); // a new, empty broker on the same port
    await waitFor(() => events.values.length === 2, { timeout: 10_000, what: 'a snapshot after the reconnect' });
    expect(events.values[1]).toEqual({ type: 'snapshot', rows: [] });
    expect(liveCount(again)).toBe(1);
    const pub2 = await scope.connect(again, 'pub2');
    pub2.publish('b/reading', { dev: 'b', seq: 7, value: 7 });
    await waitFor(() => events.values.length === 3, { what: 'a live row from the new broker' });
    expect(events.values[2]).toMatchObject({ type: 'rows', rows: [{ dev: 'b', seq: 7 }] });
    expect(events.error).toBeUndefined();
    await reader.close();
    await waitFor(() => events.completed, { what: 'the query to complete with its component' });
    await waitFor(() => liveCount(again) === 0, { what: 'the query released' });
  });
});

describe('query$ live at the edges', () => {
  it('releases a query unsubscribed before its snapshot arrived', async () => {
    const b = await schemaBroker();
    const [pub, reader] = await scope.connectAll(b, 'pub', 'reader');
    for (let i = 0; i < 2_000; i++) pub.publish('a/reading', { dev: 'a', seq: i, value: i });
    for (let round = 0; round < 5; round++) {
      const sub = reader.query$('reading', { live: true }).subscribe();
      await new Promise((resolve) => setImmediate(resolve)); // the call is on the wire, its answer is not back
      sub.unsubscribe();
    }
    await roundTrip(reader);
    await waitFor(() => liveCount(b) === 0, { what: 'every early-unsubscribed query released' });
  });

  it('lets no other connection stop or read a live query by naming its topic', async () => {
    const b = await schemaBroker();
    const [pub, owner, intruder] = await scope.connectAll(b, 'pub', 'owner', 'intruder');
    const events = collect(owner.query$<Reading>('reading', { live: true, topic: 'owned' }), 1);
    await events.done;
    const spy = collect(intruder.subscribe$('owned'), 1, { timeout: 500 });
    expect(await intruder.rpc('unlive_reading', 'owned')).toBe(false);
    // The same topic on another connection is its own query.
    const theirs = collect(intruder.query$<Reading>('reading', { live: true, topic: 'owned', where: "dev = 'zz'" }), 1);
    await theirs.done;
    pub.publish('a/reading', { dev: 'a', seq: 5, value: 5 });
    await waitFor(() => events.values.length === 2, { what: 'the owner still gets rows' });
    expect(events.values[1]).toMatchObject({ type: 'rows', rows: [{ seq: 5 }] });
    await roundTrip(pub, intruder);
    expect(theirs.values).toHaveLength(1); // its where matches nothing: no rows of the owner's
    await expect(spy.done).rejects.toThrow(); // a plain subscriber of the topic gets nothing
    expect(liveCount(b)).toBe(2);
    events.unsubscribe();
    theirs.unsubscribe();
    spy.unsubscribe();
  });

  it('refuses a second live query on a topic the connection already uses', async () => {
    const b = await schemaBroker();
    const reader = await scope.connect(b, 'reader');
    const first = collect(reader.query$('reading', { live: true, topic: 'dup' }), 1);
    await first.done;
    await expect(firstValueFrom(reader.query$('reading', { live: true, topic: 'dup' }))).rejects.toThrow(/already carries a live query/);
    expect(liveCount(b)).toBe(1);
    first.unsubscribe();
  });

  it('reports rows stored by upsert_<t> and by DataFrame publishes', async () => {
    const b = await schemaBroker();
    const [pub, reader] = await scope.connectAll(b, 'pub', 'reader');
    const events = collect(reader.query$<Reading>('reading', { where: 'value >= 10', live: true }), 3);
    await waitFor(() => events.values.length === 1, { what: 'the snapshot' });
    await pub.rpc('upsert_reading', [{ dev: 'u', seq: 1, value: 10 }, { dev: 'u', seq: 2, value: 1 }]);
    pub.publish('d/reading', pl.DataFrame({ dev: ['d', 'd'], seq: [1, 2], value: [5, 50] }));
    const [, upserted, framed] = await events.done;
    expect(upserted).toMatchObject({ type: 'rows', rows: [{ dev: 'u', seq: 1, value: 10 }] });
    expect(framed).toMatchObject({ type: 'rows', rows: [{ dev: 'd', seq: 2, value: 50 }] });
    events.unsubscribe();
  });
});

describe('live_<t> / unlive_<t> from a reference client (raw frames)', () => {
  it('answers the snapshot as a DataFrame, publishes new rows on the topic, and stops on unlive', async () => {
    const b = await schemaBroker();
    const pub = await scope.connect(b, 'pub');
    pub.publish('a/reading', { dev: 'a', seq: 1, value: 1 });
    await roundTrip(pub);
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', id: nextId++, cid: 'pyclient' })).status).toBe(0);
    // What `rb.subscribe(on_rows, topic="mylive")` then `rb.rpc("live_reading", {...})` send.
    expect((await request(raw, { type: 'admin', id: nextId++, topic: 'mylive', cmd: { cmd: 'subscribe' } })).status).toBe(0);
    const answer = await request(raw, { type: 'rpc', id: nextId++, topic: 'live_reading', target: null,
      args: [{ where: "dev = 'a'", topic: 'mylive' }] });
    expect(answer.status).toBe(0);
    const snapshot = tagToDataFrame(answer.data as never) as pl.DataFrame;
    expect(snapshot.getColumn('seq').toArray().map(Number)).toEqual([1]);
    expect(liveCount(b)).toBe(1);

    pub.publish('a/reading', { dev: 'a', seq: 2, value: 2 });
    pub.publish('b/reading', { dev: 'b', seq: 3, value: 3 });
    const rowsPub = await nextPub(raw);
    expect(rowsPub.topic).toBe('mylive');
    const frame = tagToDataFrame(rowsPub.args[0] as never) as pl.DataFrame;
    expect(frame.getColumn('seq').toArray().map(Number)).toEqual([2]);
    expect(frame.columns).toEqual(['dev', 'seq', 'value', 'ts']);

    const stop = await request(raw, { type: 'rpc', id: nextId++, topic: 'unlive_reading', target: null, args: ['mylive'] });
    expect(stop).toMatchObject({ status: 0, data: true });
    expect(liveCount(b)).toBe(0);
    const again = await request(raw, { type: 'rpc', id: nextId++, topic: 'unlive_reading', target: null, args: ['mylive'] });
    expect(again.data).toBe(false);
  });

  it('cuts a client that stops reading its live rows, and releases its query (bounded memory)', async () => {
    const b = await schemaBroker({ flowControl: { highWater: 64 * 1024, stallTimeout: 500 } });
    const pub = await scope.connect(b, 'pub');
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', id: nextId++, cid: 'stuck' })).status).toBe(0);
    expect((await request(raw, { type: 'admin', id: nextId++, topic: 'rows', cmd: { cmd: 'subscribe' } })).status).toBe(0);
    const ok = await request(raw, { type: 'rpc', id: nextId++, topic: 'live_reading', target: null,
      args: [{ topic: 'rows', format: 'rows' }] });
    expect(ok.status).toBe(0);
    expect(liveCount(b)).toBe(1);
    raw.pause();
    const dev = 'd'.repeat(500);
    for (let seq = 0; seq < 40_000 && b.stats().connections === 2; seq++) {
      pub.publish(`${dev}/reading`, { dev, seq, value: seq });
      if (seq % 500 === 499) await roundTrip(pub);
    }
    await waitFor(() => liveCount(b) === 0 && b.stats().connections === 1,
      { timeout: 30_000, what: 'the stalled client to be cut and its live query released' });
    expect(b.stats().slowConsumers).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses bad options with status 40 and a stable code, and releases a query when the socket drops', async () => {
    const b = await schemaBroker();
    const raw = await scope.raw(b);
    expect((await request(raw, { type: 'identity', id: nextId++, cid: 'jlclient' })).status).toBe(0);
    const bad = await request(raw, { type: 'rpc', id: nextId++, topic: 'live_reading', target: null, args: [{ when: 1 }] });
    expect(bad.status).toBe(40);
    expect(bad.data).toMatch(/^QUERY: unknown key 'when'/);
    const wild = await request(raw, { type: 'rpc', id: nextId++, topic: 'live_reading', target: null, args: [{ topic: 'a/**' }] });
    expect(wild.data).toMatch(/^QUERY: 'topic'/);
    const ok = await request(raw, { type: 'rpc', id: nextId++, topic: 'live_reading', target: null, args: [{ topic: 'mine', format: 'rows' }] });
    expect(ok).toMatchObject({ status: 0, data: [] });
    expect(liveCount(b)).toBe(1);
    raw.close();
    await waitFor(() => liveCount(b) === 0, { what: 'the dropped socket released its query' });
  });
});

async function nextPub(raw: RawClient): Promise<PubMsg> {
  for (;;) {
    const msg = decodeCbor(await raw.next() as Uint8Array);
    if (msg.type === 'pub') return msg;
  }
}
