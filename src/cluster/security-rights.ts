/**
 * Admins and private topics shared by the brokers of a cluster, in the security bucket next to
 * the component keys (security-kv.ts): key `a.<name>` for an admin, `t.<topic>` (JSON array of
 * authorized names) for a private topic. The broker decides on them synchronously, so each
 * broker keeps them in its own store (`base`, which persists them as it always does) and
 * follows the bucket: a change made on one broker (admin commands, `--admin`) reaches every
 * other within a NATS round trip. Names and topics are base64url-encoded in the keys.
 *
 * Start: what `base` holds and the bucket does not is added to the bucket (the first broker
 * seeds the cluster from its files), then the bucket is loaded into `base`, then followed.
 * Concurrent authorizations of one topic on two brokers are both kept (compare-and-set on the
 * topic's revision, retried).
 */
import type { KV, KvEntry } from '@nats-io/kv';
import { errorText } from '../internal/logger.js';
import type { SecurityStore } from '../security/types.js';
import type { Logger } from '../types.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string): string => Buffer.from(s, 'base64url').toString('utf8');
export const adminKey = (name: string): string => `a.${b64(name)}`;
export const topicKey = (topic: string): string => `t.${b64(topic)}`;
const ONE = new TextEncoder().encode('1');
const json = (names: Iterable<string>): Uint8Array => new TextEncoder().encode(JSON.stringify([...new Set(names)].sort()));
/** Attempts of one compare-and-set before giving up. */
const CAS_ATTEMPTS = 20;

export class SharedRights {
  private watching: { stop(): void } | undefined;

  constructor(private readonly base: SecurityStore, private readonly kv: KV, private readonly log: Logger) {}

  async start(): Promise<void> {
    for (const name of this.base.admins()) await this.kv.create(adminKey(name), ONE).catch(() => undefined);
    for (const [topic, names] of Object.entries(this.base.privateTopics())) {
      await this.kv.create(topicKey(topic), json(names)).catch(() => undefined);
    }
    await this.load();
    // Replays the last values (applied again: idempotent), then every change.
    const updates = await this.kv.watch({ key: '>' });
    this.watching = updates;
    void (async () => {
      for await (const e of updates) await this.apply(e).catch((err: unknown) => this.log.warn({ key: e.key, err: errorText(err) }, 'shared security change not applied'));
    })();
  }

  /** Apply the whole bucket to `base` (start, and after `reload` re-read the files). */
  async load(): Promise<void> {
    for await (const key of await this.kv.keys()) {
      if (!key.startsWith('a.') && !key.startsWith('t.')) continue;
      const e = await this.kv.get(key);
      if (e !== null) await this.apply(e);
    }
  }

  private async apply(e: KvEntry): Promise<void> {
    const put = e.operation === 'PUT';
    if (e.key.startsWith('a.')) {
      const name = unb64(e.key.slice(2));
      if (put && !this.base.isAdmin(name)) await this.base.addAdmins([name]);
      return;
    }
    if (!e.key.startsWith('t.')) return;
    const topic = unb64(e.key.slice(2));
    if (!put) {
      if (this.base.isPrivate(topic)) await this.base.makePublic(topic);
      return;
    }
    const names = new Set(e.json<string[]>());
    if (!this.base.isPrivate(topic)) await this.base.makePrivate(topic);
    const current = new Set(this.base.privateTopics()[topic] ?? []);
    for (const n of names) if (!current.has(n)) await this.base.authorize(topic, n);
    for (const n of current) if (!names.has(n)) await this.base.unauthorize(topic, n);
  }

  async addAdmins(names: Iterable<string>): Promise<void> {
    const list = [...names];
    for (const name of list) await this.kv.put(adminKey(name), ONE);
    await this.base.addAdmins(list);
  }

  async makePrivate(topic: string): Promise<void> {
    await this.kv.create(topicKey(topic), json([])).catch(async (err: unknown) => {
      if ((await this.kv.get(topicKey(topic)))?.operation !== 'PUT') throw err;
    });
    await this.base.makePrivate(topic);
  }

  async makePublic(topic: string): Promise<void> {
    await this.kv.delete(topicKey(topic));
    await this.base.makePublic(topic);
  }

  async authorize(topic: string, cid: string): Promise<void> {
    await this.change(topic, (names) => names.add(cid), true);
    await this.base.authorize(topic, cid);
  }

  async unauthorize(topic: string, cid: string): Promise<void> {
    await this.change(topic, (names) => { names.delete(cid); return names; }, false);
    await this.base.unauthorize(topic, cid);
  }

  /** Compare-and-set the names of `topic`; `create` when it is not private yet. */
  private async change(topic: string, edit: (names: Set<string>) => Set<string>, create: boolean): Promise<void> {
    const key = topicKey(topic);
    for (let attempt = 0; ; attempt++) {
      const e = await this.kv.get(key);
      try {
        if (e === null || e.operation !== 'PUT') {
          if (!create) return;
          await this.kv.create(key, json(edit(new Set())));
        } else {
          await this.kv.update(key, json(edit(new Set(e.json<string[]>()))), e.revision);
        }
        return;
      } catch (err) {
        if (attempt >= CAS_ATTEMPTS) throw err; // another broker changed it meanwhile: read again
      }
    }
  }

  stop(): void {
    this.watching?.stop();
  }
}
