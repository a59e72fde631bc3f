/**
 * Authentication and provisioning over real sockets (spec §3.1, §3.3, §3.5): REGISTER with a
 * tenant PIN, challenge / attestation with RSA, ECDSA and shared-secret keys, the refusals,
 * UNREGISTER, and the JSON-RPC text-frame variant of the login.
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { attestationFor, generateKeyPair } from '../../src/security/crypto.js';
import { AuthError, NameTakenError, register, unregister, type Component } from '../../src/index.js';
import type { Broker } from '../../src/broker/index.js';
import { rejection, useScope, waitFor } from './helpers.js';

const scope = useScope();
const PIN = '11223344';
type KeyPair = { publicKey: string; privateKey: string };
let rsa: KeyPair;
let ec: KeyPair;
let other: KeyPair;

beforeAll(() => {
  rsa = generateKeyPair('rsa');
  ec = generateKeyPair('ecdsa');
  other = generateKeyPair('ecdsa');
});

/** A broker whose single tenant '.' and tenant 'acme' have PINs; `keys` as key files. */
function securedBroker(keys: Record<string, string> = {}): Promise<Broker> {
  return scope.broker({ security: memorySecurityStore({ tenants: { '.': PIN, acme: '99887766' }, keys }) });
}

/** `promise`'s rejection, which must be an AuthError. */
const authError = (promise: Promise<unknown>): Promise<AuthError> => rejection(promise, AuthError);

describe('register', () => {
  it('stores the key so the name logs in with it (RSA, ECDSA; tenant "." and a named tenant)', async () => {
    const b = await securedBroker();
    await register(`${b.url!}/alice`, { pin: PIN, key: rsa.privateKey });
    await register(`${b.url!}/bob.acme`, { pin: '99887766', key: ec.privateKey });
    const alice = await scope.connect(b, 'alice', { key: rsa.privateKey });
    const bob = await scope.connect(b, 'bob.acme', { key: ec.privateKey });
    expect(await alice.rpc('rid')).toBe('broker');
    expect(await bob.rpc('rid')).toBe('broker');
  });

  it('refuses a wrong PIN with status 10', async () => {
    const b = await securedBroker();
    const err = await authError(register(`${b.url!}/alice`, { pin: '00000000', key: rsa.privateKey }));
    expect(err.remoteCode).toBe(10);
    expect(err.message).toContain('wrong tenant/pin');
  });

  it('refuses a name of an unknown tenant with status 10', async () => {
    const b = await securedBroker();
    const err = await authError(register(`${b.url!}/carol.nowhere`, { pin: PIN, key: rsa.privateKey }));
    expect(err.remoteCode).toBe(10);
    expect(err.message).toContain('tenant [nowhere] not enabled');
  });

  it('refuses an already registered name with status 60', async () => {
    const b = await securedBroker();
    await register(`${b.url!}/alice`, { pin: PIN, key: rsa.privateKey });
    const err = await authError(register(`${b.url!}/alice`, { pin: PIN, key: other.privateKey }));
    expect(err.remoteCode).toBe(60);
  });

  it('refuses a key that is no private key before anything is sent', async () => {
    const b = await securedBroker();
    const err = await authError(register(`${b.url!}/alice`, { pin: PIN, key: 'not a key' }));
    expect(err.remoteCode).toBeUndefined();
  });
});

describe('login with a key on file', () => {
  it('succeeds with the RSA, ECDSA and shared-secret keys of the names', async () => {
    const b = await securedBroker({ alice: rsa.publicKey, bob: ec.publicKey, carol: 'open sesame\n' });
    const nodes = await Promise.all([
      scope.connect(b, 'alice', { key: rsa.privateKey }),
      scope.connect(b, 'bob', { key: new Uint8Array(Buffer.from(ec.privateKey)) }),
      scope.connect(b, 'carol', { key: 'open sesame' }),
    ]);
    for (const node of nodes) expect(await node.rpc('rid')).toBe('broker');
  });

  it('fails with AuthError (11, not retried) without a key, and with 10 for a wrong key', async () => {
    const b = await securedBroker({ alice: rsa.publicKey, carol: 'open sesame' });
    const noKey = await authError(scope.connect(b, 'alice'));
    expect(noKey.remoteCode).toBe(11);
    const wrong = await authError(scope.connect(b, 'alice', { key: other.privateKey }));
    expect(wrong.remoteCode).toBe(10);
    const wrongSecret = await authError(scope.connect(b, 'carol', { key: 'guess' }));
    expect(wrongSecret.remoteCode).toBe(10);
    // The name is still free for its owner.
    const alice = await scope.connect(b, 'alice', { key: rsa.privateKey });
    expect(await alice.rpc('rid')).toBe('broker');
  });

  it('answers an ATTESTATION without a challenge with 10 and closes the link', async () => {
    const b = await securedBroker({ alice: rsa.publicKey });
    const raw = await scope.raw(b);
    // [11, id, "alice", h'00']
    raw.sendBinary('84 0b 48 0102030405060708 65 616c696365 41 00');
    expect(await raw.nextHex()).toBe('84 04 48 01 02 03 04 05 06 07 08 0a 74 6e 6f 20 63 68 61 6c 6c 65 6e 67 65 20 70 65 6e 64 69 6e 67');
    await waitFor(() => !raw.isOpen, { what: 'the broker to close the link' });
  });

  it('logs in over JSON-RPC text frames: base64 challenge, base64 signature', async () => {
    const b = await securedBroker({ alice: ec.publicKey });
    const raw = await scope.raw(b);
    raw.sendText('{"jsonrpc":"2.0","id":1,"method":"__identity__","params":{"type":0,"cid":"alice"}}');
    const challenge = JSON.parse(await raw.nextText()) as { id: number; result: { sts: number; data: string } };
    expect(challenge).toMatchObject({ id: 1, result: { sts: 11 } });
    const bytes = new Uint8Array(Buffer.from(challenge.result.data, 'base64'));
    expect(bytes.length).toBe(4);
    const signature = Buffer.from(attestationFor(bytes, 'alice', ec.privateKey)).toString('base64');
    raw.sendText(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'alice', params: { type: 11, signature } }));
    expect(JSON.parse(await raw.nextText())).toMatchObject({ id: 2, result: { sts: 0 } });
    // Bound: the name is taken.
    const err: unknown = await scope.connect(b, 'alice', { key: ec.privateKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NameTakenError);
    expect((err as NameTakenError).remoteCode).toBe(60);
  });
});

describe('unregister', () => {
  it('removes the key of an authenticated name, after which a new key can be registered', async () => {
    const b = await securedBroker();
    const url = `${b.url!}/alice`;
    await register(url, { pin: PIN, key: rsa.privateKey });
    const first: Component = await scope.connect(b, 'alice', { key: rsa.privateKey });
    await unregister(first);
    await first.close();
    await register(url, { pin: PIN, key: other.privateKey });
    expect((await authError(scope.connect(b, 'alice', { key: rsa.privateKey }))).remoteCode).toBe(10);
    const second = await scope.connect(b, 'alice', { key: other.privateKey });
    expect(await second.rpc('rid')).toBe('broker');
  });

  it('is refused with 10 for a connection that did not prove a key, and for an anonymous one', async () => {
    // Tenant '.' open: names without a key may log in there (tenants are isolated otherwise).
    const b = await scope.broker({ security: memorySecurityStore({ tenants: { '.': PIN, acme: '99887766' } }),
      openTenants: ['.'] });
    const plain = await scope.connect(b, 'dave');
    expect((await authError(unregister(plain))).remoteCode).toBe(10);
    const anonymous = await scope.connect(b);
    await authError(unregister(anonymous));
  });
});

describe('the file store of a broker data directory', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-sec-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads <dataDir>/<name>/tenants.json and writes registered keys to keys/', async () => {
    await mkdir(join(dir, 'hub'), { recursive: true });
    await writeFile(join(dir, 'hub', 'tenants.json'), JSON.stringify({ '.': PIN }));
    const b = await scope.broker({ dataDir: dir, name: 'hub' });
    await register(`${b.url!}/alice`, { pin: PIN, key: ec.privateKey });
    expect(await readdir(join(dir, 'hub', 'keys'))).toEqual(['alice.ecdsa.pem']);
    const alice = await scope.connect(b, 'alice', { key: ec.privateKey });
    expect(await alice.rpc('rid')).toBe('hub');
  });
});
