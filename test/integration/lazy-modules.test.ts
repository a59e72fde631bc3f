/**
 * A broker loads only what it uses (issue 20, W7): without `tcp` no tcp:// framing, before any
 * HTTP request none of the HTTP handler's modules (routes, JSON-RPC, sessions, dashboard, and
 * through the session the component's platform code), and without a durable store no LMDB
 * store module — checked on the built modules in a fresh process, whose loaded modules a
 * resolve hook reports. Then the first HTTP request loads the handler and is answered, and a
 * broker with `tcp` serves tcp:// as before.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Observable as RootObservable, Subject as RootSubject, Subscription as RootSubscription } from 'rxjs';
import { broker } from '../../src/broker/index.js';
import { Observable, Subject, Subscription } from '../../src/internal/rx.js';

const ROOT = join(import.meta.dirname, '../..');
const LAZY = ['/broker/tcp-server.js', '/transport/tcp-link.js', '/http/server.js', '/http/rest.js', '/http/jsonrpc.js',
  '/http/session.js', '/http/dashboard.js', '/component/platform-node.js', '/store/lmdb/lmdb-store.js'];

/** Modules (of LAZY) a fresh Node process resolved while running `body` with `broker` in scope. */
function loadedBy(body: string): string[] {
  const hook = `data:text/javascript,${encodeURIComponent(
    `const lazy = ${JSON.stringify(LAZY)}; export async function resolve(s, c, next) { const r = await next(s, c); `
    + 'if (lazy.some((m) => r.url.endsWith(m))) console.error("LOADED " + r.url.split("/dist/src")[1]); return r; }')}`;
  const script = `import { register } from 'node:module'; register(${JSON.stringify(hook)});
    const { broker } = await import('./dist/src/broker/index.js');
    ${body}
    console.error('OK');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toContain('OK');
  return [...r.stderr.matchAll(/^LOADED (.*)$/gmu)].map((m) => m[1]!).sort();
}

describe('a broker loads only what it uses (built code)', () => {
  it('in memory, WebSocket only, no HTTP request yet: no tcp, HTTP handler or LMDB store module', () => {
    expect(loadedBy('const b = await broker({ port: 0, host: "127.0.0.1" }); await b.close();')).toEqual([]);
  }, 60_000);

  it('the first HTTP request loads the handler and is answered; tcp loads the tcp server', () => {
    const loaded = loadedBy(`const b = await broker({ port: 0, host: '127.0.0.1', tcp: { port: 0 } });
      const r = await fetch('http://127.0.0.1:' + b.port + '/healthz');
      if (r.status !== 200) throw new Error('healthz ' + r.status);
      await b.close();`);
    expect(loaded).toEqual(expect.arrayContaining(['/broker/tcp-server.js', '/http/server.js', '/http/rest.js']));
    expect(loaded).not.toContain('/store/lmdb/lmdb-store.js');
  }, 60_000);
});

describe('rxjs by module (src/internal/rx.ts)', () => {
  it("a broker that starts, serves a component and closes never loads the root 'rxjs' entry (built code)", () => {
    const script = `import { createRequire } from 'node:module';
      const { broker } = await import('./dist/src/broker/index.js');
      const b = await broker({ port: 0, host: '127.0.0.1' });
      const { WebSocket } = await import('ws');
      const ws = new WebSocket(b.url);
      await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
      ws.close();
      await b.close();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.error('ROOT ' + cache.some((f) => f.endsWith('/rxjs/dist/cjs/index.js')));
      console.error('RXJS ' + cache.filter((f) => f.includes('/rxjs/')).length);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toContain('ROOT false');
    // The root entry requires 223 files; the pieces a broker uses, about 60.
    expect(Number(/RXJS (\d+)/u.exec(r.stderr)?.[1])).toBeGreaterThan(0);
    expect(Number(/RXJS (\d+)/u.exec(r.stderr)?.[1])).toBeLessThan(120);
  }, 60_000);

  it("its classes are the root entry's: one module instance, instanceof holds both ways", async () => {
    expect(Subject).toBe(RootSubject);
    expect(Observable).toBe(RootObservable);
    expect(Subscription).toBe(RootSubscription);
    const b = await broker({ port: null });
    try {
      expect(b.messages$).toBeInstanceOf(RootObservable);
    } finally {
      await b.close();
    }
  });
});

describe('the lazy HTTP handler', () => {
  it('answers requests that arrive together before it is loaded, each once, body intact', async () => {
    const b = await broker({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${b.port!}`;
      const rpc = { jsonrpc: '2.0', id: 7, method: 'nope', params: [] };
      const replies = await Promise.all([
        fetch(`${url}/healthz`).then((r) => r.status),
        fetch(url, { method: 'POST', body: JSON.stringify(rpc), headers: { 'content-type': 'application/json' } })
          .then(async (r) => (await r.json() as { id: unknown }).id),
        fetch(`${url}/healthz`).then((r) => r.status),
      ]);
      expect(replies).toEqual([200, 7, 200]);
    } finally {
      await b.close();
    }
  });
});
