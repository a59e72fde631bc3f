/**
 * A twin is the broker's view of one component: its subscriptions, exposed methods, delivery
 * mark, outbox and QoS2 "awaiting ACK2" set. A named twin outlives its connections (spec
 * §3.6); an anonymous twin is dropped with its connection (spec §3.2).
 */
import { WireCodec, type Frame } from '../codec/wire.js';
import type { Msg, MsgId } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Outbox } from './outbox.js';

/** Capacity of the per-twin QoS2 de-duplication set; oldest ids are evicted past it. */
export const ACK2_SET_CAPACITY = 100_000;

/** One live connection bound to a twin. */
export class Session {
  readonly codec = new WireCodec();
  twin: Twin;

  constructor(readonly link: Link, twin: Twin) {
    this.twin = twin;
  }

  /** Encode in this peer's wire kind and send. */
  send(msg: Msg): void {
    this.link.send(this.codec.encode(msg));
  }

  sendFrame(frame: Frame): void {
    this.link.send(frame);
  }
}

/** A live delivery held back while the twin's replay runs (see `Twin.hold`). */
export type Held = () => void;

export class Twin {
  session: Session | null = null;
  /** Exact topics and patterns, each with its msg_from (ns; 0 = Now, +Inf = LastReceived). */
  readonly subscriptions = new Map<string, number>();
  readonly exposed = new Set<string>();
  reactive = false;
  /** QoS2 ids received from this twin and not yet released by ACK2 (spec §4.2). */
  readonly awaitingAck2 = new Set<MsgId>();
  /** recv of the last message delivered to this twin (spec §4.7). */
  mark = 0n;
  markDirty = false;
  ack2Dirty = false;
  /**
   * Live deliveries held back from the moment a replay window is fixed until the replay is
   * sent, so the twin sees old then new messages with no gap and no duplicate. Null when
   * not holding.
   */
  held: Held[] | null = null;
  /** The log head when holding started: the replay window's upper bound. */
  holdStart = 0n;
  holdTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether this session already had its reactive replay. */
  replayed = false;
  outbox: Outbox | undefined;

  constructor(readonly name: string, readonly anonymous: boolean) {}

  get online(): boolean {
    return this.session !== null;
  }

  /** Advance the mark (deliveries may complete out of order across outbox and direct path). */
  delivered(recv: bigint): void {
    if (recv > this.mark) {
      this.mark = recv;
      this.markDirty = !this.anonymous;
    }
  }

  /** Record a QoS2 id; false when it was already there (a duplicate to drop). */
  rememberQos2(id: MsgId): boolean {
    if (this.awaitingAck2.has(id)) return false;
    if (this.awaitingAck2.size >= ACK2_SET_CAPACITY) {
      const oldest = this.awaitingAck2.values().next().value as MsgId;
      this.awaitingAck2.delete(oldest);
    }
    this.awaitingAck2.add(id);
    this.ack2Dirty = !this.anonymous;
    return true;
  }

  releaseQos2(id: MsgId): void {
    if (this.awaitingAck2.delete(id)) this.ack2Dirty = !this.anonymous;
  }

  /** Does the twin subscribe with a replay window (msg_from other than Now)? */
  wantsReplay(): boolean {
    for (const msgFrom of this.subscriptions.values()) if (msgFrom !== 0) return true;
    return false;
  }
}
