/**
 * HTTP on the broker's listener (issue 16 item 1): Rembus.jl's REST routes, JSON-RPC 2.0,
 * `/metrics`, `/healthz`, `/readyz`, Basic authentication mapped to WebSocket identities, and
 * the refusals a user or attacker would meet.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { memorySecurityStore, memoryStore, type Broker } from '../../src/broker/index.js';
import { admin } from '../../src/index.js';
import { useScope, waitFor } from './helpers.js';
import { http } from './http-request.js';

const scope = useScope();

describe('broker HTTP', () => {
  it('answers /healthz and /readyz, and keeps WebSocket upgrades on any path', async () => {
    const b = await scope.broker();
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
    expect(JSON.parse((await http(b, 'GET', '/readyz')).body)).toEqual({ status: 'ready' });
    const node = await scope.connect(b, 'any-path');
    expect(await node.rpc('rid')).toBe('broker');
  });

  it('serves GET /{method} as an RPC with JSON args, 404 for an unknown method, 403 for a failing one', async () => {
    const b = await scope.broker();
    const server = await scope.connect(b, 'math');
    server.expose('add', (a: number, c: number) => a + c);
    server.expose('boom', () => { throw new Error('kaput'); });
    await waitFor(async () => (await http(b, 'GET', '/add', [1, 2])).status === 200);
    const ok = await http(b, 'GET', '/add', [40, 2]);
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, 42]);
    expect((await http(b, 'GET', '/nosuch', [])).status).toBe(404);
    const failed = await http(b, 'GET', '/boom');
    expect(failed.status).toBe(403);
    expect(failed.body).toContain('kaput');
    expect((await http(b, 'GET', '/add', '[1, 2')).status).toBe(400);
  });

  it('publishes POST /{topic} bodies to subscribers, topics with slashes included', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'listener');
    const got = firstValueFrom(sub.subscribe$('plant/+/telemetry'.replace('+', '*')).pipe(take(2), toArray()));
    await waitFor(async () => {
      await http(b, 'POST', '/plant/7/telemetry', [{ t: 20.5 }, 'x']);
      return true;
    });
    await http(b, 'POST', '/plant/8/telemetry', 3);
    const [first, second] = await got;
    expect(first!.args).toEqual([{ t: 20.5 }, 'x']);
    expect(second!.args).toEqual([3]);
  });

  it('speaks JSON-RPC 2.0 on POST /: calls, batches, notifications and errors', async () => {
    const b = await scope.broker();
    const server = await scope.connect(b, 'math');
    server.expose('add', (a: number, c: number) => a + c);
    await waitFor(async () => (await http(b, 'GET', '/add', [1, 2])).status === 200);
    const one = await http(b, 'POST', '/', { jsonrpc: '2.0', id: 7, method: 'add', params: [1, 2] });
    expect(JSON.parse(one.body)).toEqual({ jsonrpc: '2.0', id: 7, result: 3 });
    const batch = await http(b, 'POST', '/', [
      { jsonrpc: '2.0', id: 1, method: 'add', params: [2, 2] },
      { jsonrpc: '2.0', method: 'some/topic', params: [1] },
      { jsonrpc: '2.0', id: 'x', method: 'nosuch', params: [] },
      { id: 3, method: 'add' },
    ]);
    const answers = JSON.parse(batch.body) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(answers.map((a) => [a.id, a.result ?? a.error!.code])).toEqual([[1, 4], ['x', -32601], [3, -32600]]);
    expect((await http(b, 'POST', '/', { jsonrpc: '2.0', method: 'some/topic', params: [] })).status).toBe(204);
    expect(JSON.parse((await http(b, 'POST', '/', '{oops')).body).error.code).toBe(-32700);
  });

  it('runs admin routes for admins only and maps Basic credentials to key-checked identities', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ admins: ['root'], keys: { root: 's3cret' } }) });
    const user = await scope.connect(b, 'user');
    user.expose('echo', (x: unknown) => x);
    expect((await http(b, 'GET', '/admin/broker_config')).status).toBe(401);
    expect((await http(b, 'GET', '/admin/broker_config', undefined, 'root:wrong')).status).toBe(401);
    expect((await http(b, 'GET', '/admin/broker_config', undefined, 'root')).status).toBe(401);
    expect((await http(b, 'GET', '/admin/broker_config', undefined, 'nobody')).status).toBe(403);
    expect((await http(b, 'GET', '/admin/broker_config', undefined, 'nobody:pw')).status).toBe(401);
    const config = await http(b, 'GET', '/admin/broker_config', undefined, 'root:s3cret');
    expect(config.status).toBe(200);
    expect(JSON.parse(config.body).exposers).toEqual({ echo: ['user'] });
    expect((await http(b, 'POST', '/private_topic/payroll', undefined, 'root:s3cret')).status).toBe(200);
    expect((await http(b, 'POST', '/authorize/user/payroll', undefined, 'root:s3cret')).status).toBe(200);
    const node = await scope.connect(b, 'root', { key: 's3cret' });
    expect(await admin(node).privateTopics()).toEqual({ payroll: ['user'] });
    // Public methods stay open to anonymous callers.
    expect((await http(b, 'GET', '/echo', ['hi'])).status).toBe(200);
  });

  it('declares for an offline twin: POST /subscribe/{topic}/{cid} queues for its next login', async () => {
    const b = await scope.broker();
    expect((await http(b, 'POST', '/subscribe/alerts/pager')).status).toBe(200);
    const config = (await b.stats());
    expect(config.twins).toBe(1);
    expect((await http(b, 'POST', '/subscribe/alerts/pager', undefined, 'other')).status).toBe(403);
    const busy = await scope.connect(b, 'busy');
    expect((await http(b, 'POST', '/subscribe/x/busy')).status).toBe(403);
    await busy.close();
  });

  it('refuses anonymous HTTP when the broker requires authentication', async () => {
    const b = await scope.broker({ http: { requireAuth: true }, security: memorySecurityStore({ keys: { ops: 'pw' } }) });
    expect((await http(b, 'GET', '/rid')).status).toBe(401);
    expect((await http(b, 'GET', '/metrics')).status).toBe(401);
    expect((await http(b, 'GET', '/rid', undefined, 'stranger')).status).toBe(401);
    const ok = await http(b, 'GET', '/rid', undefined, 'ops:pw');
    expect([ok.status, JSON.parse(ok.body)]).toEqual([200, 'broker']);
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
  });

  it('exports Prometheus metrics that move with traffic', async () => {
    const b = await scope.broker();
    const server = await scope.connect(b, 'math');
    server.expose('add', (a: number, c: number) => a + c);
    const caller = await scope.connect(b, 'caller');
    for (let i = 0; i < 5; i++) caller.publish('t', i);
    expect(await caller.rpc('add', 1, 2)).toBe(3);
    await expect(caller.rpc('nosuch')).rejects.toThrow();
    const res = await http(b, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.body)?.[1]);
    expect(value('rembus_publishes_in_total')).toBeGreaterThanOrEqual(5);
    expect(value('rembus_connections')).toBeGreaterThanOrEqual(2);
    expect(value('rembus_components_online')).toBe(2);
    expect(res.body).toMatch(/rembus_rpc_calls_total\{method="add"\} 1/);
    expect(res.body).toMatch(/rembus_rpc_errors_total\{method="nosuch"\} 1/);
    expect(res.body).toMatch(/rembus_rpc_duration_seconds_bucket\{method="add",le="\+Inf"\} 1/);
    expect(res.body).toMatch(/process_resident_memory_bytes \d+/);
  });

  it('reports not ready once the store fails a flush, and ready again after', async () => {
    const store = memoryStore();
    // Rows in commits, as a disk store writes them (a memory store's appendNow takes them at append).
    (store as { appendNow?: unknown }).appendNow = undefined;
    let failing = true;
    const commit = store.commit.bind(store);
    store.commit = (batch) => failing ? Promise.reject(new Error('disk full')) : commit(batch);
    const b = await scope.broker({ store, archiverInterval: 20 });
    const node = await scope.connect(b, 'pub');
    node.publish('t', 1);
    await waitFor(async () => (await http(b, 'GET', '/readyz')).status === 503);
    expect(JSON.parse((await http(b, 'GET', '/readyz')).body).reason).toContain('disk full');
    failing = false;
    await waitFor(async () => (await http(b, 'GET', '/readyz')).status === 200);
  });

  it('answers 426 to plain HTTP when HTTP is off', async () => {
    const b = await scope.broker({ http: false });
    expect((await http(b, 'GET', '/healthz')).status).toBe(426);
  });
});
