/**
 * HTTP as an attacker meets it (README "HTTP and REST": "keys, private topics, tenants and
 * admin rights apply unchanged"; docs/http.md): a request without the right identity must not
 * publish on a private topic, call a private method, cross a tenant, or declare for (or
 * withdraw) someone else's twin; a body past the bound is refused and the broker keeps serving.
 * http.test.ts has the routes' normal flow and the admin refusals.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memorySecurityStore, type Broker } from '../../src/broker/index.js';
import { admin, type Message } from '../../src/index.js';
import { MAX_BODY_BYTES } from '../../src/http/server.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';
import { http } from './http-request.js';

const scope = useScope();

const secret = (name: string): string => `${name}-pw`;
const keys = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, secret(n)]));
const argsOf = (messages: Message[]): unknown[] => messages.map((m) => m.args[0]);

describe('HTTP and private topics', () => {
  it('drops a REST or JSON-RPC publish on a private topic from anyone not authorized; an authorized name gets through', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ admins: ['root'], keys: keys('root', 'hr', 'clerk', 'intruder') }) });
    const root = await scope.connect(b, 'root', { key: secret('root') });
    await admin(root).privateTopic('payroll');
    await admin(root).authorize('hr', 'payroll');
    await admin(root).authorize('clerk', 'payroll');
    const hr = await scope.connect(b, 'hr', { key: secret('hr') });
    const got = collect(hr.subscribe$('payroll'), 1, { what: 'payroll messages' });
    await roundTrip(hr);

    // Each of these is handled by the broker before its answer is written (an in-process link),
    // so the authorized publish that follows is routed after all of them.
    expect((await http(b, 'POST', '/payroll', ['anonymous'])).status).toBe(200);
    expect((await http(b, 'POST', '/payroll', ['unproven'], 'stranger')).status).toBe(200);
    expect((await http(b, 'POST', '/payroll', ['proven, not authorized'], `intruder:${secret('intruder')}`)).status).toBe(200);
    expect((await http(b, 'POST', '/', { jsonrpc: '2.0', method: 'payroll', params: ['json-rpc notification'] })).status).toBe(204);
    expect((await http(b, 'POST', '/payroll', ['authorized'], `clerk:${secret('clerk')}`)).status).toBe(200);

    expect(argsOf(await got.done)).toEqual(['authorized']);
    await roundTrip(hr);
    expect(argsOf(got.values)).toEqual(['authorized']);
  });

  it('refuses a private method to anonymous, unproven and unauthorized callers, over REST and JSON-RPC', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ admins: ['root'], keys: keys('root', 'payer', 'boss', 'intruder') }) });
    const root = await scope.connect(b, 'root', { key: secret('root') });
    await admin(root).privateTopic('salary');
    await admin(root).authorize('payer', 'salary');
    await admin(root).authorize('boss', 'salary');
    const payer = await scope.connect(b, 'payer', { key: secret('payer') });
    let served = 0;
    payer.expose('salary', () => { served++; return 1_000; });
    await roundTrip(payer);
    const boss = await http(b, 'GET', '/salary', [], `boss:${secret('boss')}`);
    expect([boss.status, JSON.parse(boss.body)]).toEqual([200, 1_000]);

    for (const auth of [undefined, 'stranger', `intruder:${secret('intruder')}`]) {
      const res = await http(b, 'GET', '/salary', [], auth);
      expect({ auth, status: res.status }).toEqual({ auth, status: 403 });
      expect(JSON.parse(res.body).status).toBe(10);
    }
    const rpc = await http(b, 'POST', '/', { jsonrpc: '2.0', id: 1, method: 'salary', params: [] });
    const answer = JSON.parse(rpc.body) as { result?: unknown; error?: { data?: { status?: number } } };
    expect(answer.result).toBeUndefined();
    expect(answer.error?.data?.status).toBe(10);
    expect(served).toBe(1);
  });
});

describe('HTTP and tenants', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-http-tenants-'));
    await mkdir(join(dir, 'broker', 'keys'), { recursive: true });
    await writeFile(join(dir, 'broker', 'tenants.json'), JSON.stringify({ t1: '1111', t2: '2222' }));
    for (const name of ['a.t1', 'c.t1', 'b.t2', 'd.t2']) await writeFile(join(dir, 'broker', 'keys', name), secret(name));
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('keeps a publish and a call over HTTP inside the caller\'s tenant; anonymous requests reach nobody', async () => {
    const b = await scope.broker({ dataDir: dir });
    const c = await scope.connect(b, 'c.t1', { key: secret('c.t1') });
    const d = await scope.connect(b, 'd.t2', { key: secret('d.t2') });
    const t1 = collect(c.subscribe$('news'), 1, { what: 't1 news' });
    const t2 = collect(d.subscribe$('news'), 1, { what: 't2 news' });
    d.expose('svc', () => 't2');
    await roundTrip(c, d);

    // Accepted as a QoS0 publish is on a WebSocket (200, as JL), and dropped: isolation admits no anonymous publisher.
    expect((await http(b, 'POST', '/news', ['from nobody'])).status).toBe(200);
    expect((await http(b, 'POST', '/news', ['from t2'], `b.t2:${secret('b.t2')}`)).status).toBe(200);
    expect((await http(b, 'POST', '/news', ['from t1'], `a.t1:${secret('a.t1')}`)).status).toBe(200);
    expect(argsOf(await t1.done)).toEqual(['from t1']);
    expect(argsOf(await t2.done)).toEqual(['from t2']);
    await roundTrip(c, d);
    expect([argsOf(t1.values), argsOf(t2.values)]).toEqual([['from t1'], ['from t2']]);

    // t2's exposer is unknown to t1 and to anonymous callers; t2 reaches it.
    expect((await http(b, 'GET', '/svc', [], `a.t1:${secret('a.t1')}`)).status).toBe(404);
    expect((await http(b, 'GET', '/svc', [])).status).toBe(403);
    const own = await http(b, 'GET', '/svc', [], `b.t2:${secret('b.t2')}`);
    expect([own.status, JSON.parse(own.body)]).toEqual([200, 't2']);
  });
});

describe('HTTP declarations for a twin', () => {
  it('lets nobody but the owner of a keyed name subscribe or unsubscribe its offline twin', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ admins: ['root'], keys: keys('root', 'pager') }) });
    const pager = await scope.connect(b, 'pager', { key: secret('pager') });
    pager.subscribe$('alerts').subscribe();
    await roundTrip(pager);
    await pager.close();
    const root = await scope.connect(b, 'root', { key: secret('root') });
    const subscribers = async (): Promise<unknown> => (await admin(root).brokerConfig()).subscribers;
    await waitFor(async () => JSON.stringify(await subscribers()) === JSON.stringify({ alerts: ['pager'] }),
      { what: 'the offline twin to keep its subscription' });

    for (const auth of [undefined, 'pager', 'pager:wrong', 'other']) {
      for (const route of ['/unsubscribe/alerts/pager', '/subscribe/spy/pager']) {
        const res = await http(b, 'POST', route, undefined, auth);
        expect({ auth, route, refused: res.status === 401 || res.status === 403 }).toEqual({ auth, route, refused: true });
      }
    }
    expect(await subscribers()).toEqual({ alerts: ['pager'] });
    // Its owner may.
    expect((await http(b, 'POST', '/subscribe/more/pager', undefined, `pager:${secret('pager')}`)).status).toBe(200);
    await waitFor(async () => JSON.stringify(await subscribers()) === JSON.stringify({ alerts: ['pager'], more: ['pager'] }),
      { what: 'the owner\'s declaration' });
  });
});

describe('HTTP bounds', () => {
  it(`refuses a body above ${MAX_BODY_BYTES} bytes with 413 and keeps serving`, async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('big'), 1, { what: 'the publish that fits' });
    await roundTrip(sub);
    const huge = `["${'x'.repeat(MAX_BODY_BYTES)}"]`;
    const refused = await http(b, 'POST', '/big', huge).catch((err: NodeJS.ErrnoException) => ({ status: -1, body: err.code ?? String(err) }));
    expect(refused.status).toBe(413);
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
    expect((await http(b, 'POST', '/big', ['small'])).status).toBe(200);
    expect(argsOf(await got.done)).toEqual(['small']);
  });

  it('refuses bodies nested past 500 levels and malformed paths as the client\'s fault, at once, and keeps serving', async () => {
    // A JSON-RPC call nested 3,000 deep used to throw while being encoded in a microtask: an
    // uncaught exception (the end of a broker process) and a call that hung until its timeout.
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('**'), 1, { what: 'the publish that fits' });
    await roundTrip(sub);
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const rest = await http(b, 'POST', '/deep', deep(3_000));
    expect([rest.status, JSON.parse(rest.body).error]).toEqual([400, expect.stringContaining('nested deeper than 500')]);
    expect((await http(b, 'GET', '/rid', deep(100_000))).status).toBe(400);
    const call = `{"jsonrpc":"2.0","id":1,"method":"x","params":${deep(3_000)}}`;
    const rpc = JSON.parse((await http(b, 'POST', '/', call)).body) as { error: { code: number; message: string } };
    expect(rpc.error.code).toBe(-32700);
    expect(rpc.error.message).toContain('nested deeper than 500');
    const notice = `[{"jsonrpc":"2.0","method":"deep","params":${deep(3_000)}}]`;
    expect(JSON.parse((await http(b, 'POST', '/', notice)).body).error.code).toBe(-32700);
    expect((await http(b, 'GET', '/%E0%A4%A')).status).toBe(400);
    expect((await http(b, 'POST', '/ok', deep(400))).status).toBe(200); // within the bound: published
    const [m] = await got.done;
    expect(m!.topic).toBe('ok');
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers 413 to a chunked body that never ends and closes the connection, keeping none of it', async () => {
    const b = await scope.broker();
    const chunk = Buffer.alloc(1024 * 1024, 0x31);
    const limit = 8 * MAX_BODY_BYTES; // bounded: the server must answer long before this
    let sent = 0;
    let closed = false;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: b.port, method: 'POST', path: '/endless',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('close', () => { closed = true; });
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => undefined); // EPIPE/ECONNRESET once the server has closed
      // A reset before the answer was read loses the 413: fail at once rather than hang.
      req.on('close', () => { closed = true; setImmediate(() => reject(new Error(`closed without an answer after ${sent} bytes`))); });
      const pump = (): void => {
        while (!closed && sent < limit) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (sent >= limit) reject(new Error(`no answer after ${sent} bytes`));
      };
      pump();
    });
    expect(status).toBe(413);
    await waitFor(() => closed, { what: 'the server to close the connection' });
    expect(sent).toBeLessThan(limit);
    expect((await http(b, 'GET', '/healthz')).status).toBe(200);
  });
});
