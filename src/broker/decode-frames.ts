/**
 * The broker's decode stage: frames in, `{ msg, frame }` out. A frame that does not decode is
 * logged and dropped, so one misbehaving peer never stops its own link, let alone others
 * (spec §1.1 allows this leniency).
 */
import type { OperatorFunction } from 'rxjs';
import { Observable } from '../internal/rx.js';
import { JsonRpcIdError } from '../codec/json.js';
import { decodeLazyCall } from '../codec/lazy-rpc.js';
import type { Frame, WireCodec } from '../codec/wire.js';
import { errorText } from '../internal/logger.js';
import type { Msg } from '../protocol/messages.js';
import type { Logger } from '../types.js';

/** A decoded message with the frame it came in (forwarded verbatim where possible). */
export interface Inbound { msg: Msg; frame: Frame }

/**
 * A canonical binary RPC or RESPONSE is read by its head only (src/codec/lazy-rpc.ts): the
 * broker routes it by type, id, topic and target, or status, and forwards its bytes.
 * @param answer sends a frame back to the peer: a JSON-RPC request with an id outside uint64 is
 * answered with a JSON-RPC error (id null) rather than dropped in silence (spec §2.8).
 */
export function decodeFrames(codec: WireCodec, log: Logger, answer?: (frame: Frame) => void): OperatorFunction<Frame, Inbound> {
  return (source) => new Observable<Inbound>((subscriber) => source.subscribe({
    next: (frame) => {
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
      subscriber.next({ msg, frame });
    },
    error: (err: unknown) => subscriber.error(err),
    complete: () => subscriber.complete(),
  }));
}
