import { describe, expect, it } from 'vitest';
import { STATUS } from '../../src/protocol/messages.js';
import { createAuthenticator, generateKeyPair, KEY_TYPE, memorySecurityStore, newLoginState } from '../../src/security/index.js';

describe('memorySecurityStore', () => {
  it('is empty and open by default: no tenants, admins, private topics or keys', async () => {
    const store = memorySecurityStore();
    expect([store.dir, store.multiTenant, store.hasPrivateTopics, store.admins()]).toEqual([undefined, false, false, []]);
    expect(await store.keyFor('alice')).toBeUndefined();
    expect(store.pinFor('.')).toBeUndefined();
  });

  it('holds what it is given and what the admin commands change', async () => {
    const { publicKey } = generateKeyPair('ecdsa');
    const store = memorySecurityStore({ tenants: { '.': '1', acme: '2' }, admins: ['ops'], topicAuth: { t: ['a'] }, keys: { k: publicKey, s: 'secret' } });
    expect([store.multiTenant, store.hasPrivateTopics, store.isAdmin('ops'), store.isAuthorized('a', 't')]).toEqual([true, true, true, true]);
    expect((await store.keyFor('k'))?.type).toBe('public-key');
    expect(await store.keyFor('s')).toEqual({ type: 'secret', secret: 'secret' });
    await store.makePublic('t');
    await store.authorize('u', 'b');
    expect(store.privateTopics()).toEqual({ u: ['b'] });
    await store.addAdmins(['boss']);
    expect(store.admins()).toEqual(['ops', 'boss']);
  });

  it('backs an authenticator: register, challenge, refusal of a second registration', async () => {
    const { publicKey } = generateKeyPair('rsa');
    const auth = createAuthenticator(memorySecurityStore({ tenants: { '.': '1234' } }));
    const key = new TextEncoder().encode(publicKey);
    expect(await auth.onRegister('alice', '1234', key, KEY_TYPE.RSA)).toEqual({ status: STATUS.OK, data: null });
    expect((await auth.onRegister('alice', '1234', key, KEY_TYPE.RSA)).status).toBe(STATUS.NAME_ALREADY_TAKEN);
    expect((await auth.onIdentity(newLoginState(), 'alice')).status).toBe(STATUS.CHALLENGE);
    expect((await auth.onRegister('../x', '1234', key, KEY_TYPE.RSA)).status).toBe(STATUS.ERROR);
    expect(await auth.onUnregister('alice', true)).toEqual({ status: STATUS.OK, data: null });
    expect(await auth.onIdentity(newLoginState(), 'alice')).toEqual({ status: STATUS.OK, data: null });
  });
});
