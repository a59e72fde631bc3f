/**
 * The component's fast path for the frames it receives most: PUB deliveries (issue 20). The
 * head — type byte, id, topic — is read in place ({@link readPubHead}); cbor-x decodes only the
 * args item. A subscriber mostly receives one topic (or one pattern) after another, so the
 * topic's string is reused while its bytes repeat: no string is built, and the component's
 * topic table hashes a string it has hashed before. Pure: no I/O.
 */
import { DecodeError } from '../errors.js';
import type { MsgId, PubMsg } from '../protocol/messages.js';
import { argsOf, decodeValue } from './cbor.js';
import { LastTopic, readPubHead, type PubHead } from './lazy-pub.js';
import { cborNestingExceeds, MAX_NESTING } from './nesting.js';
import { decodePlain, decodePlainItems, decodePlainText, NOT_PLAIN } from './plain-decode.js';

/**
 * A wildcard delivery `[1, pattern, [topic, ...args]]` (spec §4.6) read with its first element
 * apart (issue 20, W3): `delivered` is the topic the message was published on and `rest` the
 * args after it, which the component hands to the subscription as they are (no array of all
 * the args to `slice`). `args`, the message as the full
 * decoder reads it, is a new array `[delivered, ...rest]` on each read, for any other reader.
 */
export class WildcardPub implements PubMsg {
  readonly type = 'pub' as const;

  constructor(
    readonly flags: number,
    readonly id: MsgId | undefined,
    /** The pattern the subscription was declared with. */
    readonly topic: string,
    readonly delivered: string,
    readonly rest: unknown[],
  ) {}

  get args(): unknown[] {
    return [this.delivered, ...this.rest];
  }
}

/** One link's reader of PUB frames; it remembers the last topic it read. */
export class PubFrameReader {
  private readonly head: PubHead = { flags: 0, id: undefined, topicAt: 0, textAt: 0, argsAt: 0 };
  private readonly topics = new LastTopic();
  /** The topic read last, and whether it is a pattern whose deliveries carry their topic first. */
  private pattern = '';
  private wildcard = false;

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
    if (topic !== this.pattern) {
      this.pattern = topic;
      // As the component tells a wildcard delivery: a pattern other than '*' (spec §4.6).
      this.wildcard = topic !== '*' && topic.includes('*');
    }
    if (this.wildcard) {
      const split = this.readWildcard(frame, head, topic);
      if (split !== undefined) return split;
    }
    // Byte strings as plain Uint8Array views (not Node Buffers), so they reach the application as such.
    let value = decodePlain(frame, argsAt, frame.length, true);
    if (value === NOT_PLAIN) value = decodeFull(new Uint8Array(frame.buffer, frame.byteOffset + argsAt, frame.byteLength - argsAt));
    // As decodeCbor: a frame without id has flags 0 (spec §2.3).
    if (head.id === undefined) return { type: 'pub', flags: 0, topic, args: argsOf(value) };
    return { type: 'pub', flags: head.flags, id: head.id, topic, args: argsOf(value) };
  }

  /**
   * The args of a wildcard delivery in the plain subset, as a definite array of 1 to 23 elements
   * whose first is an ASCII text (any other text, and any other shape, takes the general path).
   */
  private readWildcard(frame: Uint8Array, head: PubHead, topic: string): WildcardPub | undefined {
    const at = head.argsAt;
    const n = frame[at]! - 0x80;
    if (n < 1 || n > 23) return undefined;
    const t = frame[at + 1];
    if (t === undefined || (t & 0xe0) !== 0x60) return undefined;
    const info = t & 0x1f;
    let p: number;
    let len: number;
    if (info < 24) { len = info; p = at + 2; }
    else if (info === 24) { len = frame[at + 2] ?? 0; p = at + 3; }
    else if (info === 25) { len = ((frame[at + 2] ?? 0) << 8) | (frame[at + 3] ?? 0); p = at + 4; }
    else return undefined;
    const q = p + len;
    if (len === 0 || q > frame.length) return undefined;
    // Not interned by its bytes as the pattern is: a table lookup costs more than this slice of
    // ASCII (measured, 30-byte topics), and the component hashes this string nowhere.
    const delivered = decodePlainText(frame, p, q);
    if (delivered === NOT_PLAIN) return undefined;
    const rest = decodePlainItems(frame, q, frame.length, n - 1, true);
    if (rest === NOT_PLAIN) return undefined;
    // As decodeCbor: a frame without id has flags 0 (spec §2.3).
    const id = head.id;
    return new WildcardPub(id === undefined ? 0 : head.flags, id, topic, delivered, rest);
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
