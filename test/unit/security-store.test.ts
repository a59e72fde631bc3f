import { createPublicKey } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  generateKeyPair, InvalidNameError, KEY_TYPE, KeyExistsError, openSecurityStore, SecurityConfigError,
  type SecurityStore,
} from '../../src/security/index.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-security-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const readJson = async (name: string): Promise<unknown> => JSON.parse(await readFile(join(dir, name), 'utf8'));
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

describe('openSecurityStore', () => {
  it('treats missing files (and a missing directory) as empty', async () => {
    const store = await openSecurityStore(join(dir, 'not-yet'));
    expect(store.multiTenant).toBe(false);
    expect(store.pinFor('.')).toBeUndefined();
    expect(store.admins()).toEqual([]);
    expect(store.privateTopics()).toEqual({});
    expect(await store.keyFor('alice')).toBeUndefined();
  });

  it('loads tenants.json, admins.json and topic_auth.json', async () => {
    await writeFile(join(dir, 'tenants.json'), '{ ".": "11223344", "acme.com": 99887766 }');
    await writeFile(join(dir, 'admins.json'), '["ops"]');
    await writeFile(join(dir, 'topic_auth.json'), '{ "secret": ["alice"], "closed": [] }');
    const store = await openSecurityStore(dir);
    expect(store.pinFor('.')).toBe('11223344');
    expect(store.pinFor('acme.com')).toBe('99887766');
    expect(store.multiTenant).toBe(true);
    expect(store.tenantOf('robot.acme.com')).toBe('acme.com');
    expect(store.isAdmin('ops')).toBe(true);
    expect(store.isAdmin('alice')).toBe(false);
    expect(store.isPrivate('secret') && store.isPrivate('closed')).toBe(true);
    expect(store.isPrivate('open')).toBe(false);
    expect(store.isAuthorized('alice', 'secret')).toBe(true);
    expect(store.isAuthorized('bob', 'secret')).toBe(false);
  });

  it('is single-tenant when only "." is configured', async () => {
    await writeFile(join(dir, 'tenants.json'), '{ ".": "11223344" }');
    expect((await openSecurityStore(dir)).multiTenant).toBe(false);
  });

  it.each(['tenants.json', 'admins.json', 'topic_auth.json'])('names %s when it is not JSON', async (name) => {
    await writeFile(join(dir, name), '{ not json');
    const error = await openSecurityStore(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecurityConfigError);
    expect((error as SecurityConfigError).file).toBe(join(dir, name));
    expect((error as SecurityConfigError).code).toBe('SECURITY_CONFIG');
    expect((error as Error).message).toContain(name);
  });

  it.each([
    ['tenants.json', '["11223344"]'], ['tenants.json', '{ ".": true }'], ['admins.json', '{"a": 1}'],
    ['admins.json', '[1]'], ['topic_auth.json', '{"t": "alice"}'], ['topic_auth.json', '[]'],
  ])('names %s when its shape is wrong (%s)', async (name, text) => {
    await writeFile(join(dir, name), text);
    await expect(openSecurityStore(dir)).rejects.toThrow(name);
  });

  it('keeps its state when a reload fails', async () => {
    await writeFile(join(dir, 'admins.json'), '["ops"]');
    const store = await openSecurityStore(dir);
    await writeFile(join(dir, 'admins.json'), '[');
    await expect(store.reload()).rejects.toBeInstanceOf(SecurityConfigError);
    expect(store.isAdmin('ops')).toBe(true);
  });
});

describe('SecurityStore persistence', () => {
  it('persists admins and reloads them', async () => {
    const store = await openSecurityStore(dir);
    await store.addAdmins(['ops', 'root']);
    expect(await readJson('admins.json')).toEqual(['ops', 'root']);
    const reopened = await openSecurityStore(dir);
    expect(reopened.isAdmin('root')).toBe(true);
  });

  it('persists every topic-auth operation', async () => {
    const store = await openSecurityStore(dir);
    await store.makePrivate('t1');
    expect(await readJson('topic_auth.json')).toEqual({ t1: [] });
    await store.authorize('t1', 'alice');
    await store.authorize('t2', 'bob');
    expect(await readJson('topic_auth.json')).toEqual({ t1: ['alice'], t2: ['bob'] });
    await store.unauthorize('t1', 'alice');
    expect(await readJson('topic_auth.json')).toEqual({ t1: [], t2: ['bob'] });
    expect(store.isPrivate('t1')).toBe(true);
    await store.makePublic('t2');
    expect(await readJson('topic_auth.json')).toEqual({ t1: [] });
    const reopened = await openSecurityStore(dir);
    expect(reopened.privateTopics()).toEqual({ t1: [] });
  });

  it('takes effect in memory before the write completes', async () => {
    const store = await openSecurityStore(dir);
    const write = store.authorize('t', 'alice');
    expect(store.isAuthorized('alice', 't')).toBe(true);
    await write;
  });

  it('writes atomically: a new file replaces the old, no temporary file is left', async () => {
    const store = await openSecurityStore(dir);
    await store.makePrivate('t');
    const before = await stat(join(dir, 'topic_auth.json'));
    await store.authorize('t', 'c0');
    const after = await stat(join(dir, 'topic_auth.json'));
    expect(after.ino).not.toBe(before.ino); // a renamed new file, not an in-place rewrite
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.authorize('t', `c${i}`)));
    expect((await readJson('topic_auth.json') as Record<string, string[]>)['t']).toHaveLength(40);
    expect((await readdir(dir)).sort()).toEqual(['topic_auth.json']);
    expect(after.mode & 0o777).toBe(0o600);
  });

  it('saves every file and reloads on demand', async () => {
    await writeFile(join(dir, 'tenants.json'), '{ ".": "11223344" }');
    const store = await openSecurityStore(dir);
    await store.save();
    expect(await readJson('tenants.json')).toEqual({ '.': '11223344' });
    expect(await readJson('admins.json')).toEqual([]);
    await writeFile(join(dir, 'admins.json'), '["late"]');
    await store.reload();
    expect(store.isAdmin('late')).toBe(true);
  });
});

describe('SecurityStore keys', () => {
  let rsa: string;
  let ecDer: Uint8Array;
  let store: SecurityStore;
  beforeAll(() => {
    rsa = generateKeyPair('rsa').publicKey;
    ecDer = new Uint8Array(createPublicKey(generateKeyPair('ecdsa').publicKey).export({ type: 'spki', format: 'der' }));
  });
  beforeEach(async () => { store = await openSecurityStore(dir); });

  it('names key files <cid>.<rsa|ecdsa>.<pem|der> and reads them back', async () => {
    expect(await store.saveKey('alice', utf8(rsa), KEY_TYPE.RSA)).toBe(join(dir, 'keys', 'alice.rsa.pem'));
    expect(await store.saveKey('bob.acme', ecDer, KEY_TYPE.ECDSA)).toBe(join(dir, 'keys', 'bob.acme.ecdsa.der'));
    expect((await store.keyFor('alice'))?.type).toBe('public-key');
    expect((await store.keyFor('bob.acme'))?.type).toBe('public-key');
    expect((await stat(join(dir, 'keys', 'alice.rsa.pem'))).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, 'keys'))).sort()).toEqual(['alice.rsa.pem', 'bob.acme.ecdsa.der']);
  });

  it('reads a bare keys/<cid> file as a shared secret', async () => {
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'carol'), 'mysecret\n');
    expect(await store.keyFor('carol')).toEqual({ type: 'secret', secret: 'mysecret' });
  });

  it('refuses a second key for a name, also under another extension and concurrently', async () => {
    await store.saveKey('alice', utf8(rsa), KEY_TYPE.RSA);
    await expect(store.saveKey('alice', utf8(rsa), KEY_TYPE.RSA)).rejects.toBeInstanceOf(KeyExistsError);
    await expect(store.saveKey('alice', ecDer, KEY_TYPE.ECDSA)).rejects.toBeInstanceOf(KeyExistsError);
    const results = await Promise.allSettled([
      store.saveKey('dave', utf8(rsa), KEY_TYPE.RSA), store.saveKey('dave', ecDer, KEY_TYPE.ECDSA),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await readdir(join(dir, 'keys'))).filter((f) => f.startsWith('dave'))).toHaveLength(1);
  });

  it('deletes every key file of a name', async () => {
    await store.saveKey('alice', utf8(rsa), KEY_TYPE.RSA);
    await writeFile(join(dir, 'keys', 'alice'), 'leftover');
    expect(await store.deleteKey('alice')).toBe(true);
    expect(await store.keyFor('alice')).toBeUndefined();
    expect(await store.deleteKey('alice')).toBe(false);
  });

  it.each(['../outside', 'a/b', '..\\x', 'a\0b', '.hidden', 'x'.repeat(300), ''])('rejects the name %j', async (cid) => {
    await expect(store.keyFor(cid)).rejects.toBeInstanceOf(InvalidNameError);
    await expect(store.saveKey(cid, utf8(rsa), KEY_TYPE.RSA)).rejects.toBeInstanceOf(InvalidNameError);
    await expect(store.deleteKey(cid)).rejects.toBeInstanceOf(InvalidNameError);
    expect(await readdir(dir)).toEqual([]);
  });
});
