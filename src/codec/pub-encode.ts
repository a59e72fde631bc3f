/**
 * PUB frames written in one pass (spec §2.3): `[type, id?, topic, args, meta?]` with the head,
 * the id and the topic written by hand and the args by value-writer.ts, the same bytes as
 * `encodeCbor` (tested byte for byte on random messages), without the message array, the id's
 * own 8-byte buffer, cbor-x's per-call setup and the second walk that rewrites wide integers
 * (issue 20: the publisher's CPU per message). Values value-writer.ts does not take (a DataFrame
 * tag, a Map, a class instance, a very large frame) go through `encodeCbor`. Pure: no I/O.
 */
import { TYPE, type PubMsg } from '../protocol/messages.js';
import { metaToWire } from '../protocol/pub-meta.js';
import { encodeCbor } from './cbor.js';
import { writeMsgId } from './msgid.js';
import { writeByte, writeBytes, writeFrame, writeHead, writeTopic, writeValue } from './value-writer.js';

/** `encodeCbor(msg)` for a PUB message. @throws EncodeError for values CBOR cannot carry */
export function encodePubFrame(msg: PubMsg): Uint8Array {
  return writeFrame(writePub, msg, undefined) ?? encodeCbor(msg);
}

const idBytes = new Uint8Array(9);
idBytes[0] = 0x48; // an 8-byte byte string

function writePub(msg: PubMsg, _: undefined): void {
  // The id element is present iff the flags nibble is non-zero (spec §2.3), as in cbor-encode.ts.
  const acked = (msg.flags & 0x70) !== 0;
  const meta = msg.meta;
  if (acked && msg.id === undefined) return void encodeCbor(msg); // throws its EncodeError
  writeByte((acked ? 0x84 : 0x83) + (meta === undefined ? 0 : 1));
  if (acked) {
    writeHead(0, TYPE.PUB | (msg.flags & 0xf0));
    writeMsgId(idBytes, 1, msg.id!);
    writeBytes(idBytes);
  } else {
    writeByte(TYPE.PUB);
  }
  writeValue(msg.topic);
  writeValue(msg.args);
  if (meta !== undefined) writeValue(metaToWire(meta));
}

/**
 * The frame of a QoS0 publish without options, `[1, topic, args]`, with the topic checked as it
 * is written (one pass over it instead of `validateTopic`'s and the writer's, issue 20): the
 * bytes of `encodePubFrame({ type: 'pub', flags: 0, topic, args })`.
 * @returns undefined when the topic is empty or holds anything but printable ASCII other than
 *   `*`, or when the args need the generic encoder: the caller then takes the checked path.
 */
export function encodeCheckedPub(topic: string, args: unknown[]): Uint8Array | undefined {
  return writeFrame(writeCheckedPub, topic, args);
}

function writeCheckedPub(topic: string, args: unknown[]): void {
  writeByte(0x83);
  writeByte(TYPE.PUB);
  writeTopic(topic);
  writeValue(args);
}
