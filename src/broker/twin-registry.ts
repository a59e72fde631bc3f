/**
 * Bounds on named twins (spec §3.6). Any connection can mint a name, and a named twin keeps its
 * subscriptions, exposed methods, mark and QoS2 set after its connection ends. So a twin unseen
 * (offline) for `ttl` ms expires — dropped from the routing tables and deleted from the store —
 * and at most `maxTwins` named twins exist: a login that would create one more is refused with
 * status 10 and a reason naming the limit (the TS component raises `TwinLimitError`).
 */
import type { SchedulerLike } from 'rxjs';
import { TwinLimitError } from '../errors.js';
import { now as clockNow } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../types.js';
import type { Router } from './router.js';
import type { Twin } from './twin.js';

/** Default `twinTtl`: 30 days. */
export const DEFAULT_TWIN_TTL = 30 * 86_400_000;
/** Default `maxTwins`. */
export const DEFAULT_MAX_TWINS = 100_000;

export interface TwinRegistryOptions {
  /** The broker's named twins, by name. */
  readonly named: Map<string, Twin>;
  readonly router: Router;
  readonly store: Store;
  readonly log: Logger;
  /** Offline this long, ms, a twin expires. */
  readonly ttl: number;
  readonly maxTwins: number;
  /** Discard a dropped twin's uncommitted changes, so no commit writes it back after deleteTwin. */
  readonly forget?: (twin: Twin) => void;
  /** Virtual time (rembus/testing); default the real clock. */
  readonly scheduler?: SchedulerLike | undefined;
}

export class TwinRegistry {
  /** Offline twins by name, oldest first (an entry is re-inserted when a twin goes offline again). */
  private readonly offlineSince = new Map<string, number>();
  /** Twins expired since start. */
  expired = 0;
  /** Logins refused by the cap since start. */
  refused = 0;

  constructor(private readonly opts: TwinRegistryOptions) {}

  /** How often to look for expired twins, ms: a quarter of the TTL, at most a minute. */
  get sweepInterval(): number {
    return Math.max(10, Math.min(60_000, Math.floor(this.opts.ttl / 4)));
  }

  /** Null to admit a login as `cid`, else the refusal (a new twin past `maxTwins`). */
  admit(cid: string): string | null {
    const { named, maxTwins, log } = this.opts;
    if (named.has(cid) || named.size < maxTwins) return null;
    this.refused++;
    log.warn({ cid, maxTwins }, 'login refused: twin limit reached');
    return `${TwinLimitError.REASON}: this broker keeps at most ${maxTwins} named components (maxTwins)`;
  }

  /** A twin loaded from the store at start: named, offline from now on, its declarations routed. */
  restored(twin: Twin): void {
    const { named, router } = this.opts;
    named.set(twin.name, twin);
    this.offline(twin);
    for (const [topic, msgFrom] of twin.subscriptions) router.subscribe(twin, topic, msgFrom);
    for (const method of twin.exposed) router.expose(twin, method);
  }

  online(twin: Twin): void {
    this.offlineSince.delete(twin.name);
  }

  offline(twin: Twin, now = clockNow(this.opts.scheduler)): void {
    this.offlineSince.delete(twin.name);
    this.offlineSince.set(twin.name, now);
  }

  /**
   * The offline twins a log trim to `oldest` may have cut from messages they wait for: a mark
   * older than it and a subscription replayed from the log (msg_from other than Now).
   */
  behind(oldest: bigint): string[] {
    const names: string[] = [];
    for (const name of this.offlineSince.keys()) {
      const twin = this.opts.named.get(name);
      if (twin === undefined || twin.mark >= oldest) continue;
      for (const msgFrom of twin.subscriptions.values()) {
        if (msgFrom !== 0) {
          names.push(name);
          break;
        }
      }
    }
    return names;
  }

  /**
   * Expire the twins offline for `ttl` or longer: their subscriptions, exposures, mark and QoS2
   * set go, in memory and in the store. Resolves once the store has deleted them.
   */
  async sweep(now = clockNow(this.opts.scheduler)): Promise<number> {
    const { named, router, store, log, ttl } = this.opts;
    const gone: string[] = [];
    for (const [name, since] of this.offlineSince) {
      if (now - since < ttl) break; // oldest first: the rest is younger
      this.offlineSince.delete(name);
      const twin = named.get(name);
      if (twin === undefined || twin.session !== null) continue;
      router.drop(twin);
      this.opts.forget?.(twin);
      named.delete(name);
      gone.push(name);
    }
    if (gone.length === 0) return 0;
    this.expired += gone.length;
    log.info({ expired: gone.length, ttl }, 'twins expired');
    await Promise.all(gone.map((name) => store.deleteTwin(name).catch((err: unknown) =>
      log.warn({ cid: name, err: errorText(err) }, 'expired twin not deleted from the store'))));
    return gone.length;
  }
}
