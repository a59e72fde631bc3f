/**
 * Issue 16's CLI commands as real processes (dist/src/cli/main.js): admin, register/unregister,
 * expose, stats, top, bench, readable logs, and the papercuts of item 6.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { from } from 'rxjs';
import { broker, memorySecurityStore, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { connect, type Component } from '../../src/index.js';
import { waitForMatch } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));

interface Run { code: number | null; stdout: string; stderr: string }
const children = new Set<ChildProcess>();
const opened: { close(): unknown }[] = [];

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<Run> } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...baseEnv, ...env } });
  children.add(child);
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin!.end();
  const exit = new Promise<Run>((done) => child.once('close', (code) => {
    children.delete(child);
    done({ code, stdout, stderr });
  }));
  return { child, out: () => stdout, err: () => stderr, exit };
}
const run = (args: string[], env?: Record<string, string>): Promise<Run> => start(args, env).exit;

const until = (read: () => string, re: RegExp, ms = 10_000): Promise<RegExpExecArray> => waitForMatch(read, re, ms);

async function hub(options: BrokerOptions = {}): Promise<Broker> {
  const b = await broker({ port: 0, host: '127.0.0.1', ...options });
  opened.push(b);
  return b;
}
async function client(b: Broker, name: string): Promise<Component> {
  const c = await connect(`${b.url!}/${name}`);
  opened.unshift(c);
  return c;
}

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const r of opened.splice(0)) await r.close();
});

describe('rembus CLI (issue 16)', () => {
  it('lists the new commands in --help', async () => {
    const r = await run(['--help']);
    for (const cmd of ['expose', 'admin', 'register', 'unregister', 'stats', 'top', 'bench', '--log-format']) expect(r.stdout).toContain(cmd);
  });

  it('runs admin commands for an admin and refuses anyone else with exit 3', async () => {
    // Admin rights rest on a proven name (README Security): root logs in with its shared secret.
    const b = await hub({ security: memorySecurityStore({ admins: ['root'], keys: { root: 'root-secret' } }) });
    const secret = join(mkdtempSync(join(tmpdir(), 'rembus-admin-')), 'root.secret');
    writeFileSync(secret, 'root-secret');
    const ok = await run(['admin', 'private-topic', 'payroll', '-s', b.url!, '--name', 'root', '--key', secret]);
    expect(ok.code).toBe(0);
    const list = await run(['admin', 'private-topics', '-s', b.url!, '--name', 'root', '--key', secret]);
    expect(JSON.parse(list.stdout)).toEqual({ payroll: [] });
    const refused = await run(['admin', 'config', '-s', b.url!, '--name', 'mallory']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('not an admin');
  }, 30_000);

  it('serves a method from the shell, one process per call, failures carrying stderr', async () => {
    const b = await hub();
    const code = "const a=process.argv.slice(1); if(a[0]==='fail'){console.error('no way');process.exit(4)} process.stdout.write(JSON.stringify(a.join('+')))";
    const proc = start(['expose', 'join', '-s', b.url!, '--name', 'shell', '--', process.execPath, '-e', code]);
    const caller = await client(b, 'caller');
    await until(proc.err, /exposing join/);
    expect(await caller.rpc('join', 'a', 1, { k: 2 })).toBe('a+1+{"k":2}');
    await expect(caller.rpc('join', 'fail')).rejects.toThrow(/no way/);
    proc.child.kill('SIGTERM');
    expect((await proc.exit).code).toBe(0);
  }, 30_000);

  it('prints a stats snapshot, and top refreshes with rates', async () => {
    const b = await hub({ http: { statsInterval: 100 } });
    const node = await client(b, 'sensor');
    node.publish('plant/1', 1);
    const stats = await run(['stats', '--json', '-s', b.url!]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ broker: 'broker', storage: { ok: true } });
    const text = await run(['stats', '-s', b.url!]);
    expect(text.stdout).toMatch(/COMPONENT\s+STATE/);
    const top = await run(['top', '-C', '2', '-s', b.url!]);
    expect(top.code).toBe(0);
    expect(top.stdout.match(/^broker broker/gm)).toHaveLength(2);
    expect(top.stdout).toMatch(/msgs in \d+ \S+\/s/);
  }, 30_000);

  it('benchmarks pub/sub and RPC against a running broker', async () => {
    const b = await hub();
    const pub = await run(['bench', 'pub', '--msgs', '3000', '--size', '64', '--json', '-s', b.url!]);
    expect(pub.code).toBe(0);
    const p = JSON.parse(pub.stdout) as { count: number; perSecond: number; latencyMs: { p99: number } };
    expect(p.count).toBe(3000);
    expect(p.perSecond).toBeGreaterThan(0);
    expect(pub.stderr).toContain('pub/sub 100%');
    const rpc = await run(['bench', 'rpc', '--msgs', '300', '--concurrency', '8', '--json', '-s', b.url!]);
    expect(rpc.code).toBe(0);
    expect(JSON.parse(rpc.stdout)).toMatchObject({ count: 300 });
  }, 60_000);

  it('prints each item of a streaming method as it arrives', async () => {
    const b = await hub();
    const server = await client(b, 'streamer');
    server.expose('count', (n: number) => from(Array.from({ length: n }, (_, i) => i + 1)));
    const r = await run(['rpc', 'count', '3', '-s', b.url!]);
    expect(r.stdout.trim().split('\n')).toEqual(['1', '2', '3']);
  }, 30_000);

  it('refuses malformed JSON arguments with exit 1, sends strings with --text', async () => {
    const b = await hub();
    const bad = await run(['pub', 't', '{"a":1', '-s', b.url!]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not valid JSON');
    const server = await client(b, 'echo');
    server.expose('echo', (...a: unknown[]) => a);
    const text = await run(['rpc', 'echo', '{"a":1', '12', '--text', '-s', b.url!]);
    expect(JSON.parse(text.stdout)).toEqual(['{"a":1', '12']);
  }, 30_000);

  it('says once why a connection failed: refused, or a server that never answers the handshake', async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const refused = await run(['rpc', 'rid', '-s', `ws://127.0.0.1:${port}`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('ECONNREFUSED');
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((socket) => { sockets.add(socket); });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    opened.push({ close: () => new Promise((done) => { for (const s of sockets) s.destroy(); silent.close(done); }) });
    const hung = await run(['rpc', 'rid', '-s', `ws://127.0.0.1:${(silent.address() as { port: number }).port}`]);
    expect(hung.code).toBe(3);
    expect(hung.stderr).toMatch(/handshake|timed out/i);
  }, 30_000);

  it('registers a generated key, logs in with it, and unregisters it', async () => {
    const b = await hub({ security: memorySecurityStore({ tenants: { '.': '11223344' } }) });
    const dir = mkdtempSync(join(tmpdir(), 'rembus-reg-'));
    const env = { REMBUS_DIR: dir };
    const reg = await run(['register', 'alice', '--pin', '11223344', '-s', b.url!], env);
    expect(reg.code).toBe(0);
    expect(existsSync(join(dir, 'alice', '.secret'))).toBe(true);
    expect((await run(['rpc', 'rid', '-s', b.url!, '--name', 'alice'], { REMBUS_DIR: mkdtempSync(join(tmpdir(), 'nokey-')) })).code).toBe(3);
    const rid = await run(['rpc', 'rid', '-s', b.url!, '--name', 'alice'], env);
    expect(rid.stdout.trim()).toBe('"broker"');
    expect((await run(['unregister', 'alice', '-s', b.url!], env)).code).toBe(0);
    expect((await run(['rpc', 'rid', '-s', b.url!, '--name', 'alice'], { REMBUS_DIR: mkdtempSync(join(tmpdir(), 'nokey-')) })).code).toBe(0);
  }, 60_000);

  it('logs readable lines with --log-format pretty and JSON when piped', async () => {
    const pretty = start(['broker', '--port', '0', '--host', '127.0.0.1', '--no-persist', '--log-format', 'pretty']);
    await until(pretty.err, /broker listening on/);
    expect(pretty.err()).not.toContain('"level"');
    expect(pretty.err()).toMatch(/INFO.*broker listening on ws:\/\/127\.0\.0\.1:\d+/);
    pretty.child.kill('SIGTERM');
    await pretty.exit;
    const json = start(['broker', '--port', '0', '--host', '127.0.0.1', '--no-persist']);
    await until(json.err, /broker listening on/);
    expect(json.err().split('\n')[0]).toMatch(/^\{"level":30/);
    json.child.kill('SIGTERM');
    await json.exit;
  }, 30_000);

  it('refuses a second broker on a data directory in use, naming the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rembus-lock-'));
    await hub({ dataDir: dir, port: null });
    const second = await run(['broker', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`data directory ${dir} is locked by another broker`);
  }, 30_000);
});
