/**
 * The component's acknowledged (QoS1/2) publishes: they wait for the link, then follow the
 * sender's rule of spec §4.2 (`ackWindow`): re-sent on `ackTimeout` up to `sendRetries` times,
 * complete on ACK (QoS2: after sending ACK2), error with `AckTimeoutError`, or at once with
 * `UnauthorizedError` when a TS broker refuses it (src/protocol/refusals.ts).
 *
 * All of them share one `ackWindow` stream (one table, one timer), so a publish costs a map
 * entry rather than its own operator chain and timer. At most `maxInflight` of them are on the
 * wire at once; the others wait in order (bounded by `queueCapacity`) and their retry clock
 * starts only when they are sent: a burst written to the socket in one go would otherwise time
 * out behind itself and be re-sent wholesale.
 */
import { Observable, Subject, type BehaviorSubject, type Subscriber, type Subscription } from 'rxjs';
import { ackWindow, type AckWindowEvent } from '../../operators/ack-window.js';
import { ConnectionClosedError, QueueFullError } from '../errors.js';
import { refusalError } from '../contracts/errors.js';
import { QOS2, type MsgId, type PubMsg } from '../protocol/messages.js';
import type { ClientSession } from './connection.js';

export interface AckedPublishesConfig {
  /** The offline publish buffer's capacity, shared with the QoS0 publishes it queues (publisher.ts). */
  readonly capacity: number;
  readonly ackTimeout: number;
  readonly sendRetries: number;
  /** Acknowledged publishes on the wire at once. */
  readonly maxInflight: number;
  /** Acknowledged publishes waiting for room in the window. */
  readonly queueCapacity: number;
}

export class AckedPublishes {
  /** Publishes waiting for the link; they count against the offline buffer's capacity. */
  private readonly held: PubMsg[] = [];
  /** The caller of each acknowledged publish in flight or held, by message id. */
  private readonly calls = new Map<MsgId, Subscriber<void>>();
  /** The broker's reason for a refused publish, while its settlement passes through the window. */
  private readonly refusals = new Map<MsgId, string>();
  /** Publishes entering the retry window, and the ids that settle them (ACKs, withdrawals). */
  private outgoing = new Subject<PubMsg>();
  private readonly settle = new Subject<MsgId>();
  private window: Subscription;
  private readonly link: Subscription;
  /** Hand over an ACK from the receiver; unknown ids are ignored (spec §2.4). */
  readonly acks$ = { next: (id: MsgId): void => this.settle.next(id) };

  /**
   * @param prepare `msg` as a session may carry it (publisher.ts drops publish options a broker does not take)
   * @param queued QoS0 publishes in the offline buffer
   */
  constructor(
    private readonly session$: BehaviorSubject<ClientSession | null>,
    private readonly config: AckedPublishesConfig,
    private readonly isClosed: () => boolean,
    private readonly prepare: (session: ClientSession, msg: PubMsg) => PubMsg,
    private readonly queued: () => number,
  ) {
    this.window = this.start();
    // Held publishes leave in order when the link comes up (the component subscribes first).
    this.link = session$.subscribe((session) => {
      while (session !== null && this.held.length > 0 && this.session$.value === session) {
        this.outgoing.next(this.held.shift()!);
      }
    });
  }

  /** Publishes waiting for the link. */
  get heldCount(): number {
    return this.held.length;
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

  /** The acknowledged publish flow; completes when the receiver has acknowledged. */
  acked$(msg: PubMsg): Observable<void> {
    const id = msg.id!;
    return new Observable<void>((subscriber) => {
      if (this.isClosed()) return subscriber.error(new ConnectionClosedError('component closed'));
      const offline = this.session$.value === null;
      if (offline && this.queued() + this.held.length >= this.config.capacity) {
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
      session.send(this.prepare(session, msg));
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

  /** The component closes: pending acknowledged publishes fail with `reason`. */
  clear(reason: unknown): void {
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
