/**
 * The broker's fast path for PUB frames (spec §2.2): the head — type byte, id, topic — is read
 * in place and the args stay encoded, checked for well-formedness but decoded only when
 * something reads them (a JSON subscriber, the schema stage, a bridge). Subscribers speaking
 * CBOR get the publisher's bytes, the log stores them, and most publishes are never decoded.
 * Pure: no I/O.
 */
import { DecodeError } from '../errors.js';
import type { MsgId, PubMsg } from '../protocol/messages.js';
import { argsOf, decodeValue } from './cbor.js';
import { readMsgId } from './msgid.js';
import { MAX_NESTING } from './nesting.js';
import { cborWellFormed } from './well-formed.js';
import { internTopic, lastInternedBytes, topicText } from './topic-intern.js';

export { topicText };

/** A PUB message whose `args` are decoded from the frame on first read. */
export class LazyPub implements PubMsg {
  readonly type = 'pub' as const;
  private decoded: unknown[] | undefined;

  constructor(
    readonly flags: number,
    readonly id: MsgId | undefined,
    readonly topic: string,
    /** The whole frame, as received. */
    readonly frame: Uint8Array,
    /** Offset of the topic's CBOR item in `frame`. */
    readonly topicAt: number,
    /** Offset of the args item in `frame`; it runs to the end of the frame. */
    readonly argsAt: number,
    /** Offset of the topic's text, after its head (`topicAt` + 1 to 3). */
    readonly textAt: number,
  ) {}

  /**
   * The decoded arguments (spec §2.1: a non-array payload is one argument, null none).
   * @throws DecodeError for well-formed CBOR that cbor-x gives a meaning it then refuses
   * (a simple value read as a packed-value reference, a typed-array tag around a text…).
   */
  get args(): unknown[] {
    if (this.decoded === undefined) {
      try {
        this.decoded = argsOf(decodeValue(this.frame.subarray(this.argsAt)));
      } catch (err) {
        throw new DecodeError(`publish args on '${this.topic}' cannot be decoded: ${(err as Error).message}`, { cause: err });
      }
    }
    return this.decoded;
  }

  /** The args item exactly as the publisher encoded it. */
  get argsBytes(): Uint8Array {
    return this.frame.subarray(this.argsAt);
  }

  /** The topic's CBOR item (head and text) as the publisher encoded it. */
  get topicBytes(): Uint8Array {
    return this.frame.subarray(this.topicAt, this.argsAt);
  }
}

/** Where the parts of a canonical PUB frame are (see {@link readPubHead}). */
export interface PubHead {
  /** The type byte's flags nibble (`typeByte & 0xf0`). */
  flags: number;
  id: MsgId | undefined;
  /** Offset of the topic's CBOR item (its head). */
  topicAt: number;
  /** Offset of the topic's text, after its head. */
  textAt: number;
  /** Offset of the args item, which runs to the end of the frame. */
  argsAt: number;
}

/**
 * Read the head of a binary PUB frame in its canonical layout — a definite array of 3 (QoS0) or
 * 4 elements, a one-byte type, an 8-byte id string, a definite non-empty text topic followed by
 * at least one byte — into `into`. Nothing after the topic is looked at.
 * @returns false for any other frame (which then takes the full decoder, and its errors).
 */
export function readPubHead(frame: Uint8Array, into: PubHead): boolean {
  const n = frame.length;
  const head = frame[0];
  if ((head !== 0x83 && head !== 0x84) || n < 4) return false;
  let p = 1;
  let typeByte = frame[p]!;
  if (typeByte === 0x18) typeByte = frame[++p] ?? 0;
  else if (typeByte >= 0x18) return false;
  p++;
  if ((typeByte & 0x0f) !== 1) return false;
  const flags = typeByte & 0xf0;
  // The id element is present iff the flags nibble is non-zero (spec §2.3).
  const withId = (flags & 0x70) !== 0;
  if (withId !== (head === 0x84)) return false;
  let id: MsgId | undefined;
  if (withId) {
    if (frame[p] !== 0x48 || p + 9 > n) return false;
    id = readMsgId(frame, p + 1);
    p += 9;
  }
  const topicAt = p;
  const t = frame[p];
  if (t === undefined || (t & 0xe0) !== 0x60) return false;
  const info = t & 0x1f;
  let len: number;
  if (info < 24) { len = info; p += 1; }
  else if (info === 24) { len = frame[p + 1] ?? 0; p += 2; }
  else if (info === 25) { len = ((frame[p + 1] ?? 0) << 8) | (frame[p + 2] ?? 0); p += 3; }
  else return false;
  if (len === 0 || p + len >= n) return false;
  into.flags = flags;
  into.id = id;
  into.topicAt = topicAt;
  into.textAt = p;
  into.argsAt = p + len;
  return true;
}

const scratch: PubHead = { flags: 0, id: undefined, topicAt: 0, textAt: 0, argsAt: 0 };

/**
 * Read a binary PUB frame in its canonical layout ({@link readPubHead}) with well-formed args.
 * `topics`: the link's reader of topics (its last one, then the process's table of interned ones).
 * @returns undefined for any other frame, which then takes the full decoder (and its errors).
 */
export function decodeLazyPub(frame: Uint8Array, topics?: LastTopic): LazyPub | undefined {
  if (!readPubHead(frame, scratch)) return undefined;
  const { flags, id, topicAt, textAt, argsAt } = scratch;
  if (!cborWellFormed(frame, argsAt, frame.length, MAX_NESTING - 1)) return undefined;
  const topic = topics === undefined ? topicText(frame, textAt, argsAt) : topics.read(frame, textAt, argsAt);
  return new LazyPub(flags, id, topic, frame, topicAt, argsAt, textAt);
}

/**
 * The topic reader of one link (the broker's codec, the component's PUB reader): the link's last
 * topic is reused while its bytes repeat (one compare, no hash), and other topics are interned
 * by their bytes ({@link internTopic}), so a link rotating over many topics (W8: 100) builds no
 * string per frame either, and the maps the topic is looked up in hash a string they have
 * hashed before.
 */
export class LastTopic {
  private topic = '';
  private bytes: Uint8Array = new Uint8Array(0);

  /** The topic text at `frame[from, to)`. */
  read(frame: Uint8Array, from: number, to: number): string {
    const last = this.bytes;
    const len = to - from;
    if (last.length === len && len > 0) {
      let i = 0;
      while (i < len && frame[from + i] === last[i]) i++;
      if (i === len) return this.topic;
    }
    this.topic = internTopic(frame, from, to);
    // The table's own copy (never changed in place), else one of ours: frames are not kept.
    this.bytes = lastInternedBytes() ?? new Uint8Array(frame.subarray(from, to));
    return this.topic;
  }
}
