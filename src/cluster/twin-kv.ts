/**
 * Twins shared by the brokers of a cluster (issue 19 item 2) in the JetStream KV bucket
 * `REMBUS_<c>_TWINS` (R = `replicas`), one key per named component:
 *
 * - its subscriptions with their msg_from, and its **mark as a stream sequence**: every message
 *   of `REMBUS_<c>` up to it was delivered (and, QoS1/2, acknowledged) or is not for it;
 * - which broker wrote it and whether the component was online there.
 *
 * Written when a twin changes, coalesced: every `interval` ms the online twins of this broker
 * (and those that just left) are compared with what was last written, at most
 * {@link MAX_WRITES_PER_TICK} writes a tick, one in flight per twin; a failed write is retried on
 * the next tick. Read by watching the bucket into a bounded cache, so a login never waits on
 * NATS: when a component logs in here and another broker wrote its twin last, its
 * subscriptions and mark are taken over before its replay is computed, and the replay runs from
 * this broker's log (which holds every stream message since it joined) after that mark.
 *
 * A QoS2 delivery's ACK2 leaves only once a mark covering it is in KV: a component that moves
 * (or whose broker dies) keeps the id until then, so a replay from an older mark never hands it
 * the message twice. With KV unreachable, ACK2s wait (the component's QoS2 set is bounded) and
 * logins use this broker's own twin (its local store): the documented fallback.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import type { ReplayAdmits } from '../broker/replay-send.js';
import type { Session, Twin } from '../broker/twin.js';
import { errorText } from '../internal/logger.js';
import type { ClusterHost, SharedTwins } from './cluster-host.js';
import type { SeqIndex } from './seq-index.js';
import type { Gap } from './stream-replay.js';
import { TwinCache } from './twin-cache.js';

/** Replays a gap of the stream to a twin (stream-replay.ts). */
export type GapReplay = (gap: Gap, twin: Twin, session: Session, admits: ReplayAdmits | undefined, maxPeriod: bigint) => Promise<void>;

/** What the bucket holds per named component (JSON). */
export interface SharedTwin {
  readonly v: 1;
  /** The broker id that wrote it. */
  readonly b: string;
  /** Online at that broker when written. */
  readonly on: boolean;
  /** Stream sequence of its mark; null when unknown (nothing delivered since that broker joined). */
  readonly seq: number | null;
  /** topic → msg_from (null: +Infinity, LastReceived). */
  readonly subs: readonly (readonly [string, number | null])[];
  /** When written, ms since the epoch (not compared). */
  readonly at?: number;
}

export const MAX_WRITES_PER_TICK = 1_000;
/** ACK2 batches waiting for one twin's mark to be shared; past it the oldest are dropped (the component's set forgets them). */
export const WAITERS_CAPACITY = 10_000;
/** Twins unseen for this long are dropped from the bucket (the default twin TTL of a broker). */
const BUCKET_TTL_MS = 30 * 86_400_000;

/** The key of a twin: base64url of its name (any name, valid KV key). */
export const twinKey = (name: string): string => Buffer.from(name, 'utf8').toString('base64url');

/** Open (or create) the bucket of cluster `name`. */
export function openTwinBucket(js: JetStreamClient, name: string, replicas: number): Promise<KV> {
  return new Kvm(js).create(`REMBUS_${name}_TWINS`, { replicas, history: 1, ttl: BUCKET_TTL_MS });
}

/** What this broker last wrote of a twin (compared without allocating on every tick). */
interface Written {
  readonly rev: number;
  mark: bigint;
  readonly on: boolean;
  readonly seq: number | null;
  readonly subs: readonly (readonly [string, number])[];
}

function unchanged(w: Written | undefined, on: boolean, seq: number | null, subs: ReadonlyMap<string, number>): boolean {
  if (w === undefined || w.on !== on || w.seq !== seq || w.subs.length !== subs.size) return false;
  let i = 0;
  for (const [topic, msgFrom] of subs) {
    const [t, mf] = w.subs[i++]!;
    if (t !== topic || mf !== msgFrom) return false;
  }
  return true;
}
interface Waiter { readonly recv: bigint; readonly run: () => void }

export class TwinKv implements SharedTwins {
  private readonly cache: TwinCache;
  private readonly mine = new Map<string, Written>();
  private readonly tracked = new Set<string>();
  private readonly inflight = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly timer: ReturnType<typeof setInterval>;
  private closing: Promise<void> | undefined;
  private lastWarn = 0;
  /** Stream messages a twin taken over here missed before this broker joined. */
  private readonly gaps = new WeakMap<Twin, Gap>();
  /**
   * Twins whose gap replay is pending or unacknowledged: their shared mark stays where it was
   * (and their ACK2s wait), so a broker dying meanwhile leaves the gap to the next one.
   */
  private readonly pins = new Map<string, { readonly seq: number; doneAt: bigint | undefined }>();

  constructor(private readonly kv: KV, private readonly host: ClusterHost, private readonly id: string,
    private readonly index: SeqIndex, interval: number, private readonly replayGap: GapReplay) {
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref?.();
    this.cache = new TwinCache(kv, host.log);
  }

  /** Whether the records the bucket held at start-up are cached (twin-cache.ts), waiting at most `timeout` ms. */
  loaded(timeout: number): Promise<boolean> {
    return this.cache.loaded(timeout);
  }

  /** The cached record of `name` (tests, introspection). */
  record(name: string): SharedTwin | undefined {
    return this.cache.get(name)?.rec;
  }

  bound(twin: Twin): void {
    this.tracked.add(twin.name);
    const cached = this.cache.get(twin.name);
    if (cached === undefined || cached.rec.b === this.id) return;
    const { seq, subs } = cached.rec;
    if (seq !== null) {
      let recv = this.index.recvAt(seq);
      const first = this.index.first;
      if (recv === undefined && first !== undefined) {
        // The messages right after its mark were routed before this broker joined: from the stream, then from the log.
        this.gaps.set(twin, { from: seq + 1, to: first });
        this.pins.set(twin.name, { seq, doneAt: undefined });
        recv = this.index.recvAt(first);
      }
      if (recv !== undefined) {
        twin.mark = recv;
        twin.changed.mark = true;
        twin.onChange?.(twin);
      }
    }
    const want = new Map(subs.map(([t, mf]) => [t, mf ?? Number.POSITIVE_INFINITY]));
    for (const topic of [...twin.subscriptions.keys()]) if (!want.has(topic)) this.host.unsubscribe(twin, topic);
    for (const [topic, msgFrom] of want) if (twin.subscriptions.get(topic) !== msgFrom) this.host.subscribe(twin, topic, msgFrom);
    this.host.log.debug({ cid: twin.name, from: cached.rec.b, seq }, 'twin taken over from another broker');
  }

  gap(twin: Twin, session: Session, admits: ReplayAdmits | undefined, maxPeriod: bigint): Promise<void> | undefined {
    const gap = this.gaps.get(twin);
    if (gap === undefined) return undefined;
    this.gaps.delete(twin);
    this.host.log.info({ cid: twin.name, ...gap }, 'replaying from the stream what this broker did not route');
    const pin = this.pins.get(twin.name);
    return this.replayGap(gap, twin, session, admits, maxPeriod).finally(() => { if (pin !== undefined) pin.doneAt = this.host.logHead(); });
  }

  afterShared(twin: Twin, run: () => void): void {
    if (twin.anonymous) return run();
    if (this.closing !== undefined) return; // not shared: the component keeps the id
    let list = this.waiters.get(twin.name);
    if (list === undefined) this.waiters.set(twin.name, (list = []));
    list.push({ recv: twin.mark, run });
    if (list.length > WAITERS_CAPACITY) list.shift();
    this.tracked.add(twin.name);
  }

  /** Write what changed. */
  private tick(): Promise<unknown> {
    for (const name of this.host.online()) this.tracked.add(name);
    const writes: Promise<void>[] = [];
    for (const name of this.tracked) {
      if (this.inflight.has(name)) continue;
      const twin = this.host.twin(name);
      if (twin === undefined || twin.anonymous) {
        this.drop(name);
        continue;
      }
      const online = twin.session !== null;
      const mark = twin.mark;
      const pin = this.pins.get(name);
      // No replay ran (no reactive, no replaying subscription) and live delivery resumed: nothing to wait for.
      if (pin !== undefined && pin.doneAt === undefined && online && twin.held === null) {
        pin.doneAt = this.host.logHead();
        this.gaps.delete(twin);
      }
      // The gap is acknowledged once nothing waits in the outbox, or a message logged after it was.
      if (pin?.doneAt !== undefined && ((twin.outbox?.size ?? 0) === 0 || mark > pin.doneAt)) this.pins.delete(name);
      const pinned = this.pins.get(name);
      const seq = pinned?.seq ?? this.index.seqAt(mark) ?? null;
      const mine = this.mine.get(name);
      if (unchanged(mine, online, seq, twin.subscriptions)) {
        // Same record: it stands for this mark too (same sequence), unless pinned.
        if (pinned === undefined) {
          mine!.mark = mark;
          this.release(name, mark);
        }
        if (!online) this.drop(name);
        continue;
      }
      if (writes.length >= MAX_WRITES_PER_TICK) break;
      const cached = this.cache.get(name);
      const elsewhere = cached !== undefined && cached.rec.b !== this.id && (mine === undefined || cached.rev > mine.rev);
      if (!online && elsewhere) {
        // It moved on: another broker owns its record now.
        this.drop(name);
        continue;
      }
      const written = { on: online, seq, subs: [...twin.subscriptions] };
      writes.push(this.write(name, written, pinned === undefined ? mark : -1n, online ? undefined : mine?.rev ?? 0));
    }
    return Promise.all(writes);
  }

  /** Put the record; `after` (offline twins): only over our own last revision (0: only if absent). */
  private async write(name: string, w: Omit<Written, 'rev' | 'mark'>, mark: bigint, after: number | undefined): Promise<void> {
    this.inflight.add(name);
    const rec: SharedTwin = { v: 1, b: this.id, on: w.on, seq: w.seq, at: Date.now(),
      subs: w.subs.map(([t, mf]) => [t, mf === Number.POSITIVE_INFINITY ? null : mf] as const) };
    const body = JSON.stringify(rec);
    try {
      const key = twinKey(name);
      const rev = after === undefined ? await this.kv.put(key, body)
        : after === 0 ? await this.kv.create(key, body) : await this.kv.update(key, body, after);
      this.mine.set(name, { ...w, rev, mark });
      this.release(name, mark);
      if (!rec.on) this.drop(name);
    } catch (err) {
      if (after !== undefined && err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence
        || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) {
        // Someone else wrote it since: theirs is newer.
        this.host.log.debug({ cid: name, err: errorText(err) }, 'twin record superseded');
        this.drop(name);
      } else if (Date.now() - this.lastWarn > 5_000) {
        this.lastWarn = Date.now();
        this.host.log.warn({ cid: name, err: errorText(err) }, 'twin not written to KV: retrying');
      }
    } finally {
      this.inflight.delete(name);
    }
  }

  private release(name: string, mark: bigint): void {
    const list = this.waiters.get(name);
    if (list === undefined) return;
    let n = 0;
    while (n < list.length && list[n]!.recv <= mark) n++;
    const ready = list.splice(0, n);
    if (list.length === 0) this.waiters.delete(name);
    for (const w of ready) w.run();
  }

  private drop(name: string): void {
    this.tracked.delete(name);
    this.pins.delete(name);
    this.waiters.delete(name);
  }

  /** Write what is left (bounded by the KV timeout), stop. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      for (const name of this.host.online()) this.tracked.add(name);
      await this.tick().catch(() => undefined);
      this.cache.close();
      this.waiters.clear();
    })();
    return this.closing;
  }
}
