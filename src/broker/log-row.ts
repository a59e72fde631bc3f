/**
 * The message log's row of one accepted publish (spec §4.7). A publish read in place
 * (`LazyPub`) without encoded args or TS options is a {@link FrameRow}: its topic and args stay
 * in the frame until the store copies them; any other is a plain row with its args encoded.
 * Pure: no I/O.
 */
import { encodeValue } from '../codec/cbor.js';
import { LazyPub } from '../codec/lazy-pub.js';
import type { PubMsg } from '../protocol/messages.js';
import { FrameRow } from '../store/frame-row.js';
import type { StoredMessage } from '../store/types.js';

/** The TS publish options of one row, given its receive time. */
export type RowExtras = (recv: bigint) => Pick<StoredMessage, 'expires' | 'retain' | 'origin'>;

/** The row of `msg`, received at `recv`; `argsBytes`, when given, are its args encoded. */
export function logRow(msg: PubMsg, recv: bigint, slot: number | undefined, argsBytes?: Uint8Array, extra?: RowExtras): StoredMessage {
  const qos = msg.flags & 0xf0;
  if (argsBytes === undefined && extra === undefined && msg instanceof LazyPub) {
    return new FrameRow(recv, slot ?? null, qos, msg.id ?? null, msg.topic, msg.frame, msg.textAt, msg.argsAt);
  }
  const row: StoredMessage = {
    recv, slot: slot ?? null, qos, uid: msg.id ?? null, topic: msg.topic, data: argsBytes ?? encodeValue(msg.args),
  };
  // TS publish options (expiry, retain: src/broker/retained.ts) ride on the row.
  return extra === undefined ? row : { ...row, ...extra(recv) };
}
