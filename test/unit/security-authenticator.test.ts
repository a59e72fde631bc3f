import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STATUS } from '../../src/protocol/messages.js';
import {
  attestationFor, createAuthenticator, generateKeyPair, KEY_TYPE, newLoginState, openSecurityStore,
  securityAdminCommand, sharedSecretSignature, type Authenticator, type LoginState,
} from '../../src/security/index.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
const PIN = '11223344';
const CHALLENGE = Uint8Array.of(9, 8, 7, 6);

let dir: string;
let auth: Authenticator;
let login: LoginState;
let rsa: { publicKey: string; privateKey: string };
let ec: { publicKey: string; privateKey: string };

beforeAll(() => {
  rsa = generateKeyPair('rsa');
  ec = generateKeyPair('ecdsa');
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rembus-auth-'));
  await writeFile(join(dir, 'tenants.json'), JSON.stringify({ '.': PIN, 'acme.com': '99887766' }));
  await writeFile(join(dir, 'admins.json'), '["ops"]');
  auth = createAuthenticator(await openSecurityStore(dir), { challenge: () => Uint8Array.from(CHALLENGE) });
  login = newLoginState();
});
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** Register `cid` with `key`, then log in over IDENTITY + ATTESTATION. */
async function registerAndLogin(cid: string, key: { publicKey: string; privateKey: string }, keyType: number) {
  expect(await auth.onRegister(cid, cid.includes('.') ? '99887766' : PIN, utf8(key.publicKey), keyType))
    .toEqual({ status: STATUS.OK, data: null });
  expect(await auth.onIdentity(login, cid)).toEqual({ status: STATUS.CHALLENGE, data: CHALLENGE });
  return auth.onAttestation(login, cid, attestationFor(CHALLENGE, cid, key.privateKey));
}

describe('onIdentity', () => {
  it('binds a name without a key unauthenticated in a single-tenant setup', async () => {
    await writeFile(join(dir, 'tenants.json'), JSON.stringify({ '.': PIN }));
    const single = createAuthenticator(await openSecurityStore(dir));
    expect(await single.onIdentity(login, 'alice')).toEqual({ status: STATUS.OK, data: null });
    expect(await single.onIdentity(login, 'spy.acme.com')).toEqual({ status: STATUS.OK, data: null });
    expect(login).toEqual({ pending: undefined, authenticated: false, trusted: false, refusals: false });
  });

  it('refuses a name without a key when tenants are isolated, unless its tenant is open', async () => {
    expect(await auth.onIdentity(login, 'spy.acme.com')).toEqual({ status: STATUS.ERROR, data: 'authentication required' });
    expect(await auth.onIdentity(login, 'alice')).toEqual({ status: STATUS.ERROR, data: 'authentication required' });
    expect(auth.admitsUnproven(undefined)).toBe(false);
    const open = createAuthenticator(auth.store, { openTenants: ['.'] });
    expect(await open.onIdentity(login, 'alice')).toEqual({ status: STATUS.OK, data: null });
    expect(open.admitsUnproven(undefined)).toBe(true);
    expect(await open.onIdentity(login, 'spy.acme.com')).toEqual({ status: STATUS.ERROR, data: 'authentication required' });
    expect(await open.onIdentity(login, 'x.nowhere')).toEqual({ status: STATUS.ERROR, data: 'authentication required' });
  });

  it('refuses every name without a key in "required" mode, and admits no anonymous connection', async () => {
    await writeFile(join(dir, 'tenants.json'), JSON.stringify({ '.': PIN }));
    const required = createAuthenticator(await openSecurityStore(dir), { mode: 'required', openTenants: ['.'] });
    expect(await required.onIdentity(login, 'alice')).toEqual({ status: STATUS.ERROR, data: 'authentication required' });
    expect(required.admitsUnproven(undefined)).toBe(false);
    await required.onRegister('bob', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    expect((await required.onIdentity(login, 'bob')).status).toBe(STATUS.CHALLENGE);
  });

  it('refuses an empty or unsafe name', async () => {
    expect(await auth.onIdentity(login, '')).toEqual({ status: STATUS.ERROR, data: 'empty cid' });
    const reply = await auth.onIdentity(login, '../keys/alice');
    expect(reply.status).toBe(STATUS.ERROR);
    expect(reply.data).toMatch(/invalid component name/);
  });

  it('challenges a name with a key on file (4 random bytes by default)', async () => {
    const real = createAuthenticator(auth.store);
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    const reply = await real.onIdentity(login, 'alice');
    expect(reply.status).toBe(STATUS.CHALLENGE);
    expect(reply.data).toBeInstanceOf(Uint8Array);
    expect(reply.data).toHaveLength(4);
    expect(login.pending?.cid).toBe('alice');
  });
});

describe('onAttestation', () => {
  it.each([['RSA', KEY_TYPE.RSA], ['ECDSA', KEY_TYPE.ECDSA]])('authenticates a %s key', async (kind, keyType) => {
    const reply = await registerAndLogin('alice', kind === 'RSA' ? rsa : ec, keyType);
    expect(reply).toEqual({ status: STATUS.OK, data: null });
    expect(login.authenticated).toBe(true);
  });

  it('authenticates with a shared secret in a bare key file', async () => {
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'carol'), 'mysecret\n');
    expect((await auth.onIdentity(login, 'carol')).status).toBe(STATUS.CHALLENGE);
    const reply = await auth.onAttestation(login, 'carol', sharedSecretSignature(CHALLENGE, 'mysecret'));
    expect(reply.status).toBe(STATUS.OK);
  });

  it('uses a challenge once', async () => {
    await registerAndLogin('alice', rsa, KEY_TYPE.RSA);
    const again = await auth.onAttestation(login, 'alice', attestationFor(CHALLENGE, 'alice', rsa.privateKey));
    expect(again).toEqual({ status: STATUS.ERROR, data: 'no challenge pending' });
  });

  it('refuses a wrong signature and consumes the challenge', async () => {
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    await auth.onIdentity(login, 'alice');
    const wrong = attestationFor(CHALLENGE, 'alice', generateKeyPair('rsa').privateKey);
    expect(await auth.onAttestation(login, 'alice', wrong)).toEqual({ status: STATUS.ERROR, data: 'authentication failed' });
    expect(login.authenticated).toBe(false);
    const right = attestationFor(CHALLENGE, 'alice', rsa.privateKey);
    expect((await auth.onAttestation(login, 'alice', right)).status).toBe(STATUS.ERROR);
  });

  it('refuses an attestation without a challenge, or for another name', async () => {
    expect(await auth.onAttestation(login, 'alice', Uint8Array.of(1, 2)))
      .toEqual({ status: STATUS.ERROR, data: 'no challenge pending' });
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    await auth.onRegister('bob', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA);
    await auth.onIdentity(login, 'alice');
    const reply = await auth.onAttestation(login, 'bob', attestationFor(CHALLENGE, 'bob', ec.privateKey));
    expect(reply.status).toBe(STATUS.ERROR);
    expect(login.authenticated).toBe(false);
  });

  it('fails the login when the key file is corrupted or empty', async () => {
    await mkdir(join(dir, 'keys'));
    for (const [cid, content] of [['bad', '-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n'], ['empty', '']]) {
      await writeFile(join(dir, 'keys', `${cid}.rsa.pem`), content!);
      expect((await auth.onIdentity(login, cid!)).status).toBe(STATUS.CHALLENGE);
      const reply = await auth.onAttestation(login, cid!, attestationFor(CHALLENGE, cid!, rsa.privateKey));
      expect(reply.status).toBe(STATUS.ERROR);
    }
  });
});

describe('onRegister', () => {
  it('stores the key when the tenant PIN is right (RSA and ECDSA)', async () => {
    expect(await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA)).toEqual({ status: 0, data: null });
    expect(await auth.onRegister('bob', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA)).toEqual({ status: 0, data: null });
    expect((await auth.store.keyFor('bob'))?.type).toBe('public-key');
  });

  it('checks the PIN of the name\'s tenant', async () => {
    expect((await auth.onRegister('robot.acme.com', '99887766', utf8(ec.publicKey), KEY_TYPE.ECDSA)).status).toBe(0);
    expect(await auth.onRegister('other.acme.com', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA))
      .toEqual({ status: STATUS.ERROR, data: 'wrong tenant/pin' });
  });

  it('answers 10 "wrong tenant/pin" to a wrong PIN', async () => {
    expect(await auth.onRegister('alice', '00000000', utf8(rsa.publicKey), KEY_TYPE.RSA))
      .toEqual({ status: STATUS.ERROR, data: 'wrong tenant/pin' });
    expect(await auth.store.keyFor('alice')).toBeUndefined();
  });

  it('answers 10 "tenant [t] not enabled" to an unknown tenant', async () => {
    expect(await auth.onRegister('x.unknown.org', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA))
      .toEqual({ status: STATUS.ERROR, data: 'tenant [unknown.org] not enabled' });
  });

  it('registers a name that holds rights only for a proven admin', async () => {
    await auth.store.authorize('secret', 'alice');
    const reserved = (await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA)).data;
    expect(reserved).toBe('name alice holds rights: only an admin may register it');
    expect((await auth.onRegister('ops', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA)).status).toBe(STATUS.ERROR);
    expect((await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA, { name: 'ops', proven: false })).status)
      .toBe(STATUS.ERROR);
    expect(await auth.store.keyFor('alice')).toBeUndefined();
    expect(await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA, { name: 'ops', proven: true }))
      .toEqual({ status: STATUS.OK, data: null });
    expect(await auth.store.keyFor('alice')).toBeDefined();
  });

  it('answers 60 to a name that already has a key', async () => {
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    const reply = await auth.onRegister('alice', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA);
    expect(reply.status).toBe(STATUS.NAME_ALREADY_TAKEN);
    expect(reply.data).toBe('name alice not available for registration');
    const racing = await Promise.all([
      auth.onRegister('dave', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA),
      auth.onRegister('dave', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA),
    ]);
    expect(racing.map((r) => r.status).sort()).toEqual([STATUS.OK, STATUS.NAME_ALREADY_TAKEN]);
  });

  it('refuses a public key that does not parse and an unsafe name', async () => {
    expect(await auth.onRegister('alice', PIN, utf8('KEY'), KEY_TYPE.RSA))
      .toEqual({ status: STATUS.ERROR, data: 'not an RSA or ECDSA public key' });
    expect((await auth.onRegister('a/b', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA)).status).toBe(STATUS.ERROR);
  });
});

describe('onUnregister', () => {
  it('removes the key of an authenticated name; the name can then be registered again', async () => {
    await registerAndLogin('alice', rsa, KEY_TYPE.RSA);
    expect(await auth.onUnregister('alice', login.authenticated)).toEqual({ status: STATUS.OK, data: null });
    expect(await auth.store.keyFor('alice')).toBeUndefined();
    expect((await auth.onRegister('alice', PIN, utf8(ec.publicKey), KEY_TYPE.ECDSA)).status).toBe(STATUS.OK);
  });

  it('answers 10 "invalid operation" when the connection is not authenticated', async () => {
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    expect(await auth.onUnregister('alice', false)).toEqual({ status: STATUS.ERROR, data: 'invalid operation' });
    expect(await auth.store.keyFor('alice')).toBeDefined();
  });
});

describe('authorize', () => {
  const actions = ['publish', 'subscribe', 'deliver', 'rpc', 'expose'] as const;

  it('lets anyone use a public topic', () => {
    for (const action of actions) expect(auth.authorize('anyone', action, 'open', true)).toBe(true);
  });

  it('grants nothing on a private topic to a name that did not prove itself, admins included', async () => {
    await auth.store.authorize('secret', 'alice');
    for (const action of actions) {
      expect(auth.authorize('alice', action, 'secret', false)).toBe(false);
      expect(auth.authorize('ops', action, 'secret', false)).toBe(false);
      expect(auth.authorize('alice', action, 'open', false)).toBe(true);
    }
    expect(auth.isAdmin('ops', false)).toBe(false);
    expect(auth.isAdmin('ops', true)).toBe(true);
    expect(auth.isAdmin('alice', true)).toBe(false);
  });

  it('limits a private topic to authorized names and admins', async () => {
    await auth.store.authorize('secret', 'alice');
    await auth.store.makePrivate('closed');
    for (const action of actions) {
      expect(auth.authorize('alice', action, 'secret', true)).toBe(true);
      expect(auth.authorize('bob', action, 'secret', true)).toBe(false);
      expect(auth.authorize('alice', action, 'closed', true)).toBe(false);
      expect(auth.authorize('ops', action, 'closed', true)).toBe(true);
    }
    await auth.store.makePublic('secret');
    expect(auth.authorize('bob', 'publish', 'secret', true)).toBe(true);
  });
});

describe('verifySecret', () => {
  it('accepts only the shared secret on file; never a public key', async () => {
    await mkdir(join(dir, 'keys'), { recursive: true });
    await writeFile(join(dir, 'keys', 'carol'), 'open sesame\n');
    await auth.onRegister('alice', PIN, utf8(rsa.publicKey), KEY_TYPE.RSA);
    expect(await auth.verifySecret('carol', 'open sesame')).toBe(true);
    expect(await auth.verifySecret('carol', 'open')).toBe(false);
    expect(await auth.verifySecret('alice', rsa.publicKey)).toBe(false);
    expect(await auth.verifySecret('nobody', '')).toBe(false);
    expect(await auth.verifySecret('../x', 'a')).toBe(false);
  });
});

describe('sameTenant', () => {
  it('isolates tenants when tenants other than "." are configured', () => {
    expect(auth.sameTenant('a.acme.com', 'b.acme.com')).toBe(true);
    expect(auth.sameTenant('a.acme.com', 'b.other.org')).toBe(false);
    expect(auth.sameTenant('a', 'b.acme.com')).toBe(false);
    expect(auth.sameTenant('a', 'b')).toBe(true);
  });

  it('does not isolate a single-tenant setup', async () => {
    await writeFile(join(dir, 'tenants.json'), JSON.stringify({ '.': PIN }));
    const single = createAuthenticator(await openSecurityStore(dir));
    expect(single.sameTenant('a.acme.com', 'b.other.org')).toBe(true);
  });
});

describe('securityAdminCommand', () => {
  it('refuses an admin name that did not prove itself with 10 "unauthorized"', async () => {
    expect(await securityAdminCommand(auth, { name: 'ops', proven: false }, 't', { cmd: 'authorize', cid: 'x' }))
      .toEqual({ status: STATUS.ERROR, data: 'unauthorized' });
    expect(auth.store.isPrivate('t')).toBe(false);
  });

  it('refuses non-admins with 10 "unauthorized"', async () => {
    for (const cmd of ['private_topic', 'public_topic', 'authorize', 'unauthorize', 'private_topics_config']) {
      expect(await securityAdminCommand(auth, { name: 'alice', proven: true }, 't', { cmd, cid: 'alice' }))
        .toEqual({ status: STATUS.ERROR, data: 'unauthorized' });
    }
    expect(auth.store.isPrivate('t')).toBe(false);
  });

  it('runs the commands of an admin', async () => {
    expect(await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'private_topic' })).toEqual({ status: 0, data: null });
    expect(auth.store.isPrivate('t')).toBe(true);
    expect((await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'authorize', cid: 'alice' }))?.status).toBe(0);
    expect(await securityAdminCommand(auth, { name: 'ops', proven: true }, '__config__', { cmd: 'private_topics_config' }))
      .toEqual({ status: 0, data: { t: ['alice'] } });
    expect((await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'unauthorize', cid: 'alice' }))?.status).toBe(0);
    expect(auth.authorize('alice', 'publish', 't', true)).toBe(false);
    expect((await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'public_topic' }))?.status).toBe(0);
    expect(auth.store.isPrivate('t')).toBe(false);
    expect((await securityAdminCommand(auth, { name: 'ops', proven: true }, '__config__', { cmd: 'save_config' }))?.status).toBe(0);
    expect((await securityAdminCommand(auth, { name: 'ops', proven: true }, '__config__', { cmd: 'load_config' }))?.status).toBe(0);
  });

  it('needs a cid for authorize / unauthorize, and leaves other commands to the broker', async () => {
    expect(await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'authorize' })).toEqual({ status: 10, data: 'cid missing' });
    expect(await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', { cmd: 'subscribe' })).toBeUndefined();
    expect(await securityAdminCommand(auth, { name: 'ops', proven: true }, 't', {})).toBeUndefined();
  });
});
