/**
 * The component's fast path for the frames it receives most: PUB deliveries (issue 20). The
 * head — type byte, id, topic — is read in place ({@link readPubHead}); cbor-x decodes only the
 * args item. A subscriber mostly receives one topic (or one pattern) after another, so the
 * topic's string is reused while its bytes repeat: no string is built, and the component's
 * topic table hashes a string it has hashed before. Pure: no I/O.
 */
import { DecodeError } from '../errors.js';
import type { PubMsg } from '../protocol/messages.js';
import { argsOf, decodeValue } from './cbor.js';
import { LastTopic, readPubHead, type PubHead } from './lazy-pub.js';
import { cborNestingExceeds, MAX_NESTING } from './nesting.js';
import { decodePlain, NOT_PLAIN } from './plain-decode.js';

/** One link's reader of PUB frames; it remembers the last topic it read. */
export class PubFrameReader {
  private readonly head: PubHead = { flags: 0, id: undefined, topicAt: 0, textAt: 0, argsAt: 0 };
  private readonly topics = new LastTopic();

  /**
   * Decode `frame` if it is a PUB in the canonical layout without metadata, as the full decoder
   * would (`decodeCbor`); byte strings in the args are `Uint8Array` views of `frame`.
   * @returns undefined for any other frame: the caller decodes it in full.
   * @throws DecodeError for args that are not one well-formed CBOR item or nest too deep.
   */
  read(frame: Uint8Array): PubMsg | undefined {
    const head = this.head;
    if (!readPubHead(frame, head)) return undefined;
    const { textAt, argsAt } = head;
    const topic = this.topics.read(frame, textAt, argsAt);
    // Byte strings as plain Uint8Array views (not Node Buffers), so they reach the application as such.
    let value = decodePlain(frame, argsAt, frame.length, true);
    if (value === NOT_PLAIN) value = decodeFull(new Uint8Array(frame.buffer, frame.byteOffset + argsAt, frame.byteLength - argsAt));
    // As decodeCbor: a frame without id has flags 0 (spec §2.3).
    if (head.id === undefined) return { type: 'pub', flags: 0, topic, args: argsOf(value) };
    return { type: 'pub', flags: head.flags, id: head.id, topic, args: argsOf(value) };
  }
}

/** The args through the full decoder (cbor-x), as `decodeCbor` would decode them. */
function decodeFull(args: Uint8Array): unknown {
  // The message array is level 1 of the frame: its args may nest one level less than a frame.
  if (cborNestingExceeds(args, MAX_NESTING - 1)) throw new DecodeError(`CBOR frame nested deeper than ${MAX_NESTING} levels`);
  try {
    return decodeValue(args);
  } catch (err) {
    throw new DecodeError(`malformed CBOR frame: ${(err as Error).message}`, { cause: err });
  }
}
