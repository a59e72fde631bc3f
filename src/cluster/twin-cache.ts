/**
 * The twin records of a cluster's bucket (twin-kv.ts), kept current by a KV watch, so a login
 * reads them without waiting on NATS. Bounded: past {@link CACHE_CAPACITY} records the least
 * recently written go (their logins fall back to the broker's own twin). A watch lost with
 * NATS is started again (it begins with every current value).
 */
import type { KV } from '@nats-io/kv';
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

  constructor(private readonly kv: KV, private readonly log: Logger, private readonly capacity = CACHE_CAPACITY) {
    void this.watch();
  }

  /** The record of `name` and its revision, if known. */
  get(name: string): { readonly rec: SharedTwin; readonly rev: number } | undefined {
    return this.records.get(name);
  }

  private async watch(): Promise<void> {
    try {
      const iter = await this.kv.watch({ key: '>' });
      this.watcher = iter;
      if (this.closed) iter.stop();
      for await (const e of iter) {
        const name = nameOf(e.key);
        this.records.delete(name);
        if (e.operation !== 'PUT') continue;
        try {
          this.records.set(name, { rec: e.json<SharedTwin>(), rev: e.revision });
        } catch {
          this.log.warn({ cid: name }, 'unreadable twin record ignored');
        }
        if (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value!);
      }
    } catch (err) {
      this.log.debug({ err: errorText(err) }, 'twin watch lost: resuming');
    }
    if (!this.closed) this.retry = setTimeout(() => void this.watch(), 250);
  }

  /** Stop watching. Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.watcher?.stop();
  }
}
