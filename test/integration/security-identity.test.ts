/**
 * Rights rest on proven identities (README "Security", issue 13 item 4), tried the way an
 * attacker would over raw frames and real components: claim an admin name, claim or pre-register
 * a name that holds rights, join a tenant under its name, talk to a broker that requires
 * authentication without proof. Every attack must fail; the owners' happy paths must still work.
 * Also the refusal notice of spec §6.2 (item 5): a TS publisher hears of a refused publish at
 * once, a reference peer (which never asks) sees exactly what the references do: nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHost } from '../../src/broker/broker.js';
import type { Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import { AuthError, register, RpcError, UnauthorizedError } from '../../src/index.js';
import { QOS1, type Msg } from '../../src/protocol/messages.js';
import { REFUSALS_KEY } from '../../src/protocol/refusals.js';
import { generateKeyPair, KEY_TYPE } from '../../src/security/crypto.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import type { Logger } from '../../src/types.js';
import { collect, roundTrip, useScope } from './helpers.js';
import { loggedIn, rawPeer, type RawPeer } from './security-peer.js';

const scope = useScope();
const PIN = '11223344';

const peer = async (b: Broker): Promise<RawPeer> => rawPeer(await scope.raw(b));

/** A logger that keeps its warnings. */
function warnings(): { logger: Logger; seen: string[] } {
  const seen: string[] = [];
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (_obj, msg) => { seen.push(msg ?? ''); },
    child: () => logger,
  };
  return { logger, seen };
}

describe('(a) admin rights need a proven name', () => {
  it('gives an unproven admin name no admin command, and warns at start-up about it', async () => {
    const { logger, seen } = warnings();
    const b = await scope.broker({ admins: ['root', 'ops'], logger,
      security: memorySecurityStore({ keys: { ops: 'ops-secret' } }) });
    expect(seen).toEqual(['admin root has no key or shared secret on file: it cannot prove its name and has no admin rights']);
    const node = await scope.connect(b, 'node');
    const sub = node.subscribe$('news').subscribe();
    await roundTrip(node);
    const root = await loggedIn(await peer(b), 'root');
    for (const cmd of ['broker_config', 'private_topics_config', 'shutdown', 'enable_debug', 'save_config']) {
      expect(await root.admin('__config__', { cmd })).toEqual([10, 'unauthorized']);
    }
    expect(await root.admin('news', { cmd: 'authorize', cid: 'root' })).toEqual([10, 'unauthorized']);
    expect(await root.admin('news', { cmd: 'private_topic' })).toEqual([10, 'unauthorized']);
    // Still public, still delivered: nothing the attacker sent took effect.
    const spy = collect(node.subscribe$('news'), 1);
    (await scope.connect(b, 'pub')).publish('news', 1);
    await spy.done;
    sub.unsubscribe();
  });

  it('does not bind an admin name with a key on file without the signature; the owner proves it and acts', async () => {
    const b = await scope.broker({ admins: ['ops'], security: memorySecurityStore({ keys: { ops: 'ops-secret' } }) });
    const attacker = await peer(b);
    expect((await attacker.login('ops')).status).toBe(11);
    // Challenge pending, not bound: the connection is anonymous and holds no rights.
    expect(await attacker.admin('__config__', { cmd: 'broker_config' })).toEqual([10, 'unauthorized']);
    expect((await attacker.login('ops', 'guess')).status).toBe(10);
    const ops = await loggedIn(await peer(b), 'ops', 'ops-secret');
    expect(await ops.admin('__config__', { cmd: 'broker_config' })).toEqual([0, { exposers: {}, subscribers: {} }]);
    expect(await ops.admin('vault', { cmd: 'authorize', cid: 'alice' })).toEqual([0, null]);
  });
});

describe('(b) a name that holds rights cannot be claimed', () => {
  const keys = { admin: 'admin-secret', boss: 'boss-secret' };
  let alice: { publicKey: string; privateKey: string };
  beforeAll(() => { alice = generateKeyPair('ecdsa'); });

  function rightsBroker(): Promise<Broker> {
    return scope.broker({ security: memorySecurityStore({
      tenants: { '.': PIN }, admins: ['admin', 'boss'], keys, topicAuth: { vault: ['alice', 'bob'] } }) });
  }

  it('grants an authorization nothing while the name is unproven: publish, subscribe, call, expose', async () => {
    const b = await rightsBroker();
    const fake = await loggedIn(await peer(b), 'alice'); // no key on file: binds, but unproven
    const ops = await loggedIn(await peer(b), 'admin', 'admin-secret');
    expect(await ops.admin('vault', { cmd: 'authorize', cid: 'listener' })).toEqual([0, null]);
    expect(await fake.admin('vault', { cmd: 'expose' })).toEqual([10, 'unauthorized']);
    expect(await fake.admin('vault', { cmd: 'subscribe', msg_from: 0 })).toEqual([0, null]);
    const call = await fake.call({ type: 'rpc', id: newMsgId(), topic: 'vault', target: null, args: [] });
    expect(call.status).toBe(10);
    // A proven subscriber of vault receives nothing the fake publishes, and the fake nothing published.
    // 'listener' holds rights now: the PIN alone no longer registers it.
    const taken = await register(`${b.url!}/listener`, { pin: PIN, key: alice.privateKey }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(AuthError);
    const admin = await scope.connect(b, 'boss', { key: 'boss-secret' });
    const got = collect(admin.subscribe$('vault'), 1);
    await roundTrip(admin);
    fake.raw.sendBinary(encodeCbor({ type: 'pub', flags: QOS1, id: newMsgId(), topic: 'vault', args: ['forged'] }));
    // The publish was handled before this answer (one link, in order), and got no ACK.
    const before = fake.raw.frames.length;
    await fake.call({ type: 'rpc', id: newMsgId(), topic: 'rid', target: null, args: [] });
    expect(fake.raw.frames).toHaveLength(before + 1);
    ops.raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'vault', args: ['real'] }));
    expect((await got.done).map((m) => m.args[0])).toEqual(['real']);
    await roundTrip(admin);
    expect(got.values).toHaveLength(1);
    expect(fake.raw.unread.map((f) => decodeCbor(f as Uint8Array).type)).toEqual([]);
  });

  it('refuses to register a name that holds rights with the PIN alone; a proven admin registers it; the owner then acts', async () => {
    const b = await rightsBroker();
    const err = await register(`${b.url!}/alice`, { pin: PIN, key: generateKeyPair('ecdsa').privateKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toContain('only an admin may register it');
    // The admin registers alice's public key over its own, proven connection (raw REGISTER).
    const ops = await loggedIn(await peer(b), 'admin', 'admin-secret');
    const reg = await ops.call({ type: 'register', id: newMsgId(), cid: 'alice', pin: PIN,
      pubkey: new Uint8Array(Buffer.from(alice.publicKey)), keyType: KEY_TYPE.ECDSA });
    expect([reg.status, reg.data]).toEqual([0, null]);
    // Now the name is taken: nobody can claim it with IDENTITY alone.
    expect((await (await peer(b)).login('alice')).status).toBe(11);
    const [owner, bob] = [await scope.connect(b, 'alice', { key: alice.privateKey }), await peer(b)];
    await loggedIn(bob, 'bob'); // bob is authorized too, but never proved: receives nothing
    expect(await bob.admin('vault', { cmd: 'subscribe', msg_from: 0 })).toEqual([0, null]);
    const admin = await scope.connect(b, 'boss', { key: 'boss-secret' });
    const got = collect(admin.subscribe$('vault'), 1);
    await roundTrip(admin);
    await owner.publishAsync('vault', ['from alice'], { qos: 1 });
    expect((await got.done).map((m) => m.args[0])).toEqual(['from alice']);
    await roundTrip(owner, admin);
    expect(bob.raw.unread).toEqual([]);
  });
});

describe('(c) tenants admit only proven names unless configured open', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-tenant-id-'));
    await mkdir(join(dir, 'broker', 'keys'), { recursive: true });
    await writeFile(join(dir, 'broker', 'tenants.json'), JSON.stringify({ acme: '1111', beta: '2222' }));
    await writeFile(join(dir, 'broker', 'keys', 'a.acme'), 'a-secret');
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('refuses an unregistered name of the tenant, and every request of an anonymous connection', async () => {
    const b = await scope.broker({ dataDir: dir });
    const owner = await scope.connect(b, 'a.acme', { key: 'a-secret' });
    owner.expose('svc', (x: unknown) => x);
    const mine = collect(owner.subscribe$('news'), 1);
    await roundTrip(owner);
    const spy = await peer(b);
    expect(await spy.login('spy.acme')).toMatchObject({ status: 10, data: 'authentication required' });
    // Still anonymous: no subscribe, no RPC, no publish reaches the tenant.
    expect(await spy.admin('news', { cmd: 'subscribe', msg_from: 0 })).toEqual([10, 'authentication required']);
    expect(await spy.admin('*', { cmd: 'subscribe', msg_from: 0 })).toEqual([10, 'authentication required']);
    const call = await spy.call({ type: 'rpc', id: newMsgId(), topic: 'svc', target: null, args: ['x'] });
    expect([call.status, call.data]).toEqual([10, 'authentication required']);
    spy.raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'news', args: ['forged'] }));
    const err = await scope.connect(b, 'spy.acme').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    owner.publish('news', 'own'); // no echo to the publisher: a second proven member receives it
    const peerOwner = await scope.connect(b, 'a.acme2').catch((e: unknown) => e);
    expect(peerOwner).toBeInstanceOf(AuthError); // 'acme2' is no configured tenant either
    await roundTrip(owner);
    expect(mine.values).toEqual([]);
    expect(spy.raw.unread).toEqual([]);
  });

  it('admits unproven names of a tenant configured open, still isolated from the others', async () => {
    const b = await scope.broker({ dataDir: dir, openTenants: ['beta'] });
    const guest = await scope.connect(b, 'guest.beta');
    const spy = await scope.connect(b, 'spy.acme').catch((e: unknown) => e);
    expect(spy).toBeInstanceOf(AuthError);
    const owner = await scope.connect(b, 'a.acme', { key: 'a-secret' });
    const seen = collect(guest.subscribe$('news'), 1);
    await roundTrip(guest);
    owner.publish('news', 'acme only');
    guest.publish('news', 'beta');
    await roundTrip(owner, guest);
    expect(seen.values).toEqual([]);
  });
});

describe("auth: 'required'", () => {
  it('serves only proven components; anonymous ones may register, then log in', async () => {
    const b = await scope.broker({ auth: 'required', security: memorySecurityStore({ tenants: { '.': PIN } }) });
    const err = await scope.connect(b, 'nobody').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AuthError', message: expect.stringContaining('authentication required') as unknown });
    const anonymous = await scope.connect(b);
    const call = await anonymous.rpc('rid').catch((e: unknown) => e);
    expect(call).toBeInstanceOf(RpcError);
    expect((call as RpcError).remoteCode).toBe(10);
    const pub = await anonymous.publishAsync('t', [1], { qos: 1 }).catch((e: unknown) => e);
    expect(pub).toBeInstanceOf(UnauthorizedError);
    expect((pub as UnauthorizedError).reason).toBe('authentication required: t');
    const key = generateKeyPair('rsa').privateKey;
    await register(`${b.url!}/alice`, { pin: PIN, key });
    const alice = await scope.connect(b, 'alice', { key });
    expect(await alice.rpc('rid')).toBe('broker');
  });

  it('closes a connection that proves no name within loginTimeout (1008); a proven one stays', async () => {
    const b = await scope.broker({ auth: 'required', loginTimeout: 150,
      security: memorySecurityStore({ keys: { ops: 'ops-secret' } }) });
    const idle = await peer(b);
    const named = await peer(b);
    expect((await named.login('nobody')).status).toBe(10);
    const ops = await loggedIn(await peer(b), 'ops', 'ops-secret');
    await Promise.all([idle.raw.closedAt, named.raw.closedAt]);
    expect([idle.raw.closeCode, named.raw.closeCode]).toEqual([1008, 1008]);
    // Well past the deadline: the proven connection still works.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await ops.call({ type: 'rpc', id: newMsgId(), topic: 'rid', target: null, args: [] })).data).toBe('broker');
  });

  it("still runs its own federation bridge: the in-process side of a join is the broker's own", async () => {
    const remote = await scope.broker({ name: 'remote' });
    const b = await scope.broker({ name: 'local', auth: 'required', join: [remote.url!],
      security: memorySecurityStore({ keys: { alice: 'a-secret' } }) });
    await firstValueFrom(b.links$.pipe(filter((l) => l.length > 0 && l.every((x) => x.status.type === 'up')), timeout(8_000)));
    const alice = await scope.connect(b, 'alice', { key: 'a-secret' });
    const got = collect(alice.subscribe$('fed/x'), 1, { timeout: 8_000 });
    await roundTrip(alice);
    const far = await scope.connect(remote, 'far');
    // The bridge learns the subscription asynchronously: publish until the first copy arrives.
    for (let i = 0; got.values.length === 0 && i < 80; i++) {
      far.publish('fed/x', i);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await got.done)[0]!.topic).toBe('fed/x');
  });

  it('listens on every interface by default only in required mode', () => {
    expect(defaultHost('required')).toBe('0.0.0.0');
    expect(defaultHost('optional')).toBe('127.0.0.1');
    expect(defaultHost(undefined)).toBe('127.0.0.1');
  });
});

describe('refusal notices (spec §6.2, TS extension)', () => {
  const setup = (): Promise<Broker> => scope.broker({ security: memorySecurityStore({ topicAuth: { vault: [] } }) });
  const qos1 = (): Msg => ({ type: 'pub', flags: QOS1, id: newMsgId(), topic: 'vault', args: [1] });

  it('sends a reference peer (which never asks) nothing for a refused QoS1 publish: no ACK, no RESPONSE', async () => {
    const b = await setup();
    const py = await loggedIn(await peer(b), 'py');
    expect(await py.admin('__config__', { cmd: 'reactive', status: true })).toEqual([0, null]);
    py.raw.sendBinary(encodeCbor(qos1()));
    const rid = await py.call({ type: 'rpc', id: newMsgId(), topic: 'rid', target: null, args: [] });
    expect(rid.data).toBe('broker');
    expect(py.raw.frames).toHaveLength(3); // identity, reactive and rid answers: nothing for the publish
  });

  it('answers a peer that asked with [4, id, 10, "unauthorized: <topic>"] at once', async () => {
    const b = await setup();
    const ts = await loggedIn(await peer(b), 'ts');
    expect(await ts.admin('__config__', { cmd: 'reactive', status: true, [REFUSALS_KEY]: true })).toEqual([0, null]);
    const msg = qos1();
    const resp = await ts.call(msg as Msg & { id: bigint });
    expect(resp).toMatchObject({ type: 'response', id: (msg as { id: bigint }).id, status: 10, data: 'unauthorized: vault' });
  });
});
