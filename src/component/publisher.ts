/**
 * The component's publishing side: QoS0 publishes go straight out when the link is up and
 * wait in a bounded queue while it is down; QoS1/2 publishes take the acknowledged flow
 * (acked-publishes.ts), their messages built from the publish options (publish-options.ts).
 * Publish options reach only a broker that takes them.
 */
import { defer, EMPTY, throwError, type BehaviorSubject, type Observable } from 'rxjs';
import { frames } from './frames.js';
import { encodeCheckedPub } from '../codec/pub-encode.js';
import { validateTopic } from '../topic/validate.js';
import { ConnectionClosedError, QueueFullError } from '../errors.js';
import type { MsgId, PubMsg } from '../protocol/messages.js';
import type { Logger } from '../types.js';
import { AckedPublishes, type AckedPublishesConfig } from './acked-publishes.js';
import type { ClientSession } from './connection.js';
import { publishMessage, type OverflowPolicy, type PublishOptions } from './publish-options.js';

export interface PublisherConfig extends AckedPublishesConfig {
  readonly overflow: OverflowPolicy;
  /** Told once when publish options must be dropped (a reference broker). */
  readonly log?: Logger;
}

export class Publisher {
  private readonly queue: PubMsg[] = [];
  private warnedMeta = false;
  /** QoS1/2 publishes, waiting for the link or in the retry window. */
  private readonly acked: AckedPublishes;
  /** Hand over an ACK from the receiver; unknown ids are ignored (spec §2.4). */
  readonly acks$: { next(id: MsgId): void };

  constructor(
    private readonly session$: BehaviorSubject<ClientSession | null>,
    private readonly config: PublisherConfig,
    private readonly isClosed: () => boolean,
  ) {
    this.acked = new AckedPublishes(session$, config, isClosed, (session, msg) => this.forSession(session, msg),
      () => this.queue.length);
    this.acks$ = this.acked.acks$;
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
    this.send(publishMessage(topic, args, {}));
  }

  /**
   * `publish$(topic, args, options)`: the message is built now (id present iff QoS or slot,
   * spec §2.3); a QoS1/2 one takes the acknowledged flow, a QoS0 one is sent (or held) on subscribe.
   * @throws InvalidTopicError, EncodeError (at call time)
   */
  publish$(topic: string, rawArgs: unknown[], options: PublishOptions): Observable<void> {
    validateTopic(topic);
    const msg = publishMessage(topic, frames.encodeArgs(rawArgs), options); // a DataFrame travels as tag 80 (spec §7)
    if ((msg.flags & 0x30) !== 0) return this.acked.acked$(msg); // completes once the receiver acknowledged
    return defer(() => {
      if (this.isClosed()) return throwError(() => new ConnectionClosedError('component closed'));
      this.send(msg);
      return EMPTY;
    });
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
  private send(msg: PubMsg): void {
    const session = this.session$.value;
    if (session !== null) return session.send(this.forSession(session, msg));
    if (this.queue.length + this.acked.heldCount >= this.config.capacity) {
      if (this.config.overflow === 'error') throw new QueueFullError(this.config.capacity, 'offline publish buffer');
      // dropOldest drops the oldest QoS0 publish; held acknowledged ones are never dropped, so
      // with none to drop this one is (the buffer never holds more than its capacity).
      if (this.config.overflow === 'dropNewest' || this.queue.length === 0) return;
      this.queue.shift();
    }
    this.queue.push(msg);
  }

  /**
   * The broker refused acknowledged publish `id`: its caller fails with UnauthorizedError.
   * False when `id` is no publish in flight (acked-publishes.ts).
   */
  refused(id: MsgId, reason: unknown): boolean {
    return this.acked.refused(id, reason);
  }

  /** Send what was held while the link was down, in order. */
  flush(session: ClientSession): void {
    while (this.queue.length > 0 && session.link.isOpen) session.send(this.forSession(session, this.queue.shift()!));
  }

  /** The component closes: pending acknowledged publishes fail with ConnectionClosedError. */
  clear(reason: unknown = new ConnectionClosedError('component closed')): void {
    this.queue.length = 0;
    this.acked.clear(reason);
  }
}
