/**
 * A twin's ordered outbox (spec §4.3, JL behaviour): QoS1/2 messages go out one at a time, each
 * waiting for the subscriber's ACK and re-sent on `ackTimeout` up to `sendRetries` times; a
 * QoS2 message's ACK is answered with ACK2. Messages queued behind an unacknowledged one wait,
 * QoS0 included, so order is kept. The queue is bounded: past `capacity` the oldest waiting
 * message is dropped (it stays in the log and a later replay can still deliver it).
 */
import { of, Subject, type Subscription } from 'rxjs';
import { ackRetry } from '../../operators/ack-retry.js';
import { errorText } from '../internal/logger.js';
import type { MsgId } from '../protocol/messages.js';
import type { Logger } from '../types.js';

/** One message waiting to be delivered to the twin. */
export interface OutboxEntry {
  /** Receive time of the logged message (the twin's mark advances to it once delivered). */
  readonly recv: bigint;
  /** 0x00, 0x10 or 0x30. */
  readonly qos: number;
  readonly id: MsgId | undefined;
  /** Transmit the message once. */
  readonly send: () => void;
}

export interface OutboxConfig {
  readonly ackTimeout: number;
  readonly sendRetries: number;
  readonly capacity: number;
  readonly sendAck2: (id: MsgId) => void;
  /** Called when a message is delivered (sent for QoS0, acknowledged for QoS1/2). */
  readonly delivered: (recv: bigint) => void;
  readonly log: Logger;
}

export class Outbox {
  private readonly queue: OutboxEntry[] = [];
  private inflight: Subscription | undefined;
  private readonly acks = new Subject<MsgId>();
  dropped = 0;

  constructor(private readonly config: OutboxConfig) {}

  /** True when nothing is queued or waiting: a new QoS0 message may bypass the queue. */
  get idle(): boolean {
    return this.inflight === undefined && this.queue.length === 0;
  }

  get size(): number {
    return this.queue.length + (this.inflight === undefined ? 0 : 1);
  }

  push(entry: OutboxEntry): void {
    if (this.queue.length >= this.config.capacity) {
      this.queue.shift();
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.config.log.warn({ dropped: this.dropped, capacity: this.config.capacity }, 'outbox full: oldest message dropped');
      }
    }
    this.queue.push(entry);
    if (this.inflight === undefined) this.pump();
  }

  /** An ACK from the twin. Unknown ids are ignored (spec §2.4). */
  ack(id: MsgId): void {
    this.acks.next(id);
  }

  private pump(): void {
    while (this.inflight === undefined && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      if (entry.qos === 0 || entry.id === undefined) {
        entry.send();
        this.config.delivered(entry.recv);
        continue;
      }
      this.awaitAck(entry);
    }
  }

  private awaitAck(entry: OutboxEntry): void {
    let done = false;
    const finish = (): void => {
      done = true;
      this.inflight = undefined;
      this.pump();
    };
    const subscription = of(entry).pipe(ackRetry({
      acks$: this.acks,
      isAck: (id: MsgId, e: OutboxEntry) => id === e.id,
      send: (e: OutboxEntry) => e.send(),
      ackTimeout: this.config.ackTimeout,
      sendRetries: this.config.sendRetries,
      describe: () => `delivery of ${entry.id!.toString(16)}`,
    })).subscribe({
      next: (e) => {
        if (e.qos === 0x30) this.config.sendAck2(e.id!);
        this.config.delivered(e.recv);
      },
      complete: finish,
      error: (err: unknown) => {
        this.config.log.warn({ err: errorText(err) }, 'subscriber did not acknowledge: message given up');
        finish();
      },
    });
    if (!done) this.inflight = subscription;
  }

  /** Forget everything (the twin went offline: what it missed is replayed from the log). */
  clear(): void {
    this.queue.length = 0;
    const inflight = this.inflight;
    this.inflight = undefined;
    inflight?.unsubscribe();
  }
}
