/**
 * The security provisioning of a broker in JL's file-store layout (spec §3.3, §3.5, §6.1, §6.2),
 * under the broker's data directory:
 *
 * ```
 * tenants.json      { "<tenant>": "<pin>" }     tenant "." for single-tenant setups
 * admins.json       ["name", ...]
 * topic_auth.json   { "<topic>": ["name", ...] }
 * keys/<cid>.<rsa|ecdsa>.<pem|der>               public keys; bare keys/<cid> = shared secret
 * ```
 *
 * The JSON files are held in memory, so every decision (`isAdmin`, `isPrivate`, …) is
 * synchronous and a change takes effect at once; each change is then written atomically
 * (temporary file + rename). Key files are read when needed, so keys dropped into `keys/` by an
 * operator count without a restart. The only module of src/security that touches the disk.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_TYPE, parseKeyMaterial, type KeyMaterial } from './crypto.js';
import { KeyExistsError, SecurityConfigError } from './errors.js';
import { DEFAULT_TENANT, tenantOf, validateKeyName } from './names.js';
import { parseAdmins, parseTenants, parseTopicAuth } from './provisioning.js';
import { TopicAuthRules } from './topic-auth.js';
import type { SecurityStore } from './types.js';

export const TENANTS_FILE = 'tenants.json';
export const ADMINS_FILE = 'admins.json';
export const TOPIC_AUTH_FILE = 'topic_auth.json';
export const KEYS_DIR = 'keys';

/** JL's lookup order of a name's key file; the bare file (shared secret) comes last. */
const KEY_SUFFIXES = ['.rsa.pem', '.ecdsa.pem', '.rsa.der', '.ecdsa.der', ''];

/**
 * Open the provisioning files of a broker directory. Missing files count as empty.
 * @example
 * ```ts
 * import { openSecurityStore } from 'rembus/broker';
 * const store = await openSecurityStore('/var/lib/rembus/broker');
 * await store.addAdmins(['ops']);
 * ```
 * @throws SecurityConfigError naming the file that is unreadable or malformed
 */
export async function openSecurityStore(dir: string): Promise<SecurityStore> {
  const store = new FileSecurityStore(dir);
  await store.reload();
  return store;
}

class FileSecurityStore extends TopicAuthRules implements SecurityStore {
  private tenants = new Map<string, string>();
  private adminSet = new Set<string>();
  /** Names with a saveKey in flight: two REGISTERs of one name must not both succeed. */
  private readonly saving = new Set<string>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {
    super();
  }

  /** Cached: read on every publish by the broker's fast path; tenants change only on reload. */
  private isolated = false;

  get multiTenant(): boolean { return this.isolated; }


  tenantOf(name: string): string { return tenantOf(name); }
  pinFor(tenant: string): string | undefined { return this.tenants.get(tenant); }
  isAdmin(name: string): boolean { return this.adminSet.has(name); }
  admins(): string[] { return [...this.adminSet]; }

  addAdmins(names: Iterable<string>): Promise<void> {
    for (const name of names) this.adminSet.add(name);
    return this.persist(ADMINS_FILE, () => this.admins());
  }

  async keyFor(cid: string): Promise<KeyMaterial | undefined> {
    for (const file of this.keyFiles(cid)) {
      const bytes = await readFile(file).catch(ignoreMissing);
      if (bytes !== undefined) return parseKeyMaterial(bytes);
    }
    return undefined;
  }

  async saveKey(cid: string, bytes: Uint8Array, keyType: number): Promise<string> {
    validateKeyName(cid);
    if (this.saving.has(cid)) throw new KeyExistsError(cid);
    this.saving.add(cid);
    const dir = join(this.dir, KEYS_DIR);
    const file = join(dir, `${cid}.${keyType === KEY_TYPE.RSA ? 'rsa' : 'ecdsa'}.${isPem(bytes) ? 'pem' : 'der'}`);
    const tmp = join(dir, `.tmp-${randomUUID()}`);
    try {
      for (const existing of this.keyFiles(cid)) {
        if (await stat(existing).catch(ignoreMissing) !== undefined) throw new KeyExistsError(cid);
      }
      await writeSynced(tmp, bytes, 0o600);
      // link() fails on an existing target, unlike rename(): no window for a second writer.
      await link(tmp, file).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') throw new KeyExistsError(cid, { cause: err });
        await rename(tmp, file); // file systems without hard links
      });
      return file;
    } finally {
      this.saving.delete(cid);
      await rm(tmp, { force: true });
    }
  }

  async deleteKey(cid: string): Promise<boolean> {
    let deleted = false;
    for (const file of this.keyFiles(cid)) {
      if (await rm(file).then(() => true, ignoreMissing)) deleted = true;
    }
    return deleted;
  }



  async reload(): Promise<void> {
    const [tenants, admins, topicAuth] = await Promise.all([
      this.readJson(TENANTS_FILE, parseTenants), this.readJson(ADMINS_FILE, parseAdmins),
      this.readJson(TOPIC_AUTH_FILE, parseTopicAuth),
    ]);
    this.tenants = tenants ?? new Map();
    this.isolated = [...this.tenants.keys()].some((tenant) => tenant !== DEFAULT_TENANT);
    this.adminSet = admins ?? new Set();
    this.topicAuth = topicAuth ?? new Map();
  }

  async save(): Promise<void> {
    await Promise.all([
      this.persist(TENANTS_FILE, () => Object.fromEntries(this.tenants)),
      this.persist(ADMINS_FILE, () => this.admins()),
      this.persistTopicAuth(),
    ]);
  }

  private keyFiles(cid: string): string[] {
    const base = join(this.dir, KEYS_DIR, validateKeyName(cid));
    return KEY_SUFFIXES.map((suffix) => base + suffix);
  }

  protected persistTopicAuth(): Promise<void> {
    return this.persist(TOPIC_AUTH_FILE, () => this.privateTopics());
  }

  /** Writes of one file run one after the other, each with the state current when it starts. */
  private persist(name: string, snapshot: () => unknown): Promise<void> {
    const write = async (): Promise<void> => {
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `.${name}.${randomUUID()}.tmp`);
      try {
        await writeSynced(tmp, Buffer.from(`${JSON.stringify(snapshot(), null, 2)}\n`), 0o600);
        await rename(tmp, join(this.dir, name));
      } finally {
        await rm(tmp, { force: true });
      }
    };
    const next = (this.writes.get(name) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.writes.set(name, next);
    return next;
  }

  private async readJson<T>(name: string, parse: (value: unknown) => T): Promise<T | undefined> {
    const file = join(this.dir, name);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8').catch(ignoreMissing);
    } catch (err) {
      throw new SecurityConfigError(file, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new SecurityConfigError(file, `invalid JSON: ${(err as Error).message}`, { cause: err });
    }
    try {
      return parse(value);
    } catch (err) {
      throw new SecurityConfigError(file, (err as Error).message, { cause: err });
    }
  }
}

function isPem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 10)).toString('latin1') === '-----BEGIN';
}

/** Write and fsync a new file, so the rename that publishes it never exposes a torn file. */
async function writeSynced(file: string, data: Uint8Array, mode: number): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `catch` handler: a missing file (or a directory where a file was looked for) is undefined. */
function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'ENOTDIR') return undefined;
  throw err;
}
