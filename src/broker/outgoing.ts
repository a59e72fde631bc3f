/**
 * One publish on its way out (spec §4.3, §4.5): the frames it is sent as, made at most once
 * each, and its delivery to one twin, now or through the twin's ordered outbox.
 *
 * Fan-out encodes once: subscribers speaking CBOR receive the very bytes the publisher sent
 * (exact and catch-all deliveries keep type byte, id, topic and args); a wildcard delivery is
 * encoded once per matching pattern.
 */
import { encodeCbor } from '../codec/cbor.js';
import { LazyPub } from '../codec/lazy-pub.js';
import { wildcardParts, type WildcardParts } from '../codec/wildcard-frame.js';
import { DecodeError, EncodeError } from '../errors.js';
import type { Frame } from '../codec/wire.js';
import type { PubMsg } from '../protocol/messages.js';
import { deliveryFrame, type MetaPolicy } from './meta-frames.js';
import type { Session, Twin } from './twin.js';

/** Caches the encoded frames of one publish so each encoding is produced at most once. */
export class Outgoing {
  private cbor: Uint8Array | undefined;
  /** A wildcard delivery spliced from the publisher's frame, not yet made into bytes. */
  private parts: WildcardParts | undefined;
  /** Frames with delivery metadata (meta-frames.ts): without and with the publisher's name. */
  private metaFrames: [Uint8Array | undefined, Uint8Array | undefined] | undefined;

  /**
   * `origin`: the named publisher (metadata); `extra`: OUT_RETAIN / OUT_RETAINED bits;
   * `expires`: ms since the epoch after which it is not delivered, 0 never (TS publish options).
   */
  constructor(readonly msg: PubMsg, original: Frame | null, readonly recv: bigint,
    readonly origin?: string, readonly extra = 0, readonly expires = 0) {
    if (original instanceof Uint8Array) this.cbor = original;
  }

  /** A wildcard delivery of `source` to `pattern`; spliced from the publisher's bytes when it can be. */
  static wildcard(pattern: string, source: PubMsg, recv: bigint, origin?: string, extra = 0, expires = 0): Outgoing {
    const out = new Outgoing(new WildcardPub(pattern, source), null, recv, origin, extra, expires);
    if (source instanceof LazyPub) out.parts = wildcardParts(pattern, source);
    return out;
  }

  /**
   * Send to one subscriber. A value its encoding cannot carry (a CBOR tag to a JSON peer), or
   * args that do not decode for a re-encoding, skip that subscriber only: one peer's encoding
   * never stops the fan-out to the others.
   */
  sendTo(session: Session): void {
    try {
      if (session.codec.kind !== 'cbor') session.send(this.msg);
      else if (session.meta !== null && (this.extra !== 0 || session.metaAll)) session.sendFrame(this.metaFrame(session, session.meta));
      else if (this.parts !== undefined) session.sendParts(this.parts);
      else session.sendFrame(this.cbor ??= encodeCbor(this.msg));
    } catch (err) {
      if (!(err instanceof EncodeError) && !(err instanceof DecodeError)) throw err;
      session.dropped(err);
    }
  }

  /** The frame for a subscriber that negotiated metadata (TS extension, src/protocol/pub-meta.ts). */
  private metaFrame(session: Session, policy: MetaPolicy): Uint8Array {
    const from = policy.from(this.origin, session.twin);
    const frames = this.metaFrames ??= [undefined, undefined];
    const i = from === undefined ? 0 : 1;
    return frames[i] ??= deliveryFrame(this.cbor ??= this.parts?.bytes() ?? encodeCbor(this.msg), this.recv, from, this.extra);
  }
}

/**
 * Wildcard deliveries are QoS0: topic = the pattern, args = [topic, ...args] (spec §4.5). The
 * args are built on first read: CBOR subscribers get a spliced frame and never need them.
 */
class WildcardPub implements PubMsg {
  readonly type = 'pub' as const;
  readonly flags = 0;
  private built: unknown[] | undefined;

  constructor(readonly topic: string, private readonly source: PubMsg) {}

  get args(): unknown[] {
    return this.built ??= [this.source.topic, ...this.source.args];
  }
}

/**
 * For an outbox entry of a delivery with a `ttl`: has it expired? Decided once, as it leaves the
 * outbox (the ACK window reads the entry's `id` right before `send`); expired by then, it is not
 * sent and no ACK is awaited for it. Always false without a `ttl`.
 */
export function expiredWhenSent(out: Outgoing): () => boolean {
  if (out.expires === 0) return () => false;
  let expired: boolean | undefined;
  return () => (expired ??= out.expires <= Date.now());
}

/**
 * Send now: QoS0 straight to the socket when nothing waits before it, otherwise through the
 * twin's ordered outbox (which waits for ACKs, spec §4.3).
 */
export function deliverNow(twin: Twin, out: Outgoing): void {
  const session = twin.session;
  if (session === null) return;
  // Expired (TS publish `ttl`) while held behind a replay: not delivered.
  if (out.expires !== 0 && out.expires <= Date.now()) return;
  const qos = out.msg.flags & 0x30;
  const outbox = twin.outbox;
  if (outbox === undefined || (qos === 0 && outbox.idle)) {
    out.sendTo(session);
    twin.delivered(out.recv);
    return;
  }
  if (out.expires === 0) {
    outbox.push({ recv: out.recv, qos, id: out.msg.id, send: () => out.sendTo(session) });
    return;
  }
  const gone = expiredWhenSent(out);
  outbox.push({
    recv: out.recv, qos,
    get id() { return gone() ? undefined : out.msg.id; },
    send: () => { if (!gone()) out.sendTo(session); },
  });
}
