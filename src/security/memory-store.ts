/**
 * A {@link SecurityStore} held in memory: the provisioning of a broker without a data directory
 * (tests, embedded brokers). Empty by default — no tenants, no admins, no private topics, no
 * keys — which leaves every name and topic open, as a broker without security is.
 */
import { parseKeyMaterial, type KeyMaterial } from './crypto.js';
import { KeyExistsError } from './errors.js';
import { DEFAULT_TENANT, tenantOf, validateKeyName } from './names.js';
import { TopicAuthRules } from './topic-auth.js';
import type { SecurityStore } from './types.js';

/** Initial content of {@link memorySecurityStore}; every field defaults to empty. */
export interface MemorySecurityConfig {
  /** `{ tenant: pin }`, as `tenants.json`; tenant `'.'` for names without a dot. */
  tenants?: Record<string, string>;
  /** Admin names, as `admins.json`. */
  admins?: Iterable<string>;
  /** `{ topic: [authorized names] }`, as `topic_auth.json`. */
  topicAuth?: Record<string, string[]>;
  /** `{ cid: key file content }`: a public key (PEM or DER) or the text of a shared secret. */
  keys?: Record<string, string | Uint8Array>;
}

/**
 * An in-memory security store. `load_config`/`save_config` have nothing to read or write and
 * keep the current state.
 * @example
 * ```ts
 * import { broker, memorySecurityStore } from 'rembus/broker';
 * const b = await broker({ security: memorySecurityStore({ tenants: { '.': '11223344' }, admins: ['ops'] }) });
 * ```
 * @see openSecurityStore for the file-backed store of a broker directory
 */
export function memorySecurityStore(config: MemorySecurityConfig = {}): SecurityStore {
  return new MemorySecurityStore(config);
}

class MemorySecurityStore extends TopicAuthRules implements SecurityStore {
  readonly dir = undefined;
  private readonly tenants: Map<string, string>;
  private readonly adminSet: Set<string>;
  private readonly keys = new Map<string, Uint8Array>();
  readonly multiTenant: boolean;

  constructor(config: MemorySecurityConfig) {
    super();
    this.tenants = new Map(Object.entries(config.tenants ?? {}));
    this.multiTenant = [...this.tenants.keys()].some((tenant) => tenant !== DEFAULT_TENANT);
    this.adminSet = new Set(config.admins ?? []);
    this.topicAuth = new Map(Object.entries(config.topicAuth ?? {}).map(([topic, names]) => [topic, new Set(names)]));
    for (const [cid, key] of Object.entries(config.keys ?? {})) {
      this.keys.set(cid, typeof key === 'string' ? new TextEncoder().encode(key) : key);
    }
  }

  tenantOf(name: string): string { return tenantOf(name); }
  pinFor(tenant: string): string | undefined { return this.tenants.get(tenant); }
  isAdmin(name: string): boolean { return this.adminSet.has(name); }
  admins(): string[] { return [...this.adminSet]; }

  addAdmins(names: Iterable<string>): Promise<void> {
    for (const name of names) this.adminSet.add(name);
    return Promise.resolve();
  }

  keyFor(cid: string): Promise<KeyMaterial | undefined> {
    const bytes = this.keys.get(cid);
    return Promise.resolve(bytes === undefined ? undefined : parseKeyMaterial(bytes));
  }

  saveKey(cid: string, bytes: Uint8Array, _keyType: number): Promise<string> {
    try {
      // The same names as the file store accepts, so a setup behaves alike in memory and on disk.
      validateKeyName(cid);
      if (this.keys.has(cid)) throw new KeyExistsError(cid);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.keys.set(cid, Uint8Array.from(bytes));
    return Promise.resolve(`memory:${cid}`);
  }

  deleteKey(cid: string): Promise<boolean> {
    return Promise.resolve(this.keys.delete(cid));
  }



  protected persistTopicAuth(): Promise<void> { return Promise.resolve(); }

  reload(): Promise<void> { return Promise.resolve(); }
  save(): Promise<void> { return Promise.resolve(); }
}
