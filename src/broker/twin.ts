/**
 * A twin is the broker's view of one component: its subscriptions, exposed methods, delivery
 * mark, outbox and QoS2 "awaiting ACK2" set. A named twin outlives its connections (spec
 * §3.6); an anonymous twin is dropped with its connection (spec §3.2).
 */
import { WireCodec, type Frame, type FrameParts } from '../codec/wire.js';
import type { Cancel } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import type { Msg, MsgId } from '../protocol/messages.js';
import { newLoginState, type LoginState } from '../security/authenticator.js';
import type { Link } from '../transport/link.js';
import type { Logger } from '../types.js';
import type { Inbound } from './decode-frames.js';
import type { FlowControl } from './flow-control.js';
import type { MetaPolicy } from './meta-frames.js';
import { MarkLedger } from './mark-ledger.js';
import type { Outbox } from './outbox.js';
import type { ParkedFrames } from './parked-frames.js';

/** Capacity of the per-twin QoS2 de-duplication set; oldest ids are evicted past it. */
export const ACK2_SET_CAPACITY = 100_000;

/**
 * Close code for a slow consumer on a link that cannot be dropped without a handshake (RFC 6455
 * 1008, policy); WebSocket links are aborted instead (see {@link FlowControl}).
 */
export const SLOW_CONSUMER_CLOSE = 1008;

/** One live connection bound to a twin. */
export class Session {
  readonly codec = new WireCodec();
  twin: Twin;
  /** Authentication state of this connection (challenge pending, authenticated). */
  readonly login: LoginState = newLoginState();
  /**
   * Frames received while a login step (IDENTITY, ATTESTATION, REGISTER…) awaits the security
   * store: handled in order once it settles, as if the step had been synchronous. Null when
   * frames are handled as they come.
   */
  backlog: Inbound[] | null = null;
  /** Closes the link a while after a failed attestation (JL). */
  closeTimer: Cancel | undefined;

  /**
   * Set when the peer negotiated publish metadata (src/protocol/pub-meta.ts): its retained
   * deliveries carry it, and every delivery when `metaAll`.
   */
  meta: MetaPolicy | null = null;
  metaAll = false;

  /** Bytes of every frame queued on the link so far; with its unread bytes, what was written. */
  queued = 0;
  /**
   * Frames held back, oldest first, while the link is behind (see {@link FlowControl}): they
   * go to the link once it drains. Null when frames go straight to the link.
   */
  parked: ParkedFrames | null = null;
  /** A named twin's mark per byte of this link (mark-ledger.ts); made at its first delivery. */
  marks: MarkLedger | null = null;
  /** Cut as a slow consumer: nothing more it is sent counts as delivered. */
  lost = false;

  constructor(readonly link: Link, twin: Twin, private readonly log: Logger, private readonly flow: FlowControl) {
    this.twin = twin;
  }

  /** Encode in this peer's wire kind and send. @throws EncodeError */
  send(msg: Msg): void {
    this.sendFrame(this.codec.encode(msg));
  }

  /**
   * Send one frame, unless flow control cuts the link instead: a peer that leaves too much
   * unread, or reads nothing for too long, is a slow consumer (see {@link FlowControl}).
   */
  sendFrame(frame: Frame): void {
    const link = this.link;
    // Read once per delivery: flow control judges the link and tallies the publish on it. A
    // link behind gets nothing written: its frames are parked (or it is cut).
    if (this.parked === null && this.flow.admit(this, link.bufferedAmount)) {
      link.send(frame);
      this.queued += typeof frame === 'string' ? frame.length : frame.byteLength;
    } else {
      this.flow.park(this, frame);
    }
  }

  /** {@link sendFrame} for a frame in parts: written by the link itself when it can (`Link.sendParts`). */
  sendParts(frame: FrameParts): void {
    const link = this.link;
    if (link.sendParts === undefined) return this.sendFrame(frame.bytes());
    if (this.parked === null && this.flow.admit(this, link.bufferedAmount)) {
      link.sendParts(frame);
      this.queued += frame.length;
    } else {
      this.flow.park(this, frame);
    }
  }

  /** Bytes sent and not yet read by the peer: the link's unread ones and the parked frames. */
  get unread(): number {
    return this.link.bufferedAmount + (this.parked?.bytes ?? 0);
  }

  /** A message this peer's encoding cannot carry was not sent to it. */
  dropped(err: unknown): void {
    this.log.warn({ cid: this.twin.name, err: errorText(err) }, 'message not encodable for this peer: skipped');
  }

  /** Bytes handed to this link so far, parked ones included (a stream offset). */
  get handed(): number {
    return this.queued + (this.parked?.bytes ?? 0);
  }

  /** A named twin's mark goes from `from` to `mark` once the bytes handed so far are taken. */
  markAfter(from: bigint, mark: bigint): void {
    (this.marks ?? this.ledger(from)).record(this.handed, mark);
  }

  /** Made apart from `markAfter`, whose every call would otherwise allocate the closure's context. */
  private ledger(floor: bigint): MarkLedger {
    return this.marks = new MarkLedger(floor, () => this.queued - this.link.bufferedAmount);
  }

  /**
   * This link is cut as a slow consumer (before it is aborted): a named twin's mark goes back to
   * the last message whose frame the OS took — what its peer can still read — never below one it
   * acknowledged, so its next replay starts at the first message it did not get.
   */
  lose(): void {
    this.lost = true;
    const twin = this.twin;
    if (twin.anonymous || twin.session !== this || this.marks === null) return;
    const taken = this.queued - (this.link.unsent ?? this.link.bufferedAmount);
    const mark = this.marks.markAt(taken);
    twin.rewind(mark > twin.confirmed ? mark : twin.confirmed);
  }
}

/** Keys of a twin's durable state changed since its last commit. */
export interface TwinChanges {
  mark: boolean;
  readonly subscriptions: Set<string>;
  readonly exposed: Set<string>;
  readonly ack2: Set<MsgId>;
}

export function newChanges(): TwinChanges {
  return { mark: false, subscriptions: new Set(), exposed: new Set(), ack2: new Set() };
}

/** A live delivery held back while the twin's replay runs (see `Twin.hold`). */
export type Held = () => void;

export class Twin {
  session: Session | null = null;
  /** Exact topics and patterns, each with its msg_from (ns; 0 = Now, +Inf = LastReceived). */
  readonly subscriptions = new Map<string, number>();
  readonly exposed = new Set<string>();
  reactive = false;
  /** Live delivery paused by `reactive` false; the next `reactive` replays what came meanwhile. */
  paused = false;
  /** QoS2 ids received from this twin and not yet released by ACK2 (spec §4.2). */
  readonly awaitingAck2 = new Set<MsgId>();
  /** recv of the last message delivered to this twin (spec §4.7). */
  mark = 0n;
  /** The newest message the component acknowledged: a cut never puts the mark below it. */
  confirmed = 0n;
  /** What of the durable state changed since the last commit (named twins only). */
  changed: TwinChanges = newChanges();
  /** Told when a named twin's durable state changes: it goes with the next log commit. */
  onChange: ((twin: Twin) => void) | undefined;
  /**
   * Live deliveries held back from the moment a replay window is fixed until the replay is
   * sent, so the twin sees old then new messages with no gap and no duplicate. Null when
   * not holding.
   */
  held: Held[] | null = null;
  /** Set when `held` was full: just below the first live delivery dropped (replayed after the hold). */
  heldOverflow: bigint | undefined;
  /** The log head when holding started: the replay window's upper bound. */
  holdStart = 0n;
  holdTimer: Cancel | undefined;
  /** Whether this session already had its reactive replay. */
  replayed = false;
  outbox: Outbox | undefined;

  constructor(readonly name: string, readonly anonymous: boolean) {}

  get online(): boolean {
    return this.session !== null;
  }

  /**
   * Advance the mark (deliveries may complete out of order across outbox and direct path).
   * `acked`: the newest message of those the subscriber acknowledged (it read every frame before it).
   */
  delivered(recv: bigint, acked?: bigint): void {
    if (acked !== undefined && acked > this.confirmed) this.confirmed = acked;
    if (recv <= this.mark) return;
    if (this.anonymous) {
      this.mark = recv;
      return;
    }
    const session = this.session;
    if (session !== null) {
      if (session.lost) return; // cut: the mark stays where the cut put it
      session.markAfter(this.mark, recv);
    }
    this.mark = recv;
    this.changed.mark = true;
    this.onChange?.(this);
  }

  /** Put the mark back to `mark` (a slow consumer's cut, {@link Session.lose}). */
  rewind(mark: bigint): void {
    if (mark >= this.mark) return;
    this.mark = mark;
    this.changed.mark = true;
    this.onChange?.(this);
  }

  /** Record a QoS2 id; false when it was already there (a duplicate to drop). */
  rememberQos2(id: MsgId): boolean {
    if (this.awaitingAck2.has(id)) return false;
    if (this.awaitingAck2.size >= ACK2_SET_CAPACITY) {
      const oldest = this.awaitingAck2.values().next().value as MsgId;
      this.awaitingAck2.delete(oldest);
      this.ack2Changed(oldest);
    }
    this.awaitingAck2.add(id);
    this.ack2Changed(id);
    return true;
  }

  releaseQos2(id: MsgId): void {
    if (this.awaitingAck2.delete(id)) this.ack2Changed(id);
  }

  private ack2Changed(id: MsgId): void {
    if (this.anonymous) return;
    this.changed.ack2.add(id);
    this.onChange?.(this);
  }

  /** Nothing to remember: no declarations, no delivery mark, no QoS2 ids, nothing unsaved. */
  isEmpty(): boolean {
    return this.subscriptions.size === 0 && this.exposed.size === 0 && this.awaitingAck2.size === 0
      && this.mark === 0n && !this.changed.mark && this.changed.ack2.size === 0;
  }

  /** Does the twin subscribe with a replay window (msg_from other than Now)? */
  wantsReplay(): boolean {
    for (const msgFrom of this.subscriptions.values()) if (msgFrom !== 0) return true;
    return false;
  }
}
