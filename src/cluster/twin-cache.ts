/**
 * The twin records of a cluster's bucket (twin-kv.ts), kept current by a KV watch, so a login
 * reads them without waiting on NATS. Bounded: past {@link CACHE_CAPACITY} records the least
 * recently written go (their logins fall back to the broker's own twin). A watch lost with
 * NATS is started again (it begins with every current value).
 *
 * {@link loaded} tells when the first watch has delivered every record the bucket held when it
 * started (up to the bucket's last revision then): a broker that has just joined waits for it
 * before serving logins (cluster.ts), or it would take a component that moved there for a new one.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';
import type { SharedTwin } from './twin-kv.js';

export const CACHE_CAPACITY = 200_000;

const nameOf = (key: string): string => Buffer.from(key, 'base64url').toString('utf8');

export class TwinCache {
  private readonly records = new Map<string, { rec: SharedTwin; rev: number }>();
  private watcher: { stop(): void } | undefined;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private isLoaded = false;
  private markLoaded!: () => void;
  private readonly initial = new Promise<void>((resolve) => { this.markLoaded = resolve; });

  constructor(private readonly kv: KV, private readonly log: Logger, private readonly capacity = CACHE_CAPACITY) {
    void this.watch();
  }

  /**
   * Resolves true once every record the bucket held when the watch started is cached, false
   * when that takes longer than `timeout` ms or the cache is closed first.
   */
  loaded(timeout: number): Promise<boolean> {
    if (this.isLoaded) return Promise.resolve(true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([this.initial.then(() => this.isLoaded),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeout); })])
      .finally(() => clearTimeout(timer));
  }

  /** The record of `name` and its revision, if known. */
  get(name: string): { readonly rec: SharedTwin; readonly rev: number } | undefined {
    return this.records.get(name);
  }

  private async watch(): Promise<void> {
    try {
      // The revision the initial load ends at: the watch delivers the last value of every key in revision order.
      const status = await this.kv.status();
      const upTo = status.values === 0 ? 0 : status.streamInfo.state.last_seq;
      const iter = await this.kv.watch({ key: '>' });
      this.watcher = iter;
      if (this.closed) iter.stop();
      if (upTo === 0) this.load();
      for await (const e of iter) {
        this.apply(e);
        if (e.revision >= upTo) this.load();
      }
    } catch (err) {
      this.log.debug({ err: errorText(err) }, 'twin watch lost: resuming');
    }
    if (!this.closed) this.retry = setTimeout(() => void this.watch(), 250);
  }

  private apply(e: KvWatchEntry): void {
    const name = nameOf(e.key);
    this.records.delete(name);
    if (e.operation !== 'PUT') return;
    try {
      this.records.set(name, { rec: e.json<SharedTwin>(), rev: e.revision });
    } catch {
      this.log.warn({ cid: name }, 'unreadable twin record ignored');
    }
    if (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value!);
  }

  private load(): void {
    if (this.isLoaded) return;
    this.isLoaded = true;
    this.markLoaded();
  }

  /** Stop watching. Idempotent. */
  close(): void {
    this.closed = true;
    this.markLoaded();
    clearTimeout(this.retry);
    this.watcher?.stop();
  }
}
