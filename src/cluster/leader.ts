/**
 * One leader among the brokers of a cluster, on a lease in a JetStream KV bucket
 * (`REMBUS_<c>_LEADER`, key `leader`, history 1, `replicas` like the stream). nats-server 2.9
 * has no per-key TTL, so the lease is a revision that its holder keeps moving:
 *
 * - **Take.** A broker that finds no lease (or a released one) creates it (`create` fails if
 *   another was first: two brokers starting at once elect one).
 * - **Renew.** The holder rewrites it every `ttl / 3` ms with compare-and-set on its revision
 *   (`update(key, value, revision)`); a failed compare means another broker holds it now.
 * - **Lapse.** Every other broker notes, on its own clock, when it first saw the current
 *   revision; a revision unchanged for `ttl` ms has lapsed and is taken over, again by
 *   compare-and-set, so one of several contenders wins. No clock is compared across machines.
 * - **Step down.** A holder that has not renewed for `2/3 · ttl` ms (NATS unreachable) stops
 *   being leader before anyone may take over: every broker sees a revision at or after it was
 *   written, so takeover comes at least `ttl` after the holder's last renewal was sent.
 * - **Resume.** A holder that stepped down and finds its own lease still there takes it back
 *   by compare-and-set (another broker taking over would have changed the revision first).
 * - **Release.** `close()` deletes the lease (only its own revision): another broker takes
 *   over at its next poll instead of after `ttl`.
 *
 * A broker killed with -9 is replaced within about `ttl + ttl / 3` ms plus the time JetStream
 * takes to answer.
 */
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';

const KEY = 'leader';
/** Default lease time, ms. */
export const DEFAULT_LEASE_TTL = 3_000;

export interface LeaderOptions {
  /** The cluster's name (bucket `REMBUS_<name>_LEADER`). */
  readonly cluster: string;
  /** This broker's id in the cluster (the value of the lease it holds). */
  readonly id: string;
  /** Replicas of the bucket. Default 1. */
  readonly replicas?: number;
  /** Lease time, ms. Default 3 000. */
  readonly ttl?: number;
  readonly log: Logger;
}

/** The leader election of one broker. */
export interface Leader {
  /** Whether this broker is the leader now. Replays the latest; completes on close. */
  readonly leader$: Observable<boolean>;
  /** The id of the broker holding the lease as last seen (this one included); undefined: none. */
  holder(): string | undefined;
  /** The id in the lease as the bucket has it now (between polls `holder()` may not know it yet). */
  lookup(): Promise<string | undefined>;
  /** Stop contending; releases the lease when held. Idempotent. */
  close(): Promise<void>;
}

/** Open the bucket and start contending. */
export async function electLeader(nc: NatsConnection, options: LeaderOptions): Promise<Leader> {
  const ttl = options.ttl ?? DEFAULT_LEASE_TTL;
  // The KV calls time out before a lease could lapse.
  const kvm = new Kvm(jetstream(nc, { timeout: Math.max(250, Math.floor(ttl / 3)) }));
  const kv = await createBucket(kvm, `REMBUS_${options.cluster}_LEADER`, options.replicas ?? 1);
  return new LeaderImpl(kv, options.id, ttl, options.log);
}

/** JetStream's answers to a create that raced another broker's create of the same bucket. */
const SUBJECTS_OVERLAP = 10065;
const NAME_IN_USE = 10058;
const CREATE_ATTEMPTS = 5;

/**
 * `create` opens a bucket another broker made first, but two brokers creating it in the same
 * instant can be told "subjects overlap with an existing stream" (the other's stream appeared
 * between JetStream's lookup and its add): ask again, and the bucket is there to open.
 */
async function createBucket(kvm: Kvm, bucket: string, replicas: number): Promise<KV> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await kvm.create(bucket, { history: 1, replicas });
    } catch (err) {
      const raced = err instanceof JetStreamApiError && (err.code === SUBJECTS_OVERLAP || err.code === NAME_IN_USE);
      if (!raced || attempt >= CREATE_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

class LeaderImpl implements Leader {
  private readonly state = new BehaviorSubject(false);
  readonly leader$ = this.state.pipe(distinctUntilChanged());
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly value: Uint8Array;
  /** Revision of the lease this broker holds (when leader). */
  private revision = 0;
  /** When the last successful renewal of this broker was sent (local clock). */
  private renewedAt = 0;
  /** The lease as last seen held by another broker, and when that revision was first seen. */
  private seen: { revision: number; since: number; id: string } | undefined;
  private busy: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly kv: KV, private readonly id: string, private readonly ttl: number, private readonly log: Logger) {
    this.value = new TextEncoder().encode(id);
    this.timer = setInterval(() => this.poll(), Math.max(50, Math.floor(ttl / 3)));
    this.poll();
  }

  holder(): string | undefined {
    return this.state.value ? this.id : this.seen?.id;
  }

  async lookup(): Promise<string | undefined> {
    const entry = await this.kv.get(KEY).catch(() => null);
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.string();
  }

  private poll(): void {
    if (this.closing !== undefined) return;
    if (this.state.value && Date.now() - this.renewedAt > (2 * this.ttl) / 3) this.stepDown('lease not renewed in time');
    if (this.busy !== undefined) return;
    this.busy = this.tick().catch((err: unknown) => this.log.debug({ err: errorText(err) }, 'leader lease: NATS did not answer'))
      .finally(() => { this.busy = undefined; });
  }

  private async tick(): Promise<void> {
    const sent = Date.now();
    if (this.state.value) {
      try {
        this.revision = await this.kv.update(KEY, this.value, this.revision);
        this.renewedAt = sent;
      } catch (err) {
        if (/wrong last sequence/iu.test(errorText(err))) this.stepDown('lease taken by another broker');
        else throw err;
      }
      return;
    }
    const entry = await this.kv.get(KEY);
    if (this.closing !== undefined) return;
    if (entry === null || entry.operation !== 'PUT') {
      this.seen = undefined;
      return this.take(() => this.kv.create(KEY, this.value), sent);
    }
    const id = entry.string();
    // Still its own lease (it stepped down for a late renewal): take it back before it lapses.
    if (id === this.id) return this.take(() => this.kv.update(KEY, this.value, entry.revision), sent);
    if (this.seen?.revision !== entry.revision) {
      this.seen = { revision: entry.revision, since: sent, id };
      return;
    }
    if (sent - this.seen.since >= this.ttl) return this.take(() => this.kv.update(KEY, this.value, entry.revision), sent);
  }

  private async take(write: () => Promise<number>, sent: number): Promise<void> {
    try {
      this.revision = await write();
    } catch (err) {
      this.log.debug({ err: errorText(err) }, 'leader lease: another broker was first');
      return;
    }
    if (this.closing !== undefined) {
      await this.release();
      return;
    }
    this.renewedAt = sent;
    this.seen = undefined;
    this.log.info({ id: this.id }, 'cluster leader: this broker');
    this.state.next(true);
  }

  private stepDown(why: string): void {
    if (!this.state.value) return;
    this.log.warn({ id: this.id, why }, 'cluster leader: stepping down');
    this.state.next(false);
  }

  private async release(): Promise<void> {
    await this.kv.delete(KEY, { previousSeq: this.revision }).catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.busy;
      const held = this.state.value;
      this.state.next(false);
      this.state.complete();
      if (held) await this.release();
    })();
    return this.closing;
  }
}
