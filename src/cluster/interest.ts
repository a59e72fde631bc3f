/**
 * Per-topic NATS interest (`cluster: { interest: 'subscribed' }`): instead of every QoS0 publish
 * of the cluster (`rembus.<c>.m0.>`), a broker subscribes on NATS to the subjects of its own
 * subscriptions only, so a publish reaches just the brokers with a subscriber for it and the
 * cluster's publish rate is no longer bounded by one broker's ingest.
 *
 * - An exact topic is its subject; a pattern maps to NATS wildcards (subject.ts
 *   `patternToSubject`, a superset the broker narrows when it routes); the catch-all, or more
 *   than `limit` subjects, is the one subject `<prefix>.>`.
 * - Recomputed once per turn after subscriptions change (the router's `changed`), and the NATS
 *   subscriptions adjusted: new subjects at once, the ones no longer wanted once NATS has the
 *   new ones (after a flush), so a subject replaced by a wider one loses nothing meanwhile.
 * - A message matching several of this broker's subjects (an exact topic and a pattern) comes
 *   once per NATS subscription: only the oldest matching subscription routes it, so it is routed
 *   once, and a subject being replaced keeps routing until the new one is in place.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { patternToSubject, subjectMatches } from './subject.js';

/** What the interest reads from the broker (cluster-host.ts). */
export interface InterestSource {
  /** Subscribed topics and patterns, undefined above `limit`. */
  interest(limit: number): string[] | undefined;
  /** Call `changed` whenever a subscription comes or goes; returns the undo. */
  watch(changed: () => void): () => void;
}

interface Sub { readonly subject: string; readonly seq: number; readonly nats: Subscription; readonly wild: boolean }

/** Default most NATS subscriptions per broker before falling back to `<prefix>.>`. */
export const DEFAULT_INTEREST_LIMIT = 1_000;

export class NatsInterest {
  private readonly subs = new Map<string, Sub>();
  /** Wildcard subscriptions: when there is none, no message can match two subscriptions. */
  private readonly wild = new Set<Sub>();
  private seq = 0;
  /** The subjects wanted at the last update. */
  private current = new Set<string>();
  private pending = false;
  private closed = false;
  private readonly unwatch: () => void;

  constructor(private readonly nc: NatsConnection, private readonly prefix: string, private readonly source: InterestSource,
    private readonly limit: number, private readonly onMessage: (m: Msg) => void) {
    this.unwatch = source.watch(() => this.soon());
    this.update();
  }

  private soon(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.update();
    });
  }

  private wanted(): Set<string> {
    const topics = this.source.interest(this.limit);
    const all = new Set([`${this.prefix}.>`]);
    if (topics === undefined) return all;
    const subjects = new Set(topics.map((t) => patternToSubject(this.prefix, t)));
    return subjects.size > this.limit || subjects.has(`${this.prefix}.>`) ? all : subjects;
  }

  private update(): void {
    if (this.closed || this.nc.isClosed()) return;
    const wanted = this.wanted();
    for (const subject of wanted) {
      if (this.subs.has(subject)) continue;
      const sub: Sub = {
        subject, seq: ++this.seq, wild: subject.includes('*') || subject.endsWith('>'),
        nats: this.nc.subscribe(subject, { callback: (err, m) => { if (err === null) this.inbound(sub, m); } }),
      };
      this.subs.set(subject, sub);
      if (sub.wild) this.wild.add(sub);
    }
    this.current = wanted;
    const stale = [...this.subs.values()].filter((sub) => !wanted.has(sub.subject));
    if (stale.length === 0) return;
    // Once NATS has the new subscriptions (a flush is a round trip after them), drop the old.
    const drop = (): void => {
      for (const sub of stale) if (!this.current.has(sub.subject) && this.subs.get(sub.subject) === sub) this.remove(sub);
    };
    this.nc.flush().then(drop, drop);
  }

  private remove(sub: Sub): void {
    sub.nats.unsubscribe();
    this.subs.delete(sub.subject);
    this.wild.delete(sub);
  }

  private inbound(sub: Sub, m: Msg): void {
    if (this.subs.get(sub.subject) !== sub) return;
    if (this.wild.size > 0 && !this.oldestFor(sub, m.subject)) return;
    this.onMessage(m);
  }

  /** Is `sub` the oldest of this broker's subscriptions matching `subject`? */
  private oldestFor(sub: Sub, subject: string): boolean {
    const exact = this.subs.get(subject);
    if (exact !== undefined && exact.seq < sub.seq) return false;
    for (const w of this.wild) if (w.seq < sub.seq && subjectMatches(w.subject, subject)) return false;
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    for (const sub of this.subs.values()) sub.nats.unsubscribe();
    this.subs.clear();
    this.wild.clear();
  }
}
