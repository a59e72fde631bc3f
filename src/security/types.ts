/** Public contracts of the security layer (pure types). */
import type { KeyMaterial } from './crypto.js';

/** Provisioning of one broker: tenants, admins, private topics and component keys. */
export interface SecurityStore {
  /** The broker directory the files live in; undefined for an in-memory store. */
  readonly dir: string | undefined;
  /** True when tenants other than `'.'` are configured: tenants are then isolated. */
  readonly multiTenant: boolean;
  /** The tenant of a name (spec §1.2). */
  tenantOf(name: string): string;
  /** The registration PIN of a tenant, or undefined when the tenant is not enabled. */
  pinFor(tenant: string): string | undefined;
  isAdmin(name: string): boolean;
  admins(): string[];
  /** Add admins and persist `admins.json`. */
  addAdmins(names: Iterable<string>): Promise<void>;
  /** The parsed key file of `cid`, or undefined when none. @throws InvalidNameError */
  keyFor(cid: string): Promise<KeyMaterial | undefined>;
  /** Store a registered public key; resolves with its path. @throws InvalidNameError, KeyExistsError */
  saveKey(cid: string, bytes: Uint8Array, keyType: number): Promise<string>;
  /** Remove every key file of `cid`; resolves false when there was none. @throws InvalidNameError */
  deleteKey(cid: string): Promise<boolean>;
  /**
   * True when some topic is private. With it false and `multiTenant` false every topic is open
   * to everyone, and the broker skips all per-subscriber checks (its fast path).
   */
  readonly hasPrivateTopics: boolean;
  /** A topic is private when it has a topic-auth entry, even an empty one (spec §6.2). */
  isPrivate(topic: string): boolean;
  isAuthorized(name: string, topic: string): boolean;
  /** `{ topic: [names] }`, the JL `private_topics_config` answer. */
  privateTopics(): Record<string, string[]>;
  makePrivate(topic: string): Promise<void>;
  makePublic(topic: string): Promise<void>;
  /** Allow `cid` on `topic`, making it private if it was not. */
  authorize(topic: string, cid: string): Promise<void>;
  unauthorize(topic: string, cid: string): Promise<void>;
  /** Re-read the JSON files (JL `load_config`); on error the current state is kept. @throws SecurityConfigError */
  reload(): Promise<void>;
  /** Write every JSON file (JL `save_config`). */
  save(): Promise<void>;
}
