/**
 * A component's subscriptions: one shared stream per pattern (declared by the first subscriber,
 * withdrawn when the last leaves), and the delivery of inbound publishes to them — QoS ACKs,
 * QoS2 de-duplication until ACK2 (spec §4.2), wildcard and group topics, retained values.
 */
import { defer, finalize, from, type Observable, share, Subject } from 'rxjs';
import { dedupeById } from '../../operators/dedupe-by-id.js';
import { retainedMerge } from '../../operators/retained-merge.js';
import { LeanSubject } from '../internal/lean-subject.js';
import { slotOf, type MsgId, type PubMsg } from '../protocol/messages.js';
import type { PubMeta } from '../protocol/pub-meta.js';
import { SHARE_PREFIX, shareOf } from '../protocol/share.js';
import { isPattern } from '../topic/validate.js';
import type { Message, QoS } from '../types.js';
import type { ClientSession } from './connection.js';
import { subscribeCmd, type Declarations } from './declarations.js';
import { frames } from './frames.js';
import { withMeta } from './message-meta.js';
import { RetainedCache } from './retained-cache.js';

/** `pending`: a replaying subscription awaiting its subscribe's answer; what comes before it the replay sends again. */
interface TopicEntry { subject: Subject<Message>; msgFrom: number; pending: boolean; retained: RetainedCache }

/** Capacity of the QoS2 de-duplication set (ids awaiting ACK2); oldest evicted past it. */
const QOS2_SEEN_CAPACITY = 100_000;

/** What the subscriptions need from the component. */
export interface SubscriptionsHost {
  readonly declarations: Declarations;
  /** The session past its login, or null (a replaying subscription made then waits for its answer). */
  current(): ClientSession | null;
  /** True once the component is closed (an unsubscribe then withdraws nothing). */
  isClosed(): boolean;
}

export class Subscriptions {
  private readonly topics = new Map<string, TopicEntry>();
  private readonly streams = new Map<string, Observable<Message>>();
  /** QoS2 ids delivered and not yet released by ACK2; kept across reconnects (spec §4.2). */
  private readonly qos2Seen = new Set<MsgId>();
  private readonly qos2$ = new Subject<PubMsg>();
  private readonly ack2$ = new Subject<MsgId>();

  constructor(private readonly host: SubscriptionsHost) {
    this.qos2$.pipe(dedupeById({ key: (m: PubMsg) => m.id!, clear$: this.ack2$, seen: this.qos2Seen, capacity: QOS2_SEEN_CAPACITY }))
      .subscribe((m) => this.deliver(m));
  }

  /** The shared stream of `pattern` (a group's already in its `$share` spelling). */
  stream$(pattern: string, msgFrom: number): Observable<Message> {
    let stream = this.streams.get(pattern);
    if (stream === undefined) {
      stream = defer(() => {
        const entry: TopicEntry = { subject: new LeanSubject<Message>(), msgFrom, pending: msgFrom !== 0 && this.host.current() !== null,
          retained: new RetainedCache() };
        this.topics.set(pattern, entry);
        this.host.declarations.declare(pattern, subscribeCmd(msgFrom), (err) => entry.subject.error(err));
        return entry.subject;
      }).pipe(
        finalize(() => {
          this.topics.delete(pattern);
          this.streams.delete(pattern);
          if (!this.host.isClosed()) this.host.declarations.withdraw(pattern, 'unsubscribe');
        }),
        share({ connector: () => new LeanSubject<Message>(), resetOnRefCountZero: true, resetOnComplete: true, resetOnError: true }),
        // A later local subscriber first gets the retained values this subscription received.
        retainedMerge(defer(() => from(this.topics.get(pattern)?.retained.snapshot() ?? [])), { key: (m) => m.id ?? m }),
      );
      this.streams.set(pattern, stream);
    }
    return stream;
  }

  /** The subscribe's answer came: deliveries to `topic` start. */
  confirmed(topic: string): void {
    const e = this.topics.get(topic);
    if (e !== undefined) e.pending = false;
  }

  /** Each subscription with its msg_from, to declare again after a login; a replaying one waits for its answer. */
  redeclared(): [string, number][] {
    return [...this.topics].map(([topic, e]): [string, number] => {
      e.pending = e.msgFrom !== 0;
      return [topic, e.msgFrom];
    });
  }

  /** ACK2 of a QoS2 message: its id is released. */
  onAck2(id: MsgId): void {
    this.ack2$.next(id);
  }

  /** A PUB frame: ACKed if it asks for one, then delivered (a QoS2 duplicate only ACKed). */
  onPublish(session: ClientSession, msg: PubMsg): void {
    const qos = msg.flags & 0x30;
    if (msg.topic.startsWith(SHARE_PREFIX) && !this.topics.has(msg.topic)) {
      // A copy for a group left: not ACKed, so the broker gives it to another member — unless
      // it is a QoS2 message this component already has (then the ACK says so, spec §4.2).
      if (qos === 0x30 && msg.id !== undefined && this.qos2Seen.has(msg.id)) session.send({ type: 'ack', id: msg.id });
      return;
    }
    if (qos !== 0 && msg.id !== undefined) {
      // ACK every copy first; QoS2 copies already delivered are dropped until ACK2 (spec §4.2).
      session.send({ type: 'ack', id: msg.id });
      // One no subscription takes yet is not remembered: the replay sends it again (a cluster's
      // ACK2 waits for the shared mark, so that copy could otherwise come while its id is held).
      if (qos === 0x30) return this.taking(msg.topic) ? this.qos2$.next(msg) : undefined;
    }
    this.deliver(msg);
  }

  /** Would `deliver` hand a message on `topic` to a subscription now? */
  private taking(topic: string): boolean {
    const entry = this.topics.get(topic);
    if (entry !== undefined && !entry.pending) return true;
    const all = this.topics.get('*');
    return all !== undefined && !all.pending && !isPattern(topic) && !topic.startsWith(SHARE_PREFIX);
  }

  private deliver(msg: PubMsg): void {
    const args = frames.decodeArgs(msg.args); // tag 80 → DataFrame (spec §7, top level)
    const qos = msg.flags & 0x30;
    const qosLevel: QoS = qos === 0x30 ? 2 : qos === 0x10 ? 1 : 0;
    const slot = slotOf(msg);
    const entry = this.topics.get(msg.topic);
    if (entry !== undefined && !entry.pending) {
      // A wildcard delivery carries the pattern as topic and the real topic first (spec §4.5).
      const wildcard = isPattern(msg.topic) && msg.topic !== '*' && typeof args[0] === 'string';
      const share = msg.topic.startsWith(SHARE_PREFIX) ? shareOf(msg.topic, {}) : undefined;
      emit(entry, message(wildcard ? args[0] as string : share?.pattern ?? msg.topic,
        wildcard ? args.slice(1) : args, share?.pattern ?? msg.topic, qosLevel, slot, msg.meta), msg.meta);
    }
    const all = this.topics.get('*');
    if (all !== undefined && all !== entry && !all.pending && !isPattern(msg.topic) && !msg.topic.startsWith(SHARE_PREFIX)) {
      emit(all, message(msg.topic, args, '*', qosLevel, slot, msg.meta), msg.meta);
    }
  }

  /** Complete every subscription (ConnectionClosedError) or error it with `reason`; stop the QoS2 path. */
  end(reason: unknown, fatal: boolean): void {
    for (const entry of [...this.topics.values()]) {
      if (fatal) entry.subject.error(reason);
      else entry.subject.complete();
    }
    this.qos2$.complete();
    this.ack2$.complete();
  }
}

function message(topic: string, args: unknown[], pattern: string, qos: QoS, slot: number | undefined, meta?: PubMeta): Message {
  const m: Message = slot === undefined ? { topic, args, pattern, qos } : { topic, args, pattern, qos, slot };
  return meta === undefined ? m : withMeta(m, meta);
}

/** Deliver to a subscription; metadata first updates its retained values (a retained value seen before is dropped). */
function emit(entry: TopicEntry, m: Message, meta: PubMeta | undefined): void {
  if (meta === undefined || entry.retained.note(m, meta)) entry.subject.next(m);
}
