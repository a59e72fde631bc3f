/**
 * The flags of streaming RPC (a TS extension, README "Streaming RPC on the wire") in RPC and
 * RESPONSE type bytes, shared by the CBOR and JSON codecs. Pure.
 */
import { RESPONSE_CANCEL, RESPONSE_END, RESPONSE_ITEM, type ResponseMsg } from '../protocol/messages.js';

/** Flags of a streaming RESPONSE; 0 for an ordinary one. */
export function streamFlags(stream: ResponseMsg['stream']): number {
  if (stream === undefined) return 0;
  return stream === 'item' ? RESPONSE_ITEM : stream === 'end' ? RESPONSE_END : RESPONSE_CANCEL;
}

/** The `stream` marker of a RESPONSE from its flags; any other flag value is masked (spec §2.3). */
export function streamOf(flags: number): ResponseMsg['stream'] {
  if ((flags & 0x30) === RESPONSE_END) return 'end';
  if ((flags & 0x30) === RESPONSE_ITEM) return 'item';
  return (flags & RESPONSE_CANCEL) !== 0 ? 'cancel' : undefined;
}

/** Set `stream` only when present, so that ordinary messages keep their exact shape. */
export function withStream<T extends { stream?: unknown }>(msg: T, stream: T['stream'] | undefined): T {
  if (stream !== undefined) msg.stream = stream;
  return msg;
}
