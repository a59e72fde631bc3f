/**
 * Names that build key-file paths on the command line (spec §3.3 layout: `<data-dir>/<name>/.secret`):
 * a client's `--name`/`REMBUS_NAME`, the bridge name in a `rembus bridge` or `--join` URL (also
 * percent-encoded) or `--name`, and the name `rembus register` saves a key for. A name that could
 * leave the data directory (`../x`), or that no key file can have, is refused as a usage error
 * (exit 1) naming the name and why — before any file is read or written and before anything is
 * dialed. Real `rembus` processes (src/cli through tsx) against brokers on 127.0.0.1 port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { generateKeyPair, memorySecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, useScope } from './helpers.js';

const scope = useScope();
const ROOT = join(import.meta.dirname, '../..');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));
let dir: string;
let dataDir: string;
let planted: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rembus-key-names-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  // What `<data-dir>/../x/.secret` reaches: a public key, which a bridge would try (and fail) to sign with.
  mkdirSync(join(dir, 'x'));
  planted = join(dir, 'x', '.secret');
  writeFileSync(planted, generateKeyPair('ecdsa').publicKey, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/** `rembus …` as a process with `REMBUS_DIR` set to the test's data dir: its exit code and stderr. */
function rembus(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args],
    { cwd: ROOT, env: { ...baseEnv, REMBUS_DIR: dataDir, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((done) => child.once('close', (code) => done({ code, stderr })));
}

/** A broker with a tenant PIN (for register), serving unproven components. */
function openBroker(): Promise<Broker> {
  return scope.broker({ security: memorySecurityStore({ tenants: { '.': '1234' } }) });
}

/** A refusal of `name` as a usage error, without a word of the file it would have named. */
function expectRefused(run: { code: number | null; stderr: string }, name: string, why: string): void {
  expect(run.stderr).toContain(`invalid component name ${JSON.stringify(name)}: ${why}`);
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).not.toContain('.secret');
}

describe('names that build key-file paths, on the command line', () => {
  it.each([
    ['the bridge name of a URL', (a: string, b: string) => ['bridge', `${a}/../x`, b], '../x', 'holds a path separator or NUL'],
    ['a bridge name of dots', (a: string, b: string) => ['bridge', `${a}/..`, b], '..', 'holds ".."'],
    ['a percent-encoded bridge name', (a: string, b: string) => ['bridge', a, `${b}/..%2Fx`], '../x', 'holds a path separator or NUL'],
    ['the bridge --name', (a: string, b: string) => ['--name', '../x', 'bridge', a, b], '../x', 'holds a path separator or NUL'],
    ['a --join URL', (a: string) => ['broker', '--port', '0', '--data-dir', dataDir, '--join', `${a}/../x`], '../x', 'holds a path separator or NUL'],
  ])('refuses %s that leaves the data dir (exit 1), before reading a key or dialing', async (_what, args, name, why) => {
    const [a, b] = [await openBroker(), await openBroker()];
    const run = await rembus(args(a.url!, b.url!));
    expectRefused(run, name, why);
    expect(a.stats().connections + b.stats().connections).toBe(0);
  }, 30_000);

  it.each([
    ['--name', ['--name', '../x'], {}, '../x', 'holds a path separator or NUL'],
    ['REMBUS_NAME', [], { REMBUS_NAME: '..' }, '..', 'holds ".."'],
  ])('refuses a client %s that leaves the data dir (exit 1) and publishes nothing', async (_what, flags, env, name, why) => {
    const b = await openBroker();
    const [sub] = await scope.connectAll(b, 'sub');
    const got = collect(sub!.subscribe$('news'), 1);
    await roundTrip(sub!);
    const run = await rembus([...flags, 'pub', '-s', b.url!, 'news', '1'], env);
    await roundTrip(sub!);
    expect(got.values).toEqual([]);
    expectRefused(run, name, why);
  }, 30_000);

  it('refuses to register a name whose key file would leave the data dir (exit 1), writing nothing', async () => {
    const b = await openBroker();
    const run = await rembus(['register', '../y', '--pin', '1234', '-s', b.url!]);
    expectRefused(run, '../y', 'holds a path separator or NUL');
    expect(existsSync(join(dir, 'y'))).toBe(false);
    expect(readFileSync(planted, 'utf8')).toContain('PUBLIC KEY');
  }, 30_000);
});
