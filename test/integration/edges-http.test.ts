/**
 * The HTTP surface as an attacker meets it, beyond http-edges.test.ts: a JSON-RPC batch sized to
 * cost the broker far more than the client, a request line no URL parser accepts, paths that
 * climb out of the dashboard's files, clients that send their head a byte at a time or nothing
 * (README "HTTP and REST"; docs/http.md bounds), a flood of scrapes, the broker's own view of
 * every tenant — the stats topic the dashboard draws and `GET /metrics` — read by a tenant that
 * must not see the others (README "Security": tenants are isolated), and a dashboard that stops
 * reading. Real broker, WebSocket and HTTP on 127.0.0.1.
 */
import { connect as connectTcp } from 'node:net';
import { describe, expect, it } from 'vitest';
import { memorySecurityStore, STATS_TOPIC, type StatsSnapshot } from '../../src/broker/index.js';
import { HTTP_HEADERS_TIMEOUT } from '../../src/broker/ws-server.js';
import { MAX_BATCH } from '../../src/http/jsonrpc.js';
import type { Message } from '../../src/index.js';
import { collect, rawSubscriber, roundTrip, useScope, waitFor } from './helpers.js';
import { http } from './http-request.js';

const scope = useScope();
const argsOf = (messages: Message[]): unknown[] => messages.map((m) => m.args[0]);

describe('JSON-RPC batches', () => {
  it(`refuses a batch of more than ${MAX_BATCH} requests with one -32600 answer, running none of it`, async () => {
    // Unbounded, one 8 MiB body held ~220,000 calls on one session, each answer matched against
    // every call still waiting: 16,000 calls cost the broker 11 s of CPU, 220,000 about half an hour.
    const b = await scope.broker();
    const server = await scope.connect(b, 'server');
    let served = 0;
    server.expose('count', () => ++served);
    const got = collect(server.subscribe$('tick'), 1, { what: 'the notification of the batch within the bound' });
    await roundTrip(server);
    const calls = (n: number) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'count' }));

    const over = await http(b, 'POST', '/', [...calls(MAX_BATCH), { jsonrpc: '2.0', method: 'tick', params: ['over'] }]);
    expect([over.status, JSON.parse(over.body)]).toEqual([200,
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining(`${MAX_BATCH}`) } }]);

    const within = await http(b, 'POST', '/', [...calls(MAX_BATCH - 1), { jsonrpc: '2.0', method: 'tick', params: ['within'] }]);
    expect((JSON.parse(within.body) as unknown[]).length).toBe(MAX_BATCH - 1);
    expect(served).toBe(MAX_BATCH - 1);
    expect(argsOf(await got.done)).toEqual(['within']);
  });
});

describe('malformed requests', () => {
  it('answers 400, not 500, to a request target no URL parser accepts, and keeps serving', async () => {
    const b = await scope.broker();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connectTcp(b.port!, '127.0.0.1', () =>
        socket.write('GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => { text += chunk; });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('the dashboard\'s static files', () => {
  it('serves its own assets and nothing else, however the path climbs', async () => {
    const b = await scope.broker();
    const page = await http(b, 'GET', '/');
    expect([page.status, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect((await http(b, 'GET', '/dashboard/dashboard.js')).status).toBe(200);
    const climbs = ['/dashboard/../package.json', '/dashboard/..%2F..%2Fpackage.json', '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/..%5C..%5Cpackage.json', '/dashboard/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '/dashboard//etc/passwd',
      '/dashboard/index.html%00.js', '/dashboard/dashboard.js/..%2F..%2F..%2Fpackage.json'];
    for (const path of climbs) {
      const res = await http(b, 'GET', path);
      // Not an asset: the path is a method name then, which nobody exposes.
      expect({ path, status: res.status, leaked: /"name": "rembus"|root:/.test(res.body) }).toEqual({ path, status: 404, leaked: false });
    }
  });
});

describe('slow clients', () => {
  it('answers 408 and closes within seconds a connection that sends its head a byte at a time, or nothing', async () => {
    // With Node's defaults (head within 60 s, looked at every 30 s) each such socket was held 90 s:
    // a slowloris held the broker's descriptors for the cost of a few bytes per minute.
    const b = await scope.broker();
    const opened = Date.now();
    const slow = (first: string, drip: boolean): Promise<{ answer: string; after: number }> => new Promise((resolve, reject) => {
      const socket = connectTcp(b.port!, '127.0.0.1', () => socket.write(first));
      const dripping = setInterval(() => { if (drip) socket.write('X'); }, 500);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => { answer += chunk; });
      socket.on('error', (err) => { clearInterval(dripping); reject(err); });
      socket.on('close', () => { clearInterval(dripping); resolve({ answer: answer.split('\r\n')[0]!, after: Date.now() - opened }); });
    });
    const [head, silent] = await Promise.all([slow('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', true), slow('', false)]);
    expect([head.answer, silent.answer]).toEqual(['HTTP/1.1 408 Request Timeout', 'HTTP/1.1 408 Request Timeout']);
    expect(Math.max(head.after, silent.after)).toBeLessThan(HTTP_HEADERS_TIMEOUT + 5_000);
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
  }, 30_000);
});

describe('the broker\'s view of every tenant', () => {
  const secret = (name: string): string => `${name}-pw`;
  const names = ['root', 'ops', 'a.t1', 'c.t1', 'spy.t2'];
  const isolated = () => scope.broker({ http: { statsInterval: 20 }, security: memorySecurityStore({
    tenants: { t1: '1111', t2: '2222' }, admins: ['root', 'ops'], keys: Object.fromEntries(names.map((n) => [n, secret(n)])) }) });

  it('sends the stats snapshots (every tenant\'s components, topics and methods) to proven admins only', async () => {
    const b = await isolated();
    const a = await scope.connect(b, 'a.t1', { key: secret('a.t1') });
    a.expose('payroll_t1', () => 1);
    a.subscribe$('salaries/t1').subscribe();
    await roundTrip(a);
    const spy = await scope.connect(b, 'spy.t2', { key: secret('spy.t2') });
    const spied = collect(spy.subscribe$<[StatsSnapshot]>(STATS_TOPIC), 1, { what: 'snapshots a tenant must not get' });
    await roundTrip(spy);
    const root = await scope.connect(b, 'root', { key: secret('root') });
    const seen = collect(root.subscribe$<[StatsSnapshot]>(STATS_TOPIC), 3, { what: 'the admin\'s snapshots' });
    const [snap] = (await seen.done).slice(-1).map((m) => m.args[0]);
    // The admin's snapshot names t1's component, its subscription and its method: the spy got the same publishes' turn.
    expect(snap!.components.find((c) => c.name === 'a.t1')).toMatchObject({ subscriptions: ['salaries/t1'], exposed: ['payroll_t1'] });
    await roundTrip(spy);
    expect(spied.values).toEqual([]);
  });

  it('serves /metrics (every tenant\'s method labels) to a proven admin only', async () => {
    const b = await isolated();
    const a = await scope.connect(b, 'a.t1', { key: secret('a.t1') });
    a.expose('payroll_t1', () => 1);
    const c = await scope.connect(b, 'c.t1', { key: secret('c.t1') });
    expect(await c.rpc('payroll_t1')).toBe(1);
    expect((await http(b, 'GET', '/metrics')).status).toBe(401);
    expect((await http(b, 'GET', '/metrics', undefined, 'ops:wrong')).status).toBe(401);
    const spy = await http(b, 'GET', '/metrics', undefined, `spy.t2:${secret('spy.t2')}`);
    expect([spy.status, spy.body.includes('payroll_t1')]).toEqual([403, false]);
    const ops = await http(b, 'GET', '/metrics', undefined, `ops:${secret('ops')}`);
    expect(ops.status).toBe(200);
    expect(ops.body).toMatch(/rembus_rpc_calls_total\{method="payroll_t1"\} 1/);
  });

  it('refuses every route to no credentials, a wrong secret and another tenant\'s proven name, with no effect', async () => {
    const b = await isolated();
    const a = await scope.connect(b, 'a.t1', { key: secret('a.t1') });
    let served = 0;
    a.expose('payroll_t1', () => ++served);
    const news = collect(a.subscribe$('news'), 1, { what: 't1 news' });
    await roundTrip(a);
    // Publishes are answered as a QoS0 publish on a WebSocket is (200, 204 for a notification): checked by what t1 receives.
    const publishes: [string, string, unknown][] = [['POST', '/news', ['forged']], ['POST', '/', { jsonrpc: '2.0', method: 'news', params: ['forged'] }]];
    const routes: [string, string, unknown?][] = [
      ['GET', '/payroll_t1'], ['POST', '/', { jsonrpc: '2.0', id: 1, method: 'payroll_t1' }], ['GET', '/admin/broker_config'], ['POST', '/private_topic/news'], ['POST', '/authorize/spy.t2/news'],
      ['POST', '/subscribe/news/a.t1'], ['POST', '/unexpose/payroll_t1/a.t1'], ['POST', '/unsubscribe/news/a.t1'], ['GET', '/metrics'],
    ];
    const outcomes: string[] = [];
    for (const auth of [undefined, 'a.t1:wrong', 'c.t1', `spy.t2:${secret('spy.t2')}`]) {
      for (const [method, path, body] of routes) {
        const res = await http(b, method, path, body, auth);
        const rpc = res.body.startsWith('{"jsonrpc"') ? (JSON.parse(res.body) as { error?: { code: number } }).error?.code : undefined;
        // What a request that got through would answer: 2xx with no JSON-RPC error.
        if (res.status < 300 && rpc === undefined) outcomes.push(`${auth ?? 'anonymous'} ${method} ${path}: ${res.status} ${res.body.slice(0, 80)}`);
      }
      for (const [method, path, body] of publishes) await http(b, method, path, body, auth);
    }
    expect(outcomes).toEqual([]);
    // The forged publishes reached nobody: t1's own gets through after them, and its method still serves.
    const mate = await http(b, 'POST', '/news', ['from t1'], `c.t1:${secret('c.t1')}`);
    expect(mate.status).toBe(200);
    expect(argsOf(await news.done)).toEqual(['from t1']);
    expect(served).toBe(0);
    const call = await http(b, 'GET', '/payroll_t1', undefined, `c.t1:${secret('c.t1')}`);
    expect([call.status, JSON.parse(call.body)]).toEqual([200, 1]);
  });
});

describe('GET /metrics under a scrape flood', () => {
  it('serves every scrape of the same second from one rendering, then renders afresh', async () => {
    // Any anonymous peer can make up 1,000 method labels; then one rendering cost ~80 ms of CPU
    // and 1.3 MB, and a flood of anonymous scrapes, each rendered anew, took the broker's CPU.
    const b = await scope.broker();
    const server = await scope.connect(b, 'server');
    server.expose('ping', () => 'pong');
    const caller = await scope.connect(b, 'caller');
    const calls = (body: string): number => Number(/^rembus_rpc_calls_total\{method="ping"\} (\d+)$/m.exec(body)?.[1] ?? 0);
    await caller.rpc('ping');
    // Rendered anew, no two of these would agree (process CPU, memory, event-loop lag move).
    const flood = await Promise.all(Array.from({ length: 20 }, () => http(b, 'GET', '/metrics')));
    expect(flood.map((r) => r.status)).toEqual(flood.map(() => 200));
    expect(new Set(flood.map((r) => r.body)).size).toBe(1);
    expect(calls(flood[0]!.body)).toBe(1);
    await caller.rpc('ping');
    await waitFor(async () => calls((await http(b, 'GET', '/metrics')).body) === 2,
      { timeout: 5_000, interval: 100, what: 'a later scrape to count the second call' });
  });
});

describe('the dashboard\'s live stream', () => {
  it('cuts a stats reader that stops reading, as any slow consumer, and keeps serving the others', async () => {
    // The dashboard is a component on __broker__/stats: a tab that stops reading must cost the broker
    // no more than any slow consumer (flow-control.ts), though the broker itself is the publisher.
    const b = await scope.broker({ http: { statsInterval: 5 }, flowControl: { highWater: 64 * 1024, stallTimeout: 300 } });
    const pub = await scope.connect(b, 'pub');
    // 1,000 topics make each snapshot ~40 KB: ~8 MB/s, past loopback's socket buffers within a second.
    for (let i = 0; i < 1_000; i++) pub.publish(`load/${i}`, i);
    await roundTrip(pub);
    const stalled = await rawSubscriber(scope, b, STATS_TOPIC);
    const reader = await scope.connect(b, 'reader');
    stalled.pause();
    await waitFor(() => b.stats().slowConsumers === 1, { timeout: 15_000, what: 'the stalled stats reader to be cut' });
    stalled.resume();
    await stalled.closedAt;
    const after = collect(reader.subscribe$<[StatsSnapshot]>(STATS_TOPIC), 2, { what: 'snapshots after the cut' });
    expect((await after.done).every((m) => m.args[0].topics.length === 1_000)).toBe(true);
    expect(b.stats().slowConsumers).toBe(1);
  }, 30_000);
});
