/**
 * A twin is the broker's view of one component: its subscriptions, exposed methods and the
 * QoS2 "awaiting ACK2" set. A named twin outlives its connections (spec §3.6); an anonymous
 * twin is dropped with its connection (spec §3.2).
 */
import { WireCodec, type Frame } from '../codec/wire.js';
import type { Msg, MsgId } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';

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

export class Twin {
  session: Session | null = null;
  /** Exact topics and patterns, each with its msg_from (ns; 0 = Now, +Inf = LastReceived). */
  readonly subscriptions = new Map<string, number>();
  readonly exposed = new Set<string>();
  reactive = false;
  /** QoS2 ids received from this twin and not yet released by ACK2 (spec §4.2). */
  readonly awaitingAck2 = new Set<MsgId>();

  constructor(readonly name: string, readonly anonymous: boolean) {}

  get online(): boolean {
    return this.session !== null;
  }

  /** Record a QoS2 id; false when it was already there (a duplicate to drop). */
  rememberQos2(id: MsgId): boolean {
    if (this.awaitingAck2.has(id)) return false;
    if (this.awaitingAck2.size >= ACK2_SET_CAPACITY) {
      const oldest = this.awaitingAck2.values().next().value as MsgId;
      this.awaitingAck2.delete(oldest);
    }
    this.awaitingAck2.add(id);
    return true;
  }
}
