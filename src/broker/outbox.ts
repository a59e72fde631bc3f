/**
 * A twin's ordered outbox (spec §4.3): QoS1/2 messages wait for the subscriber's ACK, re-sent
 * on `ackTimeout` up to `sendRetries` times (`ackRetry`); a QoS2 message's ACK is answered with
 * ACK2. Messages leave in order; up to `maxInflight` may wait for their ACKs at once (1 is the
 * JL behaviour: each waits for the previous ACK). The twin's mark advances only over the
 * contiguous prefix of delivered messages, so a disconnect never skips one still unacked.
 * The queue is bounded: past `capacity` the oldest waiting message is dropped (it stays in the
 * log and a later replay can still deliver it).
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
  /** Messages that may await their ACK at once. Default {@link DEFAULT_MAX_INFLIGHT}. */
  readonly maxInflight?: number;
  readonly sendAck2: (id: MsgId) => void;
  /** Called when the contiguous prefix of delivered messages grows (the new mark). */
  readonly delivered: (recv: bigint) => void;
  readonly log: Logger;
}

/** Default window of unacknowledged messages per twin (MQTT brokers use similar windows). */
export const DEFAULT_MAX_INFLIGHT = 64;

interface Inflight { readonly entry: OutboxEntry; readonly acks: Subject<MsgId>; done: boolean; subscription?: Subscription }

export class Outbox {
  private readonly queue: OutboxEntry[] = [];
  /** Sent and not yet settled (acked or given up), in sending order. */
  private readonly inflight: Inflight[] = [];
  private readonly byId = new Map<MsgId, Inflight>();
  dropped = 0;

  constructor(private readonly config: OutboxConfig) {}

  /** True when nothing is queued: a new QoS0 message may go straight to the socket. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inflight.length === 0;
  }

  get size(): number {
    return this.queue.length + this.inflight.length;
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
    this.pump();
  }

  /** An ACK from the twin. Unknown ids are ignored (spec §2.4). */
  ack(id: MsgId): void {
    this.byId.get(id)?.acks.next(id);
  }

  private pump(): void {
    const window = this.config.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    while (this.queue.length > 0 && this.byId.size < window) {
      const entry = this.queue.shift()!;
      if (entry.qos === 0 || entry.id === undefined || this.byId.has(entry.id)) {
        entry.send();
        this.track({ entry, acks: new Subject(), done: true });
        continue;
      }
      this.awaitAck(entry);
    }
    this.advance();
  }

  private track(item: Inflight): void {
    this.inflight.push(item);
  }

  private awaitAck(entry: OutboxEntry): void {
    const item: Inflight = { entry, acks: new Subject<MsgId>(), done: false };
    this.track(item);
    this.byId.set(entry.id!, item);
    const settle = (): void => {
      item.done = true;
      this.byId.delete(entry.id!);
      this.pump();
    };
    item.subscription = of(entry).pipe(ackRetry({
      acks$: item.acks,
      isAck: () => true,
      send: (e: OutboxEntry) => e.send(),
      ackTimeout: this.config.ackTimeout,
      sendRetries: this.config.sendRetries,
      describe: () => `delivery of ${entry.id!.toString(16)}`,
    })).subscribe({
      next: (e) => { if (e.qos === 0x30) this.config.sendAck2(e.id!); },
      complete: settle,
      error: (err: unknown) => {
        this.config.log.warn({ err: errorText(err) }, 'subscriber did not acknowledge: message given up');
        settle();
      },
    });
  }

  /** Drop settled messages from the front and report the new mark. */
  private advance(): void {
    let mark: bigint | undefined;
    while (this.inflight.length > 0 && this.inflight[0]!.done) mark = this.inflight.shift()!.entry.recv;
    if (mark !== undefined) this.config.delivered(mark);
  }

  /** Forget everything (the twin went offline: what it missed is replayed from the log). */
  clear(): void {
    this.queue.length = 0;
    const inflight = this.inflight.splice(0);
    this.byId.clear();
    for (const item of inflight) item.subscription?.unsubscribe();
  }
}
