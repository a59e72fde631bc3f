/**
 * Retained values and publish metadata on the wire, with raw frames (src/protocol/pub-meta.ts):
 * a PY client and a JL client (their own spellings of IDENTITY and subscribe) receive a retained
 * value as the spec's 3-element PUB, right after their subscribe's reply, and never a metadata
 * element; a peer that offers `ts_pub_opts` on `reactive` is told the broker takes options, and
 * gets retained values with the map; a publisher's options frame is accepted and its map is
 * never forwarded to a reference subscriber.
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor, encodeValue } from '../../src/codec/cbor.js';
import type { Broker } from '../../src/broker/index.js';
import { hex, rawRequest, roundTrip, textHex, toHex, useScope, type RawClient } from './helpers.js';

const scope = useScope();

const ID = '48 88 77 66 55 44 33 22 11';
const id = (n: number): string => `48 ${n.toString(16).padStart(2, '0')} 77 66 55 44 33 22 11`;
/** `{"cmd": "subscribe", "msg_from": 0.0}` as cbor2 (PY) writes it. */
const SUBSCRIBE_NOW = 'a2 63 63 6d 64 69 73 75 62 73 63 72 69 62 65 68 6d 73 67 5f 66 72 6f 6d fb 00 00 00 00 00 00 00 00';
/** `{"cmd": "subscribe"}`: JL sends no msg_from for a plain subscribe. */
const SUBSCRIBE_JL = 'a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65';
const h = (s: string): string => toHex(hex(s));
const ok = (msgid: string): string => `84 04 ${msgid} 00 f6`;

async function retainedTemp(b: Broker): Promise<void> {
  const pub = await scope.connect(b, 'station');
  await pub.publishAsync('temp', [21.5], { retain: true, qos: 1 });
}

/** A reference client logged in and subscribed to `temp`; returns it after the reply. */
async function subscribed(b: Broker, identity: string, subscribe: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  raw.sendBinary(identity);
  expect(await raw.nextHex()).toBe(h(ok(ID)));
  raw.sendBinary(`84 03 ${id(2)} ${textHex('temp')} ${subscribe}`);
  expect(await raw.nextHex()).toBe(h(ok(id(2)))); // the reply comes first: PY registers its callback on it
  return raw;
}

describe('retained values to reference clients', () => {
  it('sends a PY client the retained value as the spec PUB, after its subscribe reply, without metadata', async () => {
    const b = await scope.broker();
    await retainedTemp(b);
    const py = await subscribed(b, `83 00 ${ID} ${textHex('pysub')}`, SUBSCRIBE_NOW);
    // The publish was QoS1: flags and id as published (spec §4.3), 4 elements, no metadata.
    const frame = decodeCbor(hex(await py.nextHex()));
    expect(frame).toMatchObject({ type: 'pub', flags: 0x10, topic: 'temp', args: [21.5] });
    expect((frame as { meta?: unknown }).meta).toBeUndefined();
  });

  it('sends a JL client (4-element IDENTITY, subscribe without msg_from) a QoS0 retained value as [1, topic, data]', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    await pub.publishAsync('temp', ['x', 1], { retain: true });
    await roundTrip(pub);
    const jl = await subscribed(b, `84 00 ${ID} ${textHex('jlsub')} a0`, SUBSCRIBE_JL);
    expect(await jl.nextHex()).toBe(h(`83 01 ${textHex('temp')} 82 61 78 01`));
  });

  it('accepts a publisher\'s options map and never forwards it to a reference subscriber', async () => {
    const b = await scope.broker();
    const py = await subscribed(b, `83 00 ${ID} ${textHex('pysub')}`, SUBSCRIBE_NOW);
    const ts = await scope.raw(b);
    const reply = await rawRequest(ts, { type: 'admin', id: 9n, topic: '__config__', cmd: { cmd: 'reactive', status: true, ts_pub_opts: true } });
    expect([reply.status, reply.data]).toEqual([0, { ts_pub_opts: true }]);
    // [1, topic, data, {retain: true}]: the 4-element QoS0 form only a negotiated peer sends.
    ts.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'temp', args: ['live'], meta: { retain: true } }));
    expect(await py.nextHex()).toBe(h(`83 01 ${textHex('temp')} 81 64 6c 69 76 65`));
    const late = await subscribed(b, `83 00 ${ID} ${textHex('late')}`, SUBSCRIBE_NOW);
    expect(await late.nextHex()).toBe(h(`83 01 ${textHex('temp')} 81 64 6c 69 76 65`));
  });
});

describe('publish metadata negotiation', () => {
  it('answers a plain reactive with null and one offering options with { ts_pub_opts: true }', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    raw.sendBinary(`84 03 ${ID} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a2 63 63 6d 64 68 72 65 61 63 74 69 76 65 66 73 74 61 74 75 73 f5`);
    expect(await raw.nextHex()).toBe(h(ok(ID)));
    const reply = await rawRequest(raw, { type: 'admin', id: 3n, topic: '__config__', cmd: { cmd: 'reactive', status: true, ts_pub_opts: true } });
    expect(reply.data).toEqual({ ts_pub_opts: true });
  });

  it('sends a negotiated peer its retained values with the map, and live ones plain unless it asked for all', async () => {
    const b = await scope.broker();
    await retainedTemp(b);
    const raw = await scope.raw(b);
    expect((await rawRequest(raw, { type: 'identity', id: 1n, cid: 'tsraw' })).status).toBe(0);
    await rawRequest(raw, { type: 'admin', id: 2n, topic: 'temp', cmd: { cmd: 'subscribe', msg_from: 0, ts_pub_opts: true } });
    const retained = decodeCbor(await raw.next() as Uint8Array);
    expect(retained).toMatchObject({ type: 'pub', topic: 'temp', args: [21.5], meta: { from: 'station', retained: true } });
    expect(typeof (retained as { meta: { recv: unknown } }).meta.recv).toBe('bigint');
    const pub = await scope.connect(b);
    pub.publish('temp', 22);
    const live = await raw.next() as Uint8Array;
    expect(toHex(live)).toBe(h(`83 01 ${textHex('temp')} 81 16`));
    // Asking for everything: every delivery carries the map (no `from` for an anonymous publisher).
    await rawRequest(raw, { type: 'admin', id: 4n, topic: '__config__', cmd: { cmd: 'reactive', status: true, ts_pub_opts: true, ts_pub_meta: true } });
    pub.publish('temp', 23);
    const meta = decodeCbor(await raw.next() as Uint8Array) as { meta?: Record<string, unknown>; args: unknown[] };
    expect(meta.args).toEqual([23]);
    expect(Object.keys(meta.meta!)).toEqual(['recv']);
  });

  it('takes only retain and ttl from a publisher: a forged from, recv or retained is not passed on', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub', { metadata: true });
    const got: unknown[] = [];
    sub.subscribe$('forge').subscribe((m) => got.push(m));
    await roundTrip(sub);
    const raw = await scope.raw(b);
    await rawRequest(raw, { type: 'admin', id: 2n, topic: '__config__', cmd: { cmd: 'reactive', status: true, ts_pub_opts: true } });
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'forge', args: [1], meta: { from: 'admin', recv: 1n, retained: true } }));
    raw.sendBinary(encodeValue([1, 'forge', [2], 'not a map'])); // a broken frame: dropped, link kept
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'forge', args: [3] }));
    await rawRequest(raw, { type: 'rpc', id: 5n, topic: 'rid', target: null, args: [] });
    await roundTrip(sub);
    expect(got).toHaveLength(2);
    const [first] = got as { args: unknown[]; from?: string; retained?: boolean; id?: bigint }[];
    expect(first!.args).toEqual([1]);
    expect(first!.from).toBeUndefined();
    expect(first!.retained).toBeUndefined();
    expect(first!.id! > 1n).toBe(true);
  });
});
