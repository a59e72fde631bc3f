/**
 * The security provisioning shared by the brokers of a cluster (README "Security in a cluster"):
 * a name registered on broker a logs in on broker b, an UNREGISTER on a takes effect on b, a
 * registered name cannot be claimed without its key on another broker, and of two brokers
 * registering one name at once exactly one wins (KV create).
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { kvSecurityStore, keyOfName } from '../../src/cluster/security-kv.js';
import { AuthError, register, unregister } from '../../src/index.js';
import { generateKeyPair, KEY_TYPE } from '../../src/security/crypto.js';
import { KeyExistsError } from '../../src/security/errors.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { silentLogger as silent } from '../../src/internal/logger.js';
import { rejection, useScope, waitFor } from '../integration/helpers.js';
import { loggedIn, rawPeer } from '../integration/security-peer.js';
import { SharedRights } from '../../src/cluster/security-rights.js';
import { startNats, type NatsCluster } from './nats.js';

const scope = useScope();
const PIN = '11223344';
let nats: NatsCluster;
let n = 0;
type KeyPair = { publicKey: string; privateKey: string };
let alice: KeyPair;
let mallory: KeyPair;

beforeAll(async () => {
  nats = await startNats(1);
  alice = generateKeyPair('ecdsa');
  mallory = generateKeyPair('ecdsa');
}, 30_000);
afterAll(async () => { await nats?.close(); });

/** Two brokers of a fresh cluster, each with its own (empty) provisioning and one PIN. */
async function pair(auth: 'optional' | 'required' = 'required'): Promise<[Broker, Broker]> {
  const cluster = { servers: nats.urls, name: `sec${process.pid}_${++n}`, advertiseInterval: 200 };
  const make = (name: string): Promise<Broker> => scope.broker({ name, auth, cluster,
    security: memorySecurityStore({ tenants: { '.': PIN } }) });
  return [await make('a'), await make('b')];
}

/** `promise`'s rejection, which must be an AuthError. */
const refusal = (promise: Promise<unknown>): Promise<AuthError> => rejection(promise, AuthError);

describe('security shared in a KV bucket', () => {
  it('logs a name registered on broker a in on broker b, and refuses it there without its key', async () => {
    const [a, b] = await pair();
    await register(`${a.url!}/alice`, { pin: PIN, key: alice.privateKey });
    const there = await scope.connect(b, 'alice', { key: alice.privateKey });
    expect(await there.rpc('rid')).toBe('b');
    await there.close();
    // Claimed on b without the key, with another key, or registered again over b.
    expect((await refusal(scope.connect(b, 'alice'))).remoteCode).toBe(11);
    expect((await refusal(scope.connect(b, 'alice', { key: mallory.privateKey }))).remoteCode).toBe(10);
    expect((await refusal(register(`${b.url!}/alice`, { pin: PIN, key: mallory.privateKey }))).remoteCode).toBe(60);
    // The owner still logs in on a.
    const here = await scope.connect(a, 'alice', { key: alice.privateKey });
    expect(await here.rpc('rid')).toBe('a');
  }, 30_000);

  it('refuses on broker b a name unregistered on broker a, which is then free to register again', async () => {
    const [a, b] = await pair();
    await register(`${a.url!}/alice`, { pin: PIN, key: alice.privateKey });
    const owner = await scope.connect(a, 'alice', { key: alice.privateKey });
    await unregister(owner);
    await owner.close();
    // auth 'required': without a key on file the name cannot log in at all.
    const err = await refusal(scope.connect(b, 'alice', { key: alice.privateKey }));
    expect(err.remoteCode).toBe(10);
    expect(err.message).toContain('authentication required');
    await register(`${b.url!}/alice`, { pin: PIN, key: mallory.privateKey });
    expect((await refusal(scope.connect(a, 'alice', { key: alice.privateKey }))).remoteCode).toBe(10);
    const next = await scope.connect(a, 'alice', { key: mallory.privateKey });
    expect(await next.rpc('rid')).toBe('a');
  }, 30_000);

  it('lets exactly one of two brokers registering one name at once win', async () => {
    const [a, b] = await pair();
    const keys = [generateKeyPair('ecdsa'), generateKeyPair('ecdsa')];
    for (let i = 0; i < 8; i++) {
      const name = `race${i}`;
      const outcomes = await Promise.allSettled([
        register(`${a.url!}/${name}`, { pin: PIN, key: keys[0]!.privateKey }),
        register(`${b.url!}/${name}`, { pin: PIN, key: keys[1]!.privateKey }),
      ]);
      const won = outcomes.findIndex((o) => o.status === 'fulfilled');
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const lost = outcomes[1 - won] as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({ remoteCode: 60 });
      // The winner's key is the one on both brokers.
      for (const br of [a, b]) {
        const c = await scope.connect(br, name, { key: keys[won]!.privateKey });
        await c.close();
        await refusal(scope.connect(br, name, { key: keys[1 - won]!.privateKey }));
      }
    }
  }, 60_000);

  it('shares admins and private topics: an admin of broker a is one on b, and its private_topic / authorize there reach a', async () => {
    const cluster = { servers: nats.urls, name: `sec${process.pid}_${++n}`, advertiseInterval: 200 };
    const keys = { ops: 'ops-secret' };
    const a = await scope.broker({ name: 'a', cluster, security: memorySecurityStore({ admins: ['ops'], keys }) });
    const b = await scope.broker({ name: 'b', cluster, security: memorySecurityStore({ keys }) });
    const opsOn = async (br: Broker) => {
      const peer = await loggedIn(rawPeer(await scope.raw(br)), 'ops', 'ops-secret');
      return (topic: string, cmd: Record<string, unknown>) => peer.admin(topic, cmd);
    };
    const onB = await opsOn(b);
    expect(await onB('secret', { cmd: 'private_topic' })).toEqual([0, null]);
    expect(await onB('secret', { cmd: 'authorize', cid: 'alice' })).toEqual([0, null]);
    expect(await onB('open', { cmd: 'private_topic' })).toEqual([0, null]);
    expect(await onB('open', { cmd: 'public_topic' })).toEqual([0, null]);
    const onA = await opsOn(a);
    await waitFor(async () => JSON.stringify(await onA('__config__', { cmd: 'private_topics_config' }))
      === JSON.stringify([0, { secret: ['alice'] }]), { timeout: 5_000, what: 'b\'s private topics on a' });
    expect(await onA('secret', { cmd: 'unauthorize', cid: 'alice' })).toEqual([0, null]);
    await waitFor(async () => JSON.stringify(await onB('__config__', { cmd: 'private_topics_config' }))
      === JSON.stringify([0, { secret: [] }]), { timeout: 5_000, what: 'a\'s unauthorize on b' });
    // A name that is no admin anywhere is none on b either.
    const user = await loggedIn(rawPeer(await scope.raw(b)), 'user');
    expect(await user.admin('secret', { cmd: 'public_topic' })).toEqual([10, 'unauthorized']);
  }, 30_000);

  it('fails closed while NATS is down: a registered name is refused, anonymous components still served; back with NATS', async () => {
    const [a, b] = await pair('optional');
    await register(`${a.url!}/alice`, { pin: PIN, key: alice.privateKey });
    await nats.kill(nats.nodes[0]!);
    try {
      const err = await refusal(scope.connect(b, 'alice', { key: alice.privateKey }));
      expect(err.remoteCode).toBe(10);
      // Nor may anyone take the name unproven while the bucket cannot be read.
      expect((await refusal(scope.connect(b, 'alice'))).remoteCode).toBe(10);
      const anonymous = await scope.connect(b);
      expect(await anonymous.rpc('rid')).toBe('b');
    } finally {
      await nats.restart(nats.nodes[0]!);
    }
    await waitFor(async () => {
      const c = await scope.connect(b, 'alice', { key: alice.privateKey }).catch(() => undefined);
      await c?.close();
      return c !== undefined;
    }, { timeout: 30_000, interval: 500, what: 'alice to log in once NATS is back' });
  }, 60_000);

  it('saves a name once when two stores on two NATS connections race for it (store level, 20 rounds)', async () => {
    const bucket = `REMBUS_sec${process.pid}_${++n}_SECURITY`;
    const [nc1, nc2] = await Promise.all([natsConnect({ servers: nats.urls }), natsConnect({ servers: nats.urls })]);
    try {
      const s1 = kvSecurityStore(memorySecurityStore(), await new Kvm(nc1).create(bucket));
      const s2 = kvSecurityStore(memorySecurityStore(), await new Kvm(nc2).open(bucket));
      const pem = (k: KeyPair): Uint8Array => new TextEncoder().encode(k.publicKey);
      for (let i = 0; i < 20; i++) {
        const cid = `n${i}.with dots/and spaces`.replace('/', '_');
        const outcomes = await Promise.allSettled([s1.saveKey(cid, pem(alice), KEY_TYPE.ECDSA), s2.saveKey(cid, pem(mallory), KEY_TYPE.ECDSA)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(KeyExistsError);
        const [k1, k2] = await Promise.all([s1.keyFor(cid), s2.keyFor(cid)]);
        expect(k1).toEqual(k2);
      }
      // Deleted on one, gone on the other; then free again (create over the delete marker).
      expect(await s1.deleteKey('n0.with dots_and spaces')).toBe(true);
      expect(await s2.keyFor('n0.with dots_and spaces')).toBeUndefined();
      expect(await s2.deleteKey('n0.with dots_and spaces')).toBe(false);
      await s2.saveKey('n0.with dots_and spaces', pem(mallory), KEY_TYPE.ECDSA);
      await expect(s1.saveKey('n0.with dots_and spaces', pem(alice), KEY_TYPE.ECDSA)).rejects.toBeInstanceOf(KeyExistsError);
      expect(keyOfName('a.b')).toMatch(/^k\.[A-Za-z0-9_-]+$/u);
      // Two brokers authorizing different names on one topic at once: both kept (CAS, retried).
      const r1 = new SharedRights(memorySecurityStore(), await new Kvm(nc1).open(bucket), silent);
      const r2 = new SharedRights(memorySecurityStore(), await new Kvm(nc2).open(bucket), silent);
      await Promise.all([r1.start(), r2.start()]);
      try {
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? r1 : r2).authorize('shared', `name${i}`)));
        const s3 = memorySecurityStore();
        const r3 = new SharedRights(s3, await new Kvm(nc1).open(bucket), silent);
        await r3.start();
        r3.stop();
        expect(s3.privateTopics()).toEqual({ shared: Array.from({ length: 10 }, (_, i) => `name${i}`).sort() });
      } finally {
        r1.stop();
        r2.stop();
      }
    } finally {
      await Promise.all([nc1.close(), nc2.close()]);
    }
  }, 30_000);
});
