/**
 * The component's publishing side: QoS0 publishes go straight out when the link is up and
 * wait in a bounded queue while it is down; QoS1/2 publishes wait for the link, then follow
 * the sender's rule of spec §4.2 (`ackRetry`): re-sent on `ackTimeout` up to `sendRetries`
 * times, complete on ACK (QoS2: after sending ACK2), error with `AckTimeoutError`.
 */
import {
  BehaviorSubject, defer, filter, map, Observable, of, Subject, switchMap, take, tap, throwError, throwIfEmpty,
} from 'rxjs';
import { ackRetry } from '../../operators/ack-retry.js';
import { encodeDataFrames } from '../dataframe/index.js';
import { newMsgId, newSlottedMsgId } from '../codec/msgid.js';
import { ConnectionClosedError, QueueFullError } from '../errors.js';
import { QOS1, QOS2, SLOT, type MsgId, type PubMsg } from '../protocol/messages.js';
import type { QoS } from '../types.js';
import type { ClientSession } from './connection.js';

/** What happens to a publish made while the offline queue is full. */
export type OverflowPolicy = 'error' | 'dropOldest' | 'dropNewest';

export interface PublisherConfig {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly ackTimeout: number;
  readonly sendRetries: number;
}

/** Options of `publish$`. */
export interface PublishOptions {
  /** 0 at most once, 1 at least once, 2 exactly once. Default 0. */
  qos?: QoS;
  /** A 32-bit slot carried in the message id (spec §2.4), e.g. a time bucket. Default none. */
  slot?: number;
}

export class Publisher {
  private readonly queue: PubMsg[] = [];
  /** QoS1/2 publishes waiting for the link; they count against the same capacity. */
  private waiting = 0;
  /** One ACK channel per message in flight: an ACK is a map lookup, not a test by every sender. */
  private readonly awaiting = new Map<MsgId, Subject<MsgId>>();
  /** Hand over an ACK from the receiver; unknown ids are ignored (spec §2.4). */
  readonly acks$ = { next: (id: MsgId): void => this.awaiting.get(id)?.next(id) };

  constructor(
    private readonly session$: BehaviorSubject<ClientSession | null>,
    private readonly config: PublisherConfig,
    private readonly isClosed: () => boolean,
  ) {}

  /** Build the PUB message for a publish (id present iff QoS or slot, spec §2.3). */
  message(topic: string, rawArgs: unknown[], { qos = 0, slot }: PublishOptions): PubMsg {
    const args = encodeDataFrames(rawArgs); // a polars DataFrame travels as tag 80 (spec §7)
    const flags = (qos === 2 ? QOS2 : qos === 1 ? QOS1 : 0) | (slot === undefined ? 0 : SLOT);
    if (flags === 0) return { type: 'pub', flags, topic, args };
    return { type: 'pub', flags, id: slot === undefined ? newMsgId() : newSlottedMsgId(slot), topic, args };
  }

  /** Send a QoS0 publish now, or hold it while the link is down. @throws QueueFullError */
  send(msg: PubMsg): void {
    const session = this.session$.value;
    if (session !== null) return session.send(msg);
    if (this.queue.length + this.waiting >= this.config.capacity) {
      if (this.config.overflow === 'error') throw new QueueFullError(this.config.capacity, 'offline publish buffer');
      if (this.config.overflow === 'dropNewest') return;
      this.queue.shift();
    }
    this.queue.push(msg);
  }

  /** The acknowledged publish flow; completes when the receiver has acknowledged. */
  acked$(msg: PubMsg): Observable<void> {
    return defer(() => {
      if (this.isClosed()) return throwError(() => new ConnectionClosedError('component closed'));
      const offline = this.session$.value === null;
      if (offline && this.queue.length + this.waiting >= this.config.capacity) {
        return throwError(() => new QueueFullError(this.config.capacity, 'offline publish buffer'));
      }
      if (offline) this.waiting++;
      const ack$ = new Subject<MsgId>();
      this.awaiting.set(msg.id!, ack$);
      let counted = offline;
      const uncount = (): void => {
        if (counted) this.waiting--;
        counted = false;
      };
      return this.session$.pipe(
        filter((s): s is ClientSession => s !== null),
        take(1),
        throwIfEmpty(() => new ConnectionClosedError('component closed')),
        tap(uncount),
        switchMap(() => of(msg).pipe(ackRetry({
          acks$: ack$,
          isAck: () => true,
          // While the link is down a transmission is skipped; the retry clock keeps running.
          send: (m: PubMsg) => this.session$.value?.send(m),
          ackTimeout: this.config.ackTimeout,
          sendRetries: this.config.sendRetries,
          describe: (m: PubMsg) => m.topic,
        }))),
        tap((m) => {
          if ((m.flags & QOS2) === QOS2) this.session$.value?.send({ type: 'ack2', id: m.id! });
        }),
        map(() => undefined),
        tap({ finalize: () => {
          uncount();
          this.awaiting.delete(msg.id!);
        } }),
      );
    });
  }

  /** Send what was held while the link was down, in order. */
  flush(session: ClientSession): void {
    while (this.queue.length > 0 && session.link.isOpen) session.send(this.queue.shift()!);
  }

  clear(): void {
    this.queue.length = 0;
    for (const ack$ of this.awaiting.values()) ack$.complete();
    this.awaiting.clear();
  }
}

