/**
 * A twin's ordered outbox (spec §4.3): QoS1/2 messages wait for the subscriber's ACK, re-sent
 * on `ackTimeout` up to `sendRetries` times (`ackWindow`). Messages leave in order; up to `maxInflight` may wait for their ACKs at once (1 is the
 * JL behaviour: each waits for the previous ACK). The twin's mark advances only over the
 * contiguous prefix of delivered messages, so a disconnect never skips one still unacked.
 * A QoS2 message's ACK is answered with ACK2 only once the mark covers it (`delivered` gets its
 * id with the new mark, and the broker sends ACK2 once that mark is durable): a subscriber
 * that forgets an id at ACK2 is never sent it again, even after a broker crash (spec §4.2).
 * The queue is bounded: past `capacity` the oldest waiting message is dropped (it stays in the
 * log and a later replay can still deliver it).
 *
 * One `ackWindow` stream per connected twin carries every message (one table, one timer), so
 * a message costs no operator chain, Subject or timer of its own.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { Subject } from '../internal/rx.js';
import { ackWindow, type AckWindowEvent } from '../../operators/ack-window.js';
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
  /** Told how the message left the outbox (shared subscriptions take back what a member did not get, groups.ts). */
  readonly settled?: (outcome: AckWindowEvent<unknown>['type']) => void;
}

export interface OutboxConfig {
  readonly ackTimeout: number;
  readonly sendRetries: number;
  readonly capacity: number;
  /** Messages that may await their ACK at once. Default {@link DEFAULT_MAX_INFLIGHT}. */
  readonly maxInflight?: number;
  /** Scheduler of the ACK timeouts (virtual time in rembus/testing). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * Called when the contiguous prefix of delivered messages grows: the new mark, and the ids
   * of the QoS2 messages of that prefix that were acknowledged (whose ACK2 is due once the
   * mark is durable), and the newest acknowledged message of that prefix (the subscriber read every
   * frame before it: a slow consumer's cut never puts the mark below it, mark-ledger.ts).
   */
  readonly delivered: (recv: bigint, ack2: MsgId[], acked: bigint | undefined) => void;
  readonly log: Logger;
}

/**
 * Default window of unacknowledged messages per twin. A window costs a table entry per
 * message; it bounds throughput to a window per round trip, and under load a round trip is a
 * few event-loop turns of broker and subscriber: 64 allowed about 1k msgs/s to a QoS1
 * subscriber while a publisher flooded the broker, 1024 keeps up with the publisher (MQTT 5's
 * Receive Maximum defaults to 65,535).
 */
export const DEFAULT_MAX_INFLIGHT = 1024;

/** A message of the outbox; `done` once acked, given up or sent without ack; `acked` once ACKed. */
interface Tracked { readonly entry: OutboxEntry; done: boolean; acked: boolean }

export class Outbox {
  /** Messages sent and not yet all settled, in sending order, from `first` on. */
  private readonly sent: (Tracked | undefined)[] = [];
  private first = 0;
  /** Messages pushed and not yet settled or dropped (queued or in flight). */
  private pending = 0;
  private readonly acks = new Subject<MsgId>();
  /** The window of the current connection, started by the first push after a clear. */
  private input: Subject<Tracked> | undefined;
  private window: Subscription | undefined;
  dropped = 0;

  constructor(private readonly config: OutboxConfig) {}

  /** True when nothing is queued: a new QoS0 message may go straight to the socket. */
  get idle(): boolean {
    return this.pending === 0;
  }

  get size(): number {
    return this.pending;
  }

  push(entry: OutboxEntry): void {
    this.pending++;
    (this.input ?? this.start()).next({ entry, done: false, acked: false });
  }

  /** An ACK from the twin. Unknown ids are ignored (spec §2.4). */
  ack(id: MsgId): void {
    this.acks.next(id);
  }

  private start(): Subject<Tracked> {
    const input = new Subject<Tracked>();
    this.input = input;
    this.window = input.pipe(ackWindow({
      acks$: this.acks,
      key: (t: Tracked) => (t.entry.qos === 0 ? undefined : t.entry.id),
      send: (t: Tracked, attempt: number) => {
        if (attempt === 1) this.sent.push(t);
        try {
          t.entry.send();
        } catch (err) {
          // Not this twin's window's fault: the re-sends and their timeout still apply to it.
          this.config.log.warn({ err: errorText(err) }, 'delivery failed');
        }
      },
      ackTimeout: this.config.ackTimeout, scheduler: this.config.scheduler,
      sendRetries: this.config.sendRetries,
      maxInflight: this.config.maxInflight ?? DEFAULT_MAX_INFLIGHT,
      capacity: this.config.capacity,
      overflow: 'dropOldest',
      describe: (t: Tracked) => `delivery of ${t.entry.id!.toString(16)}`,
    })).subscribe({
      next: (event) => this.settled(event),
      error: (err: unknown) => {
        this.config.log.error({ err: errorText(err) }, 'outbox failed: what it held is left to replay');
        this.clear();
      },
    });
    return input;
  }

  private settled(event: AckWindowEvent<Tracked>): void {
    this.pending--;
    const { entry } = event.msg;
    entry.settled?.(event.type);
    switch (event.type) {
      case 'dropped':
        if (++this.dropped === 1 || this.dropped % 1000 === 0) {
          this.config.log.warn({ dropped: this.dropped, capacity: this.config.capacity }, 'outbox full: oldest message dropped');
        }
        return;
      case 'acked':
        event.msg.acked = true;
        break;
      case 'expired':
        this.config.log.warn({ err: errorText(event.error) }, 'subscriber did not acknowledge: message given up');
        break;
      case 'sent':
        break;
    }
    event.msg.done = true;
    this.advance();
  }

  /** Drop settled messages from the front and report the new mark. */
  private advance(): void {
    let mark: bigint | undefined;
    let acked: bigint | undefined;
    const ack2: MsgId[] = [];
    while (this.first < this.sent.length && this.sent[this.first]!.done) {
      const t = this.sent[this.first]!;
      mark = t.entry.recv;
      if (t.acked) {
        acked = mark;
        if (t.entry.qos === 0x30) ack2.push(t.entry.id!);
      }
      this.sent[this.first++] = undefined;
    }
    if (this.first === this.sent.length) {
      this.sent.length = 0;
      this.first = 0;
    } else if (this.first > 1024 && this.first * 2 > this.sent.length) {
      this.sent.splice(0, this.first);
      this.first = 0;
    }
    if (mark !== undefined) this.config.delivered(mark, ack2, acked);
  }

  /** Forget everything (the twin went offline: what it missed is replayed from the log). */
  clear(): void {
    const window = this.window;
    this.window = undefined;
    this.input = undefined;
    this.sent.length = 0;
    this.first = 0;
    this.pending = 0;
    window?.unsubscribe();
  }
}
