/**
 * Federation into a broker that requires authentication, in process (README "MQTT and
 * federation"): `broker({ join: [{ url, key }] })` and `bridge({ url, key }, …)` log in as the
 * bridge's name with its key (RSA, ECDSA, shared secret) and then carry publishes and calls both
 * ways; a wrong key or a name without a key on file is refused (not retried); a key that cannot
 * sign fails the start with InvalidKeyError before anything is dialed; no key reaches a log line.
 * The CLI processes are in federation-auth-cli.test.ts; refusal without a key in join-auth.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import type { Broker } from '../../src/broker/index.js';
import { InvalidOptionError, type Component } from '../../src/index.js';
import { generateKeyPair, memorySecurityStore, InvalidKeyError, InvalidNameError } from '../../src/security/index.js';
import type { Logger } from '../../src/types.js';
import { collect, hasOpenssl, rejection, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
type KeyPair = { publicKey: string; privateKey: string };
let rsa: KeyPair;
let ec: KeyPair;
let other: KeyPair;
const SECRET = 'federation shared secret 7f3a';
const READER = 'reader secret 91c2';

beforeAll(() => {
  rsa = generateKeyPair('rsa');
  ec = generateKeyPair('ecdsa');
  other = generateKeyPair('ecdsa');
});

/** A broker with auth required: `keys` on file, plus a shared secret for the test's own 'reader'. */
function securedBroker(keys: Record<string, string>, logger?: Logger): Promise<Broker> {
  return scope.broker({ name: 'a', auth: 'required', security: memorySecurityStore({ keys: { ...keys, reader: `${READER}\n` } }),
    ...(logger === undefined ? {} : { logger }) });
}

const statusOf = (b: Broker): Promise<{ type: string; error?: { code?: string; message?: string } }> => firstValueFrom(
  b.links$.pipe(filter((l) => l.length > 0 && (l[0]!.status.type === 'up' || l[0]!.status.type === 'down')), timeout(8_000)),
).then((l) => l[0]!.status as { type: string; error?: { code?: string; message?: string } });

/** A pino-shaped logger keeping every line of every level, as JSON (children share the lines). */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const line = (level: string) => (obj: unknown, msg?: string): void => {
    lines.push(JSON.stringify({ level, obj, msg }, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v)));
  };
  const log: Logger & { lines: string[] } = {
    lines, debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), child: () => log,
  };
  return log;
}

/** Publishes cross A → B and B → A, and a method on A is callable from B. */
async function crossesBothWays(a: Broker, b: Broker): Promise<void> {
  const onA = await scope.connect(a, 'reader', { key: READER });
  const [onB] = await scope.connectAll(b, 'on-b');
  onA.expose('hello', (who: string) => `hello ${who}`);
  const atB = collect(onB!.subscribe$('fed/ab'), 1, { what: 'at b' });
  const atA = collect(onA.subscribe$('fed/ba'), 1, { what: 'at a' });
  await roundTrip(onA, onB!);
  await publishUntil(onA, atB, 'fed/ab', 1);
  await publishUntil(onB!, atA, 'fed/ba', 2);
  expect(atB.values[0]!.args).toEqual([1]);
  expect(atA.values[0]!.args).toEqual([2]);
  await waitFor(async () => (await onB!.rpc('hello', 'b').catch(() => undefined)) === 'hello b',
    { timeout: 8_000, interval: 50, what: 'hello to be callable from b' });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A private CA and a certificate it signs for 127.0.0.1 (openssl), as PEM text. */
function makeTls(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rembus-fed-tls-'));
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  const ecArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ecArgs, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('req', ...ecArgs, '-keyout', 'b.key', '-out', 'b.csr', '-subj', '/CN=127.0.0.1');
  openssl('x509', '-req', '-in', 'b.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'b.crt', '-days', '1',
    '-extfile', 'san.ext');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return { dir, ca: read('ca.crt'), cert: read('b.crt'), key: read('b.key') };
}

async function publishUntil(node: Component, got: { values: unknown[] }, topic: string, value: unknown): Promise<void> {
  await waitFor(() => {
    if (got.values.length > 0) return true;
    node.publish(topic, value);
    return false;
  }, { timeout: 8_000, interval: 100, what: `'${topic}' to cross` });
}

describe('broker({ join: [{ url, key }] }) into a broker with auth required', () => {
  it.each([
    ['ECDSA', () => ec.publicKey, () => ec.privateKey],
    ['RSA', () => rsa.publicKey, () => rsa.privateKey],
    ['shared secret', () => `${SECRET}\n`, () => SECRET],
  ])('logs in with the %s key of its name, then publishes and calls cross both ways', async (_kind, onFile, key) => {
    const a = await securedBroker({ 'b-bridge': onFile() });
    const b = await scope.broker({ name: 'b', join: [{ url: `${a.url!}/b-bridge`, key: key() }] });
    expect(await statusOf(b)).toMatchObject({ type: 'up' });
    await crossesBothWays(a, b);
  });

  it.each([
    ['a key that is not the one on file', (): Record<string, string> => ({ 'b-bridge': ec.publicKey }), () => other.privateKey],
    ['a name with no key on file', (): Record<string, string> => ({}), () => ec.privateKey],
    ['a wrong shared secret', (): Record<string, string> => ({ 'b-bridge': `${SECRET}\n` }), () => 'not the secret'],
  ])('is refused for %s, not retried, and keeps serving its own components', async (_what, keys, key) => {
    const a = await securedBroker(keys());
    const b = await scope.broker({ name: 'b', join: [{ url: `${a.url!}/b-bridge`, key: key() }] });
    const status = await statusOf(b);
    expect(status.type).toBe('down');
    expect(status.error?.code).toBe('AUTH');
    expect(status.error?.message).toContain("'b-bridge'");
    await waitFor(() => a.stats().connections === 0, { what: 'the refused bridge link to close on A' });
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub!.subscribe$('local'), 1);
    await roundTrip(sub!);
    pub!.publish('local', 1);
    await got.done;
    await roundTrip(pub!, sub!);
    expect(a.stats().connections).toBe(0);
  });

  it.each([
    ['the public key given for the private one', () => ec.publicKey, /a public key: signing needs the private key/],
    ['an Ed25519 private key', () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      /a private ed25519 key: only RSA and EC \(ECDSA\) keys sign/],
    ['PEM that does not parse', () => '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n',
      /PEM text that is not a private key/],
    ['binary bytes that are neither a key nor text', () => Uint8Array.of(0xff, 0xfe, 0x00, 0x81), /neither a private key nor a text secret/],
    ['an empty secret', () => '', /empty shared secret/],
  ])('fails the start with InvalidKeyError for %s, naming the cause and the name, before dialing', async (_what, key, reason) => {
    const a = await securedBroker({ 'b-bridge': ec.publicKey });
    const err = await rejection(scope.broker({ name: 'b', join: [{ url: `${a.url!}/b-bridge`, key: key() }] }), InvalidKeyError);
    expect(err.code).toBe('INVALID_KEY');
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(`the key of 'b-bridge' for ${a.url!}`);
    expect(a.stats().connections).toBe(0);
  });

  it('fails the start of a cluster broker too, before NATS or anything else is opened', async () => {
    const err = await rejection(scope.broker({ name: 'b', cluster: { servers: [`nats://127.0.0.1:${await closedPort()}`] },
      join: [{ url: 'ws://127.0.0.1:1/b-bridge', key: ec.publicKey }] }), InvalidKeyError);
    expect(err.message).toMatch(/a public key/);
  });

  it.skipIf(!hasOpenssl)('joins over wss:// with the CA given as `ca`', async () => {
    const tls = makeTls();
    try {
      const a = await scope.broker({ name: 'a', auth: 'required', tls: { cert: tls.cert, key: tls.key },
        security: memorySecurityStore({ keys: { 'b-bridge': ec.publicKey, reader: `${READER}\n` } }) });
      expect(a.url!.startsWith('wss://')).toBe(true);
      const b = await scope.broker({ name: 'b', join: [{ url: `${a.url!}/b-bridge`, key: ec.privateKey, ca: tls.ca }] });
      expect(await statusOf(b)).toMatchObject({ type: 'up' });
      const onA = await scope.connect(a, 'reader', { key: READER, ca: tls.ca });
      const [onB] = await scope.connectAll(b, 'on-b');
      const atA = collect(onA.subscribe$('fed/ba'), 1, { what: 'at a' });
      await roundTrip(onA);
      await publishUntil(onB!, atA, 'fed/ba', 2);
    } finally {
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });

  it('refuses a key without a bridge name in the URL (a random name has no key on file)', async () => {
    const a = await securedBroker({ 'b-bridge': ec.publicKey });
    const err = await rejection(scope.broker({ name: 'b', join: [{ url: a.url!, key: ec.privateKey }] }), InvalidOptionError);
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.message).toContain(`${a.url!}/NAME`);
    expect(a.stats().connections).toBe(0);
  });

  it('refuses a key for a bridge name no key file can have (../x, a leading dot), before dialing', async () => {
    const a = await securedBroker({ 'b-bridge': ec.publicKey });
    for (const [name, why] of [['../x', 'holds a path separator or NUL'], ['..', 'holds ".."'], ['.b', 'starts with "."']]) {
      const err = await rejection(scope.broker({ name: 'b', join: [{ url: `${a.url!}/${encodeURIComponent(name!)}`, key: ec.privateKey }] }),
        InvalidNameError);
      expect(err.code).toBe('INVALID_NAME');
      expect(err.message).toBe(`invalid component name ${JSON.stringify(name)}: ${why!}`);
      expect(() => bridge({ url: `${a.url!}/${encodeURIComponent(name!)}`, key: ec.privateKey }, a.url!)).toThrow(InvalidNameError);
    }
    expect(a.stats().connections).toBe(0);
  });

  it('writes no key to any log line of either broker, accepted or refused', async () => {
    const logA = recordingLogger();
    const logB = recordingLogger();
    const a = await securedBroker({ 'b-bridge': ec.publicKey, 'c-bridge': `${SECRET}\n` }, logA);
    const b = await scope.broker({ name: 'b', logger: logB, join: [
      { url: `${a.url!}/b-bridge`, key: ec.privateKey },
      { url: `${a.url!}/c-bridge`, key: 'a wrong secret 55e1' },
    ] });
    await firstValueFrom(b.links$.pipe(filter((l) => l[0]?.status.type === 'up' && l[1]?.status.type === 'down'), timeout(8_000)));
    await expect(scope.broker({ name: 'c', logger: logB, join: [{ url: `${a.url!}/b-bridge`, key: ec.publicKey }] })).rejects.toThrow();
    const text = [...logA.lines, ...logB.lines].join('\n');
    expect(logB.lines.length).toBeGreaterThan(0);
    const body = (pem: string): string => pem.split('\n')[1]!;
    for (const needle of [body(ec.privateKey), body(ec.publicKey), SECRET, 'a wrong secret 55e1']) expect(text).not.toContain(needle);
  });
});

describe('bridge({ url, key }, …) into a broker with auth required', () => {
  it('logs in with the key of the name in the URL or of options.name, and bridges', async () => {
    const a = await securedBroker({ 'x-bridge': ec.publicKey, 'named-bridge': rsa.publicKey });
    const b = await scope.broker({ name: 'b' });
    const byUrl = scope.track(bridge({ url: `${a.url!}/x-bridge`, key: ec.privateKey }, b.url!));
    await firstValueFrom(byUrl.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
    await crossesBothWays(a, b);
    await byUrl.close();
    const byName = scope.track(bridge(b.url!, { url: a.url!, key: rsa.privateKey }, { name: 'named-bridge' }));
    await firstValueFrom(byName.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
  });

  it('reports a refused or unusable key as down with AuthError, and a key with no name as InvalidOptionError', async () => {
    const a = await securedBroker({ 'x-bridge': ec.publicKey });
    const b = await scope.broker({ name: 'b' });
    const refused = scope.track(bridge({ url: `${a.url!}/x-bridge`, key: other.privateKey }, b.url!));
    const status = await firstValueFrom(refused.status$.pipe(filter((s) => s.type === 'down'), timeout(8_000)));
    expect((status as { error?: { code?: string } }).error?.code).toBe('AUTH');
    const unusable = scope.track(bridge({ url: `${a.url!}/x-bridge`, key: ec.publicKey }, b.url!));
    const down = await firstValueFrom(unusable.status$.pipe(filter((s) => s.type === 'down'), timeout(8_000)));
    const error = (down as { error?: { code?: string; message?: string; cause?: { code?: string } } }).error;
    expect(error?.code).toBe('AUTH');
    expect(error?.cause?.code).toBe('INVALID_KEY');
    expect(error?.message).toMatch(/a public key: signing needs the private key/);
    expect(() => bridge({ url: a.url!, key: ec.privateKey }, b.url!)).toThrow(InvalidOptionError);
  });
});
