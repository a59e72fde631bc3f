/**
 * The `rembus` CLI as real child processes (dist/src/cli/main.js) against a broker on loopback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';
import { connect, TwinLimitError, type Component, type Message } from '../../src/index.js';
import { waitForMatch } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }
interface Spawned { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<Run> }

const children = new Set<ChildProcess>();
/** The environment of every child: no REMBUS_* leaks in from the test runner. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));

function start(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Spawned {
  const began = Date.now();
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...baseEnv, ...options.env } });
  children.add(child);
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin!.end(options.input ?? '');
  const exit = new Promise<Run>((done) => child.once('close', (code, signal) => {
    children.delete(child);
    done({ code, signal, stdout, stderr, ms: Date.now() - began });
  }));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

function run(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return start(args, options).exit;
}

const waitFor = (read: () => string, re: RegExp, ms = 8_000): Promise<RegExpExecArray> => waitForMatch(read, re, ms);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfStale(): void {
  const sources = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'operators')));
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= sources) return;
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    // tsc still emits on type errors elsewhere in the tree (files being edited); a missing CLI is fatal.
    if (!existsSync(MAIN)) throw err;
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let hub: Broker;
let node: Component;
let url: string;

beforeAll(async () => {
  buildIfStale();
  hub = await broker({ port: 0, host: '127.0.0.1' });
  url = hub.url!;
  node = await connect(`${url}/cli-test-peer`);
  node.expose('add', (a: number, b: number) => a + b);
  node.expose('hang', () => new Promise(() => undefined));
  await node.rpc('rid'); // the exposes are in place once this round trip answers
}, 120_000);

afterEach(() => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // exited between the check and the kill
    }
  }
  children.clear();
});

afterAll(async () => {
  await node?.close();
  await hub?.close();
});

describe('rembus cli', () => {
  it('prints usage and exits 0 with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: rembus/);
    expect(r.stdout).toMatch(/broker/);
    expect(r.stdout).toMatch(/-s, --server <url>/);
  }, 10_000);

  it('prints the package version with --version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 10_000);

  it('exits 1 with a usage error for an unknown command or a bad option value', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command/);
    const bad = await run(['rpc', 'rid', '--timeout', 'soon', '-s', url]);
    expect(bad.code).toBe(1);
  }, 10_000);

  it('prints the broker name for rpc rid when the server comes from REMBUS_SERVER', async () => {
    const r = await run(['rpc', 'rid'], { env: { REMBUS_SERVER: url } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('"broker"\n');
  }, 10_000);

  it('calls a method exposed by another component as a named client', async () => {
    const r = await run(['rpc', 'add', '1', '2', '--json', '-s', url, '--name', 'cli-adder']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('3\n');
  }, 10_000);

  it('exits 3 with an error line when the method is unknown', async () => {
    const r = await run(['rpc', 'no_such_method', '-s', url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*no_such_method/m);
  }, 10_000);

  it('exits 2 when the handler does not answer within --timeout', async () => {
    const r = await run(['rpc', 'hang', '--timeout', '300', '-s', url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*timed out after 300 ms/m);
    expect(r.ms).toBeLessThan(5_000);
  }, 10_000);

  it('publishes JSON args, big integers exactly, plain text as strings', async () => {
    const got = new Promise<Message>((done) => {
      const s = node.subscribe$('cli/pub').subscribe((m) => { done(m); s.unsubscribe(); });
    });
    await node.rpc('rid');
    const r = await run(['pub', 'cli/pub', '1', '"a"', '12345678901234567890', 'hello', '{"k":[true,null,1.5]}', '-s', url]);
    expect(r.code).toBe(0);
    const msg = await got;
    expect(msg.args).toEqual([1, 'a', 12345678901234567890n, 'hello', { k: [true, null, 1.5] }]);
  }, 10_000);

  it('publishes the JSON array read from stdin for -', async () => {
    const got = new Promise<Message>((done) => {
      const s = node.subscribe$('cli/stdin').subscribe((m) => { done(m); s.unsubscribe(); });
    });
    await node.rpc('rid');
    const r = await run(['pub', 'cli/stdin', '-', '-s', url], { input: '[2, "b", 99999999999999999999]\n' });
    expect(r.code).toBe(0);
    expect((await got).args).toEqual([2, 'b', 99999999999999999999n]);
  }, 10_000);

  it('prints --count messages as topic and JSON args, then exits 0', async () => {
    const sub = start(['sub', 'cli/sub/*', '--count', '2', '-v', '-s', url]);
    await waitFor(sub.stderr, /"msg":"subscribed"/);
    node.publish('cli/sub/a', 1, 'x');
    node.publish('cli/sub/b', 12345678901234567890n, Uint8Array.of(1, 2, 3));
    const r = await sub.exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('cli/sub/a [1,"x"]\ncli/sub/b [12345678901234567890,"AQID"]\n');
  }, 15_000);

  it('prints one JSON object per message with --json', async () => {
    const sub = start(['sub', 'cli/json', '-C', '2', '--json', '--verbose', '-s', url]);
    await waitFor(sub.stderr, /"msg":"subscribed"/);
    node.publish('cli/json', { a: 1 });
    node.publish('cli/json');
    const r = await sub.exit;
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { topic: 'cli/json', args: [{ a: 1 }], pattern: 'cli/json' },
      { topic: 'cli/json', args: [], pattern: 'cli/json' },
    ]);
  }, 15_000);

  it('stops on SIGINT with exit 0 when no --count is given', async () => {
    const sub = start(['sub', 'cli/forever', '-v', '-s', url]);
    await waitFor(sub.stderr, /"msg":"subscribed"/);
    node.publish('cli/forever', 'once');
    await waitFor(sub.stdout, /\n/);
    sub.child.kill('SIGINT');
    const r = await sub.exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('cli/forever ["once"]\n');
  }, 15_000);

  it('exits 3 quickly when the broker is down', async () => {
    const server = `ws://127.0.0.1:${await closedPort()}`;
    for (const args of [['rpc', 'rid'], ['pub', 'x', '1'], ['sub', 'x']]) {
      const r = await run([...args, '-s', server]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`error: cannot connect to ${server}`);
      expect(r.ms).toBeLessThan(4_000);
    }
  }, 20_000);

  it('bounds twins with --max-twins and expires them with --twin-ttl', async () => {
    const proc = start(['broker', '--port', '0', '--host', '127.0.0.1', '--no-persist', '--max-twins', '1', '--twin-ttl', '1']);
    const [, port] = await waitFor(proc.stderr, /broker listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    const url = `ws://127.0.0.1:${port}`;
    const one = await connect(`${url}/one`);
    one.subscribe$('t').subscribe();
    await one.rpc('rid');
    await one.close();
    await expect(connect(`${url}/two`)).rejects.toBeInstanceOf(TwinLimitError);
    // 'one' is unseen for --twin-ttl (1 s): it expires and makes room.
    let two: Component | undefined;
    for (const deadline = Date.now() + 8_000; two === undefined && Date.now() < deadline;) {
      two = await connect(`${url}/two`).catch(async () => { await new Promise((r) => setTimeout(r, 200)); return undefined; });
    }
    expect(two).toBeDefined();
    await two!.close();
    proc.child.kill('SIGTERM');
    expect((await proc.exit).code).toBe(0);
  }, 20_000);

  it('runs a broker process that logs its URL, answers rid and exits 0 on SIGTERM', async () => {
    const proc = start(['broker', '--port', '0', '--host', '127.0.0.1', '--name', 'cli-hub', '--no-persist']);
    const [, port] = await waitFor(proc.stderr, /broker listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    const client = await connect(`ws://127.0.0.1:${port}`);
    try {
      expect(await client.rpc('rid')).toBe('cli-hub');
    } finally {
      await client.close();
    }
    proc.child.kill('SIGTERM');
    const r = await proc.exit;
    expect(r.code).toBe(0);
  }, 15_000);
});
