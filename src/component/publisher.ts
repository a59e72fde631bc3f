/**
 * The component's publishing side: QoS0 publishes go straight out when the link is up and
 * wait in a bounded queue while it is down; QoS1/2 publishes wait for the link, then follow
 * the sender's rule of spec §4.2 (`ackWindow`): re-sent on `ackTimeout` up to `sendRetries`
 * times, complete on ACK (QoS2: after sending ACK2), error with `AckTimeoutError`, or at once
 * with `UnauthorizedError` when a TS broker refuses it (src/protocol/refusals.ts).
 *
 * All acknowledged publishes of a component share one `ackWindow` stream (one table, one
 * timer), so a publish costs a map entry rather than its own operator chain and timer. At
 * most `maxInflight` of them are on the wire at once; the others wait in order (bounded by
 * `queueCapacity`) and their retry clock starts only when they are sent: a burst written to
 * the socket in one go would otherwise time out behind itself and be re-sent wholesale.
 */
import { Observable, Subject, type BehaviorSubject, type Subscriber, type Subscription } from 'rxjs';
import { ackWindow, type AckWindowEvent } from '../../operators/ack-window.js';
import { frames } from './frames.js';
import { newMsgId, newSlottedMsgId } from '../codec/msgid.js';
import { encodeCheckedPub } from '../codec/pub-encode.js';
import { validateTopic } from '../topic/validate.js';
import { ConnectionClosedError, InvalidOptionError, QueueFullError } from '../errors.js';
import { refusalError } from '../contracts/errors.js';
import { QOS2, QOS1, SLOT, type MsgId, type PubMsg } from '../protocol/messages.js';
import type { PubMeta } from '../protocol/pub-meta.js';
import type { Logger, QoS } from '../types.js';
import type { ClientSession } from './connection.js';

/** What happens to a publish made while the offline queue is full. */
export type OverflowPolicy = 'error' | 'dropOldest' | 'dropNewest';

export interface PublisherConfig {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly ackTimeout: number;
  readonly sendRetries: number;
  /** Acknowledged publishes on the wire at once. */
  readonly maxInflight: number;
  /** Acknowledged publishes waiting for room in the window. */
  readonly queueCapacity: number;
  /** Told once when publish options must be dropped (a reference broker). */
  readonly log?: Logger;
}

/** Options of `publish$`. */
export interface PublishOptions {
  /** 0 at most once, 1 at least once, 2 exactly once. Default 0. */
  qos?: QoS;
  /** A 32-bit slot carried in the message id (spec §2.4), e.g. a time bucket. Default none. */
  slot?: number;
  /**
   * Keep this as the topic's retained value at the broker: every new subscription first gets it
   * (`Message.retained`). Empty args clear it. A TS broker or an MQTT one; a PY/JL broker does
   * not take it (the publish goes out without it, logged once). Default false.
   */
  retain?: boolean;
  /**
   * Expire the message this many ms after the broker received it: not delivered, replayed or
   * retained after that (MQTT 5 message expiry). A positive integer. TS or MQTT 5 broker only, as `retain`.
   */
  ttl?: number;
}

export class Publisher {
  private readonly queue: PubMsg[] = [];
  /** QoS1/2 publishes waiting for the link; they count against the same capacity. */
  private readonly held: PubMsg[] = [];
  /** The caller of each acknowledged publish in flight or held, by message id. */
  private readonly calls = new Map<MsgId, Subscriber<void>>();
  /** The broker's reason for a refused publish, while its settlement passes through the window. */
  private readonly refusals = new Map<MsgId, string>();
  private warnedMeta = false;
  /** Publishes entering the retry window, and the ids that settle them (ACKs, withdrawals). */
  private outgoing = new Subject<PubMsg>();
  private readonly settle = new Subject<MsgId>();
  private window: Subscription;
  private readonly link: Subscription;
  /** Hand over an ACK from the receiver; unknown ids are ignored (spec §2.4). */
  readonly acks$ = { next: (id: MsgId): void => this.settle.next(id) };

  constructor(
    private readonly session$: BehaviorSubject<ClientSession | null>,
    private readonly config: PublisherConfig,
    private readonly isClosed: () => boolean,
  ) {
    this.window = this.start();
    // Held publishes leave in order when the link comes up (the component subscribes first).
    this.link = session$.subscribe((session) => {
      while (session !== null && this.held.length > 0 && this.session$.value === session) {
        this.outgoing.next(this.held.shift()!);
      }
    });
  }

  private start(): Subscription {
    this.outgoing = new Subject<PubMsg>();
    return this.outgoing.pipe(ackWindow({
      acks$: this.settle,
      key: (m: PubMsg) => m.id,
      send: (m: PubMsg) => this.transmit(m),
      ackTimeout: this.config.ackTimeout,
      sendRetries: this.config.sendRetries,
      maxInflight: this.config.maxInflight,
      capacity: this.config.queueCapacity, // checked per publish in acked$: never overflows
      describe: (m: PubMsg) => m.topic,
    })).subscribe({
      next: (event) => this.settled(event),
      // Not expected (transmit catches send errors): fail what was in flight, start afresh.
      error: (err: unknown) => {
        this.failAll(err);
        this.window = this.start();
      },
    });
  }

  /**
   * `publish(topic, ...args)`: QoS0, no options. On a live link the frame is written at once with
   * the topic checked as it is written (no PubMsg, one pass over the topic, issue 20); any
   * other case — link down, a topic with non-ASCII, control characters or `*`, args the writer
   * does not take — goes the general way, whose checks throw.
   * @throws InvalidTopicError, ConnectionClosedError, QueueFullError, EncodeError
   */
  publish(topic: string, rawArgs: unknown[]): void {
    const args = frames.encodeArgs(rawArgs); // a DataFrame travels as tag 80 (spec §7)
    const session = this.session$.value;
    if (session !== null && !this.isClosed()) {
      const frame = encodeCheckedPub(topic, args);
      if (frame !== undefined) return session.link.send(frame);
    }
    validateTopic(topic);
    if (this.isClosed()) throw new ConnectionClosedError('component closed');
    this.send(this.build(topic, args, {}));
  }

  /** Build the PUB message for a publish (id present iff QoS or slot, spec §2.3). */
  message(topic: string, rawArgs: unknown[], options: PublishOptions): PubMsg {
    return this.build(topic, frames.encodeArgs(rawArgs), options); // a DataFrame travels as tag 80 (spec §7)
  }

  private build(topic: string, args: unknown[], { qos = 0, slot, retain, ttl }: PublishOptions): PubMsg {
    const flags = (qos === 2 ? QOS2 : qos === 1 ? QOS1 : 0) | (slot === undefined ? 0 : SLOT);
    const msg: PubMsg = flags === 0 ? { type: 'pub', flags, topic, args }
      : { type: 'pub', flags, id: slot === undefined ? newMsgId() : newSlottedMsgId(slot), topic, args };
    const meta = publishMeta(retain, ttl);
    if (meta !== undefined) msg.meta = meta;
    return msg;
  }

  /** `msg` as `session` may carry it: publish options only to a broker that takes them (pub-meta.ts). */
  private forSession(session: ClientSession, msg: PubMsg): PubMsg {
    if (msg.meta === undefined || session.pubMeta) return msg;
    if (!this.warnedMeta) {
      this.warnedMeta = true;
      this.config.log?.warn({ topic: msg.topic }, 'this broker takes no publish options (retain, ttl): sent without them');
    }
    const { meta: _dropped, ...plain } = msg;
    return plain;
  }

  /** Send a QoS0 publish now, or hold it while the link is down. @throws QueueFullError */
  send(msg: PubMsg): void {
    const session = this.session$.value;
    if (session !== null) return session.send(this.forSession(session, msg));
    if (this.queue.length + this.held.length >= this.config.capacity) {
      if (this.config.overflow === 'error') throw new QueueFullError(this.config.capacity, 'offline publish buffer');
      // dropOldest drops the oldest QoS0 publish; held acknowledged ones are never dropped, so
      // with none to drop this one is (the buffer never holds more than its capacity).
      if (this.config.overflow === 'dropNewest' || this.queue.length === 0) return;
      this.queue.shift();
    }
    this.queue.push(msg);
  }

  /** The acknowledged publish flow; completes when the receiver has acknowledged. */
  acked$(msg: PubMsg): Observable<void> {
    const id = msg.id!;
    return new Observable<void>((subscriber) => {
      if (this.isClosed()) return subscriber.error(new ConnectionClosedError('component closed'));
      const offline = this.session$.value === null;
      if (offline && this.queue.length + this.held.length >= this.config.capacity) {
        return subscriber.error(new QueueFullError(this.config.capacity, 'offline publish buffer'));
      }
      const room = this.config.maxInflight + this.config.queueCapacity;
      if (this.calls.size - this.held.length >= room) {
        return subscriber.error(new QueueFullError(this.config.queueCapacity, 'acknowledged publish queue'));
      }
      this.calls.set(id, subscriber);
      if (offline) this.held.push(msg);
      else this.outgoing.next(msg);
      return () => {
        if (this.calls.get(id) !== subscriber) return;
        // Withdrawn by its caller: nothing more is sent for it.
        this.calls.delete(id);
        const waiting = this.held.indexOf(msg);
        if (waiting >= 0) this.held.splice(waiting, 1);
        else this.settle.next(id);
      };
    });
  }

  /** One transmission; skipped while the link is down (the retry clock keeps running). */
  private transmit(msg: PubMsg): void {
    // Withdrawn while it waited for room in the window: settle it unsent.
    if (!this.calls.has(msg.id!)) return this.settle.next(msg.id!);
    const session = this.session$.value;
    if (session === null) return;
    try {
      session.send(this.forSession(session, msg));
    } catch (err) {
      // This message cannot be sent (e.g. not encodable): its publish fails, the others go on.
      const caller = this.calls.get(msg.id!);
      this.calls.delete(msg.id!);
      this.settle.next(msg.id!);
      caller?.error(err);
    }
  }

  private settled(event: AckWindowEvent<PubMsg>): void {
    // 'sent' is a second subscription of one publish$ while the first is in flight: the ACK of
    // the copy in flight settles it. 'dropped' cannot happen: the window has no limit.
    if (event.type === 'sent' || event.type === 'dropped') return;
    const id = event.msg.id!;
    const caller = this.calls.get(id);
    if (caller === undefined) return; // withdrawn
    this.calls.delete(id);
    if (event.type === 'expired') return caller.error(event.error);
    const refusal = this.refusals.get(id);
    if (refusal !== undefined) return caller.error(refusalError(event.msg.topic, refusal));
    if ((event.msg.flags & QOS2) === QOS2) this.session$.value?.send({ type: 'ack2', id });
    caller.complete();
  }

  /**
   * The broker refused acknowledged publish `id` (a TS broker's notice, src/protocol/refusals.ts):
   * its caller fails at once with UnauthorizedError and nothing more is sent for it. Returns
   * false when `id` is no publish in flight (the RESPONSE is then someone else's, or late).
   */
  refused(id: MsgId, reason: unknown): boolean {
    if (!this.calls.has(id)) return false;
    // Settling a publish in flight emits its 'acked' event at once; `settled` reads the refusal.
    this.refusals.set(id, typeof reason === 'string' ? reason : 'unauthorized');
    this.settle.next(id);
    this.refusals.delete(id);
    return true;
  }

  /** Send what was held while the link was down, in order. */
  flush(session: ClientSession): void {
    while (this.queue.length > 0 && session.link.isOpen) session.send(this.forSession(session, this.queue.shift()!));
  }

  /** The component closes: pending acknowledged publishes fail with ConnectionClosedError. */
  clear(reason: unknown = new ConnectionClosedError('component closed')): void {
    this.queue.length = 0;
    this.held.length = 0;
    this.link.unsubscribe();
    this.window.unsubscribe();
    this.failAll(reason);
  }

  private failAll(reason: unknown): void {
    const callers = [...this.calls.values()];
    this.calls.clear();
    this.held.length = 0;
    for (const caller of callers) caller.error(reason);
  }
}

/** The metadata map of a publish with `retain` / `ttl`, or undefined. @throws InvalidOptionError */
function publishMeta(retain: boolean | undefined, ttl: number | undefined): PubMeta | undefined {
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new InvalidOptionError('ttl', 'a positive integer of ms');
  if (retain !== true && ttl === undefined) return undefined;
  return { ...(retain === true ? { retain: true } : {}), ...(ttl === undefined ? {} : { ttl }) };
}
