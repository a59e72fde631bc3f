/** The wire meter, latency buckets and Basic auth rules of the HTTP room (pure counting, no sockets). */
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/cbor.js';
import { basicAuth, HttpAuthError } from '../../src/http/auth.js';
import { MAX_TOPICS, WireMeter } from '../../src/http/meter.js';
import { LATENCY_BUCKETS, quantile, RpcLatency } from '../../src/http/rpc-latency.js';
import { memoryLinkPair } from '../../src/transport/memory-link.js';

describe('WireMeter', () => {
  it('counts publishes per topic, RPC latency per method, errors, and slow consumers cut', () => {
    let now = 0;
    const meter = new WireMeter(() => now);
    const [peer, raw] = memoryLinkPair();
    const link = meter.wrap(raw);
    link.frames$.subscribe();
    const pubs = ['a/b', 'a/b', 'c', 'a/b'];
    for (const topic of pubs) peer.send(encodeCbor({ type: 'pub', flags: 0, topic, args: [1] }));
    peer.send(encodeCbor({ type: 'pub', flags: 0x10, id: 5n, topic: 'c', args: [] }));
    peer.send(encodeCbor({ type: 'rpc', id: 7n, topic: 'add', target: null, args: [1, 2] }));
    peer.send(encodeCbor({ type: 'rpc', id: 8n, topic: 'bad', target: null, args: [] }));
    now = 3;
    link.send(encodeCbor({ type: 'response', id: 7n, status: 0, data: 3 }));
    link.send(encodeCbor({ type: 'response', id: 8n, status: 42, data: 'bad' }));
    link.send(encodeCbor({ type: 'pub', flags: 0, topic: 'x', args: [] }));
    expect(meter.publishesIn).toBe(5);
    expect(meter.publishesOut).toBe(1);
    expect(meter.framesIn).toBe(7);
    expect(Object.fromEntries([...meter.topics].map(([t, e]) => [t, e.published]))).toEqual({ 'a/b': 3, c: 2 });
    expect(meter.rpc.methods.get('add')).toMatchObject({ calls: 1, errors: 0, sum: 0.003 });
    expect(meter.rpc.methods.get('bad')).toMatchObject({ calls: 1, errors: 1 });
    link.close(1008, 'slow consumer: more than 1 bytes unread');
    link.close(1008, 'slow consumer: again');
    expect(meter.slowConsumersCut).toBe(1);
  });

  it('counts non-ASCII and long topics by their text, alternating with ASCII ones', () => {
    const meter = new WireMeter(() => 0);
    const [peer, raw] = memoryLinkPair();
    meter.wrap(raw).frames$.subscribe();
    const long = `${'é'.repeat(30)}/température`;
    for (const topic of ['café/€', 'cafe', 'café/€', long, long, 'emoji/😀']) {
      peer.send(encodeCbor({ type: 'pub', flags: 0, topic, args: [] }));
    }
    expect(Object.fromEntries([...meter.topics].map(([t, e]) => [t, e.published])))
      .toEqual({ 'café/€': 2, cafe: 1, [long]: 2, 'emoji/😀': 1 });
  });

  it('counts a publisher rotating over many topics (W8: 100) and a receive buffer changed in place', () => {
    const meter = new WireMeter(() => 0);
    const [peer, raw] = memoryLinkPair();
    meter.wrap(raw).frames$.subscribe();
    for (let i = 0; i < 1_000; i++) peer.send(encodeCbor({ type: 'pub', flags: i % 2 === 0 ? 0 : 0x10, ...(i % 2 === 0 ? {} : { id: BigInt(i) }), topic: `site${i % 10}/dn${i % 100}/telemetry`, args: [i] }));
    expect(meter.topics.size).toBe(100);
    expect([...meter.topics.values()].every((e) => e.published === 10)).toBe(true);
    const reused = encodeCbor({ type: 'pub', flags: 0, topic: 'room/1', args: [] });
    peer.send(reused);
    reused[reused.indexOf(0x31)] = 0x32;
    peer.send(reused);
    expect(meter.topics.get('room/1')?.published).toBe(1);
    expect(meter.topics.get('room/2')?.published).toBe(1);
  });

  it('bounds the topics it counts: later ones go to __other__', () => {
    const meter = new WireMeter();
    const [peer, raw] = memoryLinkPair();
    meter.wrap(raw).frames$.subscribe();
    for (let i = 0; i < MAX_TOPICS + 50; i++) peer.send(encodeCbor({ type: 'pub', flags: 0, topic: `t${i}`, args: [] }));
    expect(meter.topics.size).toBe(MAX_TOPICS + 1);
    expect(meter.topics.get('__other__')?.published).toBe(50);
  });
});

describe('quantile', () => {
  it('interpolates inside buckets and is 0 without observations', () => {
    const h = new RpcLatency();
    expect(quantile(new Array(LATENCY_BUCKETS.length + 1).fill(0), 0.5)).toBe(0);
    for (let i = 0; i < 100; i++) h.observe('m', i < 99 ? 0.0004 : 3, false);
    const m = h.methods.get('m')!;
    expect(quantile(m.counts, 0.5)).toBeGreaterThan(0.00025);
    expect(quantile(m.counts, 0.5)).toBeLessThanOrEqual(0.0005);
    expect(quantile(m.counts, 1)).toBe(5);
  });
});

describe('basicAuth', () => {
  const b64 = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  const keys = new Set(['keyed']);
  const auth = (required: boolean) => basicAuth({ requireAuth: () => required, hasKey: async (cid) => keys.has(cid) });

  it('maps credentials like Rembus.jl: anonymous, a bare name without key, a name with its secret', async () => {
    await expect(auth(false)(undefined)).resolves.toEqual({ name: undefined, secret: undefined });
    await expect(auth(false)(b64('free'))).resolves.toEqual({ name: 'free', secret: undefined });
    await expect(auth(false)(b64('keyed:s:3'))).resolves.toEqual({ name: 'keyed', secret: 's:3' });
  });

  it('refuses what a WebSocket login would refuse, and anonymous when auth is required', async () => {
    for (const [required, header] of [[true, undefined], [false, b64('keyed')], [false, b64('free:pw')], [true, b64('free')],
      [false, 'Bearer x'], [false, b64(':pw')]] as const) {
      await expect(auth(required)(header)).rejects.toBeInstanceOf(HttpAuthError);
    }
  });
});
