/**
 * The security provisioning of a cluster (README "Security in a cluster"): the component keys
 * (registered public keys and shared secrets) live in the JetStream KV bucket
 * `REMBUS_<c>_SECURITY`, so a name registered on one broker logs in on every other, an
 * UNREGISTER on one takes effect on all, and a name is claimed once in the whole cluster: a
 * REGISTER is a KV `create`, which JetStream accepts for one writer only (compare-and-set on the
 * key's last revision), whichever broker each REGISTER reached.
 *
 * A {@link SecurityStore} like the others, so the broker does not know it is shared: it wraps the
 * broker's own store (file store of `--data-dir`, or memory), which keeps the tenants and PINs
 * (per broker: provision them alike on every broker) and the key files an operator placed in
 * its `keys/` (they count on that broker, before the bucket). Admins and private topics are
 * shared through the same bucket by security-rights.ts.
 *
 * Every lookup reads the bucket (one NATS round trip per login of a named component), so no
 * broker holds a stale key; with NATS unreachable the lookup fails and the login is refused
 * (fail closed) rather than answered from a guess.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { errorText } from '../internal/logger.js';
import { parseKeyMaterial, type KeyMaterial } from '../security/crypto.js';
import { KeyExistsError } from '../security/errors.js';
import { validateKeyName } from '../security/names.js';
import type { SecurityStore } from '../security/types.js';
import type { Logger } from '../types.js';
import { SharedRights } from './security-rights.js';
import type { ClusterOptions } from './types.js';

/** The shared store and the NATS connection it holds. */
export interface SharedSecurity {
  readonly store: SecurityStore;
  /** Close the NATS connection. Idempotent. */
  close(): Promise<void>;
}

/** How long start-up waits for JetStream to answer, ms (a NATS cluster elects its leader first). */
const START_TIMEOUT_MS = 30_000;

/** The KV key of a component name: any name a key file may have, as KV key characters. */
export function keyOfName(cid: string): string {
  return `k.${Buffer.from(cid, 'utf8').toString('base64url')}`;
}

/**
 * Open (creating it if needed) the bucket `REMBUS_<name>_SECURITY` on its own NATS connection and
 * share the component keys of `base` through it.
 * @throws the NATS connect error when no server answers; the JetStream error when the bucket
 * cannot be opened within 30 s
 */
export async function openSharedSecurity(options: ClusterOptions, base: SecurityStore, log: Logger): Promise<SharedSecurity> {
  const bucket = `REMBUS_${options.name ?? 'default'}_SECURITY`;
  const nc = await connect({
    servers: typeof options.servers === 'string' ? options.servers : [...options.servers], name: `rembus-security-${bucket}`,
    maxReconnectAttempts: -1, reconnectTimeWait: 250,
    ...(options.user === undefined ? {} : { user: options.user, pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  try {
    const kv = await openBucket(nc, bucket, options.replicas ?? 1, log);
    const rights = new SharedRights(base, kv, log);
    await rights.start();
    let closing: Promise<void> | undefined;
    return {
      store: kvSecurityStore(base, kv, rights),
      close: () => closing ??= (async () => {
        rights.stop();
        await nc.drain().catch(() => nc.close());
      })(),
    };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

async function openBucket(nc: NatsConnection, bucket: string, replicas: number, log: Logger): Promise<KV> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      // `create` opens the bucket when another broker made it first.
      return await new Kvm(nc).create(bucket, { replicas, history: 1 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      log.debug({ bucket, err: errorText(err) }, 'JetStream not ready: retrying');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * `base` with its component keys held in `kv` (keys already on `base` count first, on this
 * broker), and its admins and private topics too when `rights` (started) follows the bucket.
 */
export function kvSecurityStore(base: SecurityStore, kv: KV, rights?: SharedRights): SecurityStore {
  return new KvSecurityStore(base, kv, rights ?? base);
}

/** Where admins and private topics are changed: the shared rights, or `base` alone. */
type Rights = Pick<SecurityStore, 'addAdmins' | 'makePrivate' | 'makePublic' | 'authorize' | 'unauthorize'> & { load?(): Promise<void> };

class KvSecurityStore implements SecurityStore {
  constructor(private readonly base: SecurityStore, private readonly kv: KV, private readonly rights: Rights) {}

  get dir(): string | undefined { return this.base.dir; }
  get multiTenant(): boolean { return this.base.multiTenant; }
  get hasPrivateTopics(): boolean { return this.base.hasPrivateTopics; }
  tenantOf(name: string): string { return this.base.tenantOf(name); }
  pinFor(tenant: string): string | undefined { return this.base.pinFor(tenant); }
  isAdmin(name: string): boolean { return this.base.isAdmin(name); }
  admins(): string[] { return this.base.admins(); }
  addAdmins(names: Iterable<string>): Promise<void> { return this.rights.addAdmins(names); }
  isPrivate(topic: string): boolean { return this.base.isPrivate(topic); }
  isAuthorized(name: string, topic: string): boolean { return this.base.isAuthorized(name, topic); }
  privateTopics(): Record<string, string[]> { return this.base.privateTopics(); }
  makePrivate(topic: string): Promise<void> { return this.rights.makePrivate(topic); }
  makePublic(topic: string): Promise<void> { return this.rights.makePublic(topic); }
  authorize(topic: string, cid: string): Promise<void> { return this.rights.authorize(topic, cid); }
  unauthorize(topic: string, cid: string): Promise<void> { return this.rights.unauthorize(topic, cid); }

  /** Re-read the files, then apply the bucket again (it wins over the files). */
  async reload(): Promise<void> {
    await this.base.reload();
    await this.rights.load?.();
  }
  save(): Promise<void> { return this.base.save(); }

  async keyFor(cid: string): Promise<KeyMaterial | undefined> {
    const local = await this.base.keyFor(cid);
    if (local !== undefined) return local;
    const entry = await this.kv.get(keyOfName(validateKeyName(cid)));
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return parseKeyMaterial(entry.value);
  }

  /** A KV `create`: of two brokers saving one name at once, exactly one succeeds. */
  async saveKey(cid: string, bytes: Uint8Array, _keyType: number): Promise<string> {
    const key = keyOfName(validateKeyName(cid));
    if (await this.base.keyFor(cid) !== undefined) throw new KeyExistsError(cid);
    try {
      await this.kv.create(key, Uint8Array.from(bytes));
    } catch (err) {
      // The key's last revision was not 0 (or a delete marker): another writer was first.
      if (await this.kv.get(key).then((e) => e?.operation === 'PUT', () => false)) throw new KeyExistsError(cid, { cause: err });
      throw err;
    }
    return `kv:${key}`;
  }

  async deleteKey(cid: string): Promise<boolean> {
    const key = keyOfName(validateKeyName(cid));
    const entry = await this.kv.get(key);
    const shared = entry !== null && entry.operation === 'PUT';
    if (shared) await this.kv.delete(key);
    const local = await this.base.deleteKey(cid);
    return shared || local;
  }
}
