/**
 * The broker's decode stage: each frame of a link is decoded and handed to the broker with the
 * frame it came in. A frame that does not decode is logged and dropped, so one misbehaving peer
 * never stops its own link, let alone others (spec §1.1 allows this leniency).
 *
 * A plain function the link's subscriber calls, not an rxjs operator: no `Subscriber` hop and
 * no `{ msg, frame }` object per frame (issue 20, W3).
 */
import { JsonRpcIdError } from '../codec/json.js';
import { LazyPub } from '../codec/lazy-pub.js';
import { decodeLazyCall } from '../codec/lazy-rpc.js';
import type { Frame, WireCodec } from '../codec/wire.js';
import { errorText } from '../internal/logger.js';
import type { Msg } from '../protocol/messages.js';
import type { Logger } from '../types.js';

/** A decoded message with the frame it came in (held while a login step runs, `Session.backlog`). */
export interface Inbound { msg: Msg; frame: Frame }

/** Where {@link frameDecoder} sends what it read. */
export interface DecodeTargets {
  /** Each decoded message, with its frame (forwarded verbatim where possible). */
  readonly handle: (msg: Msg, frame: Frame) => void;
  /**
   * Sends a frame back to the peer: a JSON-RPC request with an id outside uint64 is answered
   * with a JSON-RPC error (id null) rather than dropped in silence (spec §2.8).
   */
  readonly answer?: ((frame: Frame) => void) | undefined;
  /**
   * Told the topic of a PUB read in place, before it is handled: the link's `topicRead`
   * (the wire meter counts the topic the decoder made rather than reading the bytes again).
   */
  readonly topicRead?: ((frame: Uint8Array, topic: string) => void) | undefined;
}

/**
 * The decoder of one link. A canonical binary RPC or RESPONSE is read by its head only
 * (src/codec/lazy-rpc.ts), a canonical PUB in place (src/codec/lazy-pub.ts): the broker routes
 * them by their head and forwards their bytes.
 */
export function frameDecoder(codec: WireCodec, log: Logger, { handle, answer, topicRead }: DecodeTargets): (frame: Frame) => void {
  return (frame) => {
    let msg: Msg;
    try {
      const call = typeof frame === 'string' ? undefined : decodeLazyCall(frame);
      if (call !== undefined) codec.kind = 'cbor';
      msg = call ?? codec.decodeLazy(frame);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'frame dropped');
      if (err instanceof JsonRpcIdError && err.reply !== undefined) answer?.(err.reply);
      return;
    }
    if (topicRead !== undefined && msg instanceof LazyPub) topicRead(msg.frame, msg.topic);
    handle(msg, frame);
  };
}
