/**
 * Federation into a broker that requires authentication, as real `rembus` processes (src/cli
 * through tsx): `rembus broker --join ws://A/NAME` with `<data-dir>/NAME/.secret` or `--join-key`,
 * and `rembus bridge` with `--key` or `$REMBUS_DIR/<name>/.secret`. Admitted with the right key
 * (publishes cross), refused with a wrong one (exit 3), a key file that cannot sign named before
 * anything is dialed, and no key on stderr even with `-v`. The in-process cases are in
 * federation-auth.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { connect, type Component } from '../../src/index.js';
import { generateKeyPair, memorySecurityStore } from '../../src/security/index.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';
import { collect, roundTrip, useScope, waitFor, waitForMatch } from './helpers.js';

const scope = useScope();
const ROOT = join(import.meta.dirname, '../..');
const READER = 'reader secret 3b7d';
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));
type KeyPair = { publicKey: string; privateKey: string };
let ec: KeyPair;
let other: KeyPair;
let dir: string;

beforeAll(() => {
  ec = generateKeyPair('ecdsa');
  other = generateKeyPair('ecdsa');
  dir = mkdtempSync(join(tmpdir(), 'rembus-fed-auth-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const procs: BrokerProcess[] = [];
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await Promise.all(procs.splice(0).map(kill));
});

/** A file in a fresh directory holding `content`; returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const sub = mkdtempSync(join(dir, 'k-'));
  const path = join(sub, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** Broker A: auth required, the bridge's key and the test reader's shared secret on file. */
function brokerA(keys: Record<string, string>): Promise<Broker> {
  return scope.broker({ name: 'a', auth: 'required', security: memorySecurityStore({ keys: { ...keys, reader: `${READER}\n` } }) });
}

/** Publish on `from` until `to` (a component of the other broker) has the message. */
async function crosses(from: Component, to: Component, topic: string): Promise<void> {
  const got = collect(to.subscribe$(topic), 1, { what: `${topic} across` });
  await roundTrip(to);
  await waitFor(() => {
    if (got.values.length > 0) return true;
    from.publish(topic, 'hi');
    return false;
  }, { timeout: 20_000, interval: 100, what: `'${topic}' to cross` });
}

/** `rembus bridge …` as a process; its exit code and stderr. */
function bridgeProcess(args: string[], env: Record<string, string | undefined> = baseEnv): {
  child: ChildProcess; stderr: () => string; exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bridge', ...args],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stderr: () => stderr, exited };
}

const keyBody = (pem: string): string => pem.split('\n')[1]!;

describe('rembus broker --join ws://A/NAME into a broker with auth required', () => {
  it('logs in with <data-dir>/NAME/.secret, carries publishes, logs no key, exits 0 on SIGTERM', async () => {
    const a = await brokerA({ 'b-bridge': ec.publicKey });
    const dataDir = mkdtempSync(join(dir, 'b-'));
    mkdirSync(join(dataDir, 'b-bridge'));
    writeFileSync(join(dataDir, 'b-bridge', '.secret'), ec.privateKey, { mode: 0o600 });
    const proc = await startBroker(dataDir, await freePort(), ['--join', `${a.url!}/b-bridge`, '--log-format', 'json', '-v']);
    procs.push(proc);
    await waitForMatch(proc.stderr, /federation bridge up/, 20_000);
    const reader = await scope.connect(a, 'reader', { key: READER });
    const local = scope.track(await connect(`${proc.url}/local`));
    await crosses(reader, local, 'fed/ab');
    await crosses(local, reader, 'fed/ba');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).not.toContain(keyBody(ec.privateKey));
  }, 60_000);

  it('fails the start (exit 3) naming a --join-key file that holds a public key, before dialing', async () => {
    const a = await brokerA({ 'b-bridge': ec.publicKey });
    const pub = file('b-bridge.pub', ec.publicKey);
    await expect(startBroker(mkdtempSync(join(dir, 'b-')), await freePort(),
      ['--join', `${a.url!}/b-bridge`, '--join-key', pub])).rejects.toThrow(/exited with 3: [\s\S]*b-bridge\.pub: invalid key: a public key/);
    expect(a.stats().connections).toBe(0);
  }, 60_000);

  it('refuses --join-key for a URL without the bridge name (exit 1)', async () => {
    const a = await brokerA({});
    await expect(startBroker(mkdtempSync(join(dir, 'b-')), await freePort(),
      ['--join', a.url!, '--join-key', file('k', ec.privateKey)])).rejects.toThrow(/exited with 1: [\s\S]*--join-key needs the bridge's name/);
  }, 60_000);
});

describe('rembus bridge into a broker with auth required', () => {
  it('logs in with $REMBUS_DIR/<--name>/.secret, carries publishes, logs no key, exits 0 on SIGTERM', async () => {
    const a = await brokerA({ 'x-bridge': ec.publicKey });
    const b = await scope.broker({ name: 'b' });
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, 'x-bridge'));
    writeFileSync(join(home, 'x-bridge', '.secret'), ec.privateKey, { mode: 0o600 });
    const run = bridgeProcess([b.url!, a.url!, '--name', 'x-bridge', '-v'], { ...baseEnv, REMBUS_DIR: home });
    await waitForMatch(run.stderr, /federation bridge up/, 30_000);
    const reader = await scope.connect(a, 'reader', { key: READER });
    const [onB] = await scope.connectAll(b, 'on-b');
    await crosses(onB!, reader, 'fed/ba');
    run.child.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).not.toContain(keyBody(ec.privateKey));
    await waitFor(() => a.stats().connections === 1 && b.stats().connections === 1, { what: 'the bridge links to close' });
  }, 60_000);

  it('exits 3 naming the refusal for a --key that is not the one on file', async () => {
    const a = await brokerA({ 'x-bridge': ec.publicKey });
    const b = await scope.broker({ name: 'b' });
    const run = bridgeProcess([b.url!, `${a.url!}/x-bridge`, '--key', file('wrong.pem', other.privateKey)]);
    expect(await run.exited, run.stderr()).toBe(3);
    expect(run.stderr()).toMatch(/bridge refused: .*'x-bridge'/);
    await waitFor(() => a.stats().connections === 0 && b.stats().connections === 0, { what: 'the bridge links to close' });
  }, 60_000);

  it('exits 3 naming a --key file that cannot sign (Ed25519) before dialing either broker', async () => {
    const a = await brokerA({ 'x-bridge': ec.publicKey });
    const b = await scope.broker({ name: 'b' });
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const path = file('ed.pem', ed);
    const run = bridgeProcess([b.url!, `${a.url!}/x-bridge`, '--key', path]);
    expect(await run.exited, run.stderr()).toBe(3);
    expect(run.stderr()).toContain(`${path}: invalid key: a private ed25519 key`);
    expect(run.stderr()).not.toContain(keyBody(ed));
    expect(a.stats().connections + b.stats().connections).toBe(0);
  }, 60_000);

  it('refuses --key when no bridge name is given (exit 1)', async () => {
    const b = await scope.broker({ name: 'b' });
    const run = bridgeProcess([b.url!, b.url!, '--key', file('k', ec.privateKey)]);
    expect(await run.exited, run.stderr()).toBe(1);
    expect(run.stderr()).toMatch(/--key needs the bridge's name: .*--name NAME/);
  }, 60_000);
});
