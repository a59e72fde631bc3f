/**
 * The security flags of the `rembus` CLI as real child processes (src/cli/main.ts through tsx,
 * so no build is needed and none races with cli.test.ts's):
 * `broker --admin` and `--auth` with the start line, `broker --cert/--key` (wss:// and its start-up failures), and the client
 * flags `--key` and `--ca`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';
import { generateKeyPair } from '../../src/security/crypto.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { keystoreTlsFiles, loadTlsOptions } from '../../src/security/tls.js';
import { hasOpenssl, RawClient, waitForMatch } from './helpers.js';
import { loggedIn, rawPeer } from './security-peer.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_') && k !== 'HTTP_CA_BUNDLE'));
const children = new Set<ChildProcess>();

interface Run { code: number | null; stdout: string; stderr: string }

function start(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...baseEnv, HOME: dir } });
  children.add(child);
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin!.end();
  const exit = new Promise<Run>((done) => child.once('close', (code) => {
    children.delete(child);
    done({ code, stdout, stderr });
  }));
  return { child, stderr: () => stderr, exit };
}

const waitForText = (read: () => string, re: RegExp, ms = 20_000): Promise<RegExpExecArray> => waitForMatch(read, re, ms);

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rembus-cli-sec-'));
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** The status of one admin command sent by a raw peer logged in as `name` (proven with `secret`). */
async function adminStatus(url: string, name: string, topic: string, cmd: Record<string, unknown>,
  secret?: string): Promise<number> {
  const raw = await RawClient.open(url);
  try {
    await loggedIn(rawPeer(raw), name, secret);
    return (await rawPeer(raw).admin(topic, cmd))[0];
  } finally {
    await raw.close();
  }
}

describe('rembus broker', () => {
  it('--admin makes the named components admins once they prove their names, and warns about those that cannot', async () => {
    const data = join(dir, 'admins');
    await mkdir(join(data, 'broker', 'keys'), { recursive: true });
    await writeFile(join(data, 'broker', 'keys', 'ops'), 'ops-secret');
    const proc = start(['broker', '--port', '0', '--data-dir', data, '--admin', 'ops', '--admin', 'boss']);
    // No --host: loopback, and the start line says which mode the broker runs in.
    const [line, port] = await waitForText(proc.stderr, /broker listening on ws:\/\/127\.0\.0\.1:(\d+) \(.*\)/);
    expect(line).toContain('auth optional: unauthenticated components accepted; loopback only, --host 0.0.0.0');
    expect(proc.stderr()).toContain('admin boss has no key or shared secret on file');
    expect(proc.stderr()).not.toContain('admin ops has no key');
    const url = `ws://127.0.0.1:${port}`;
    expect(await adminStatus(url, 'user', 'secret', { cmd: 'private_topic' })).toBe(10);
    expect(await adminStatus(url, 'boss', 'secret', { cmd: 'private_topic' })).toBe(10);
    expect(await adminStatus(url, 'ops', 'secret', { cmd: 'private_topic' }, 'ops-secret')).toBe(0);
    expect(await adminStatus(url, 'ops', 'secret', { cmd: 'authorize', cid: 'user' }, 'ops-secret')).toBe(0);
    proc.child.kill('SIGTERM');
    expect((await proc.exit).code).toBe(0);
  }, 40_000);

  it('--auth required refuses unproven components and says so on its start line; a bad mode is a usage error', async () => {
    const proc = start(['broker', '--port', '0', '--host', '127.0.0.1', '--no-persist', '--auth', 'required']);
    const [line, port] = await waitForText(proc.stderr, /broker listening on ws:\/\/127\.0\.0\.1:(\d+) \(.*\)/);
    expect(line).toContain('auth required: only authenticated components');
    const raw = await RawClient.open(`ws://127.0.0.1:${port}`);
    try {
      expect(await rawPeer(raw).login('anyone')).toMatchObject({ status: 10, data: 'authentication required' });
    } finally {
      await raw.close();
    }
    proc.child.kill('SIGTERM');
    expect((await proc.exit).code).toBe(0);
    const bad = await start(['broker', '--port', '0', '--no-persist', '--auth', 'maybe']).exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('must be optional or required');
  }, 40_000);

  it('fails to start naming a missing --cert or --key file (exit 3), and wants both (exit 1)', async () => {
    const missing = join(dir, 'missing.crt');
    const key = join(dir, 'present.key');
    await writeFile(key, 'not even a key');
    const noCert = await start(['broker', '--port', '0', '--no-persist', '--cert', missing, '--key', key]).exit;
    expect(noCert.code).toBe(3);
    expect(noCert.stderr).toContain(missing);
    const alone = await start(['broker', '--port', '0', '--no-persist', '--cert', missing]).exit;
    expect(alone.code).toBe(1);
  }, 40_000);
});

// Skipped only where the openssl binary is missing: it makes the test CA and certificates.
describe.skipIf(!hasOpenssl)('wss:// and keys from the command line', () => {
  let hub: Broker | undefined;
  afterEach(async () => { await hub?.close(); hub = undefined; });

  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  beforeAll(async () => {
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=ca', '-days', '1');
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('req', ...ec, '-keyout', 'rembus.key', '-out', 'rembus.csr', '-subj', '/CN=127.0.0.1');
    openssl('x509', '-req', '-in', 'rembus.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'rembus.crt', '-days', '1', '-extfile', 'san.ext');
  });

  it('runs a wss:// broker from --cert/--key that a client reaches with --ca', async () => {
    const proc = start(['broker', '--port', '0', '--host', '127.0.0.1', '--no-persist', '--name', 'tls-hub',
      '--cert', join(dir, 'rembus.crt'), '--key', join(dir, 'rembus.key')]);
    const [, port] = await waitForText(proc.stderr, /broker listening on wss:\/\/127\.0\.0\.1:(\d+)/);
    const server = `wss://127.0.0.1:${port}`;
    const ok = await start(['rpc', 'rid', '-s', server, '--ca', join(dir, 'ca.crt')]).exit;
    expect(ok.stdout.trim()).toBe('"tls-hub"');
    expect(ok.code).toBe(0);
    const untrusted = await start(['rpc', 'rid', '-s', server]).exit;
    expect(untrusted.code).toBe(3);
    proc.child.kill('SIGTERM');
    expect((await proc.exit).code).toBe(0);
  }, 40_000);

  it('logs in a registered name with --key, and fails (exit 3) without it', async () => {
    const { publicKey, privateKey } = generateKeyPair('ecdsa');
    await writeFile(join(dir, 'alice.pem'), privateKey);
    hub = await broker({ port: 0, host: '127.0.0.1', tls: await loadTlsOptions(keystoreTlsFiles(dir)),
      security: memorySecurityStore({ keys: { alice: publicKey } }) });
    const common = ['rpc', 'rid', '-s', hub.url!, '--ca', join(dir, 'ca.crt'), '--name', 'alice'];
    const ok = await start([...common, '--key', join(dir, 'alice.pem')]).exit;
    expect(ok.stdout.trim()).toBe('"broker"');
    const refused = await start(common).exit;
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("login of 'alice' refused");
    const missing = await start([...common, '--key', join(dir, 'nope.pem')]).exit;
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('nope.pem');
  }, 40_000);
});
