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

const utf8 = new TextDecoder('utf-8', { fatal: false });

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

/**
 * Read a binary PUB frame in its canonical layout — a definite array of 3 (QoS0) or 4 elements,
 * a one-byte type, an 8-byte id string, a definite text topic — with well-formed args.
 * @returns undefined for any other frame, which then takes the full decoder (and its errors).
 */
export function decodeLazyPub(frame: Uint8Array): LazyPub | undefined {
  const n = frame.length;
  const head = frame[0];
  if ((head !== 0x83 && head !== 0x84) || n < 4) return undefined;
  let p = 1;
  let typeByte = frame[p]!;
  if (typeByte === 0x18) typeByte = frame[++p] ?? 0;
  else if (typeByte >= 0x18) return undefined;
  p++;
  if ((typeByte & 0x0f) !== 1) return undefined;
  const flags = typeByte & 0xf0;
  // The id element is present iff the flags nibble is non-zero (spec §2.3).
  const withId = (flags & 0x70) !== 0;
  if (withId !== (head === 0x84)) return undefined;
  let id: MsgId | undefined;
  if (withId) {
    if (frame[p] !== 0x48 || p + 9 > n) return undefined;
    id = readMsgId(frame, p + 1);
    p += 9;
  }
  const topicAt = p;
  const t = frame[p];
  if (t === undefined || (t & 0xe0) !== 0x60) return undefined;
  const info = t & 0x1f;
  let len: number;
  if (info < 24) { len = info; p += 1; }
  else if (info === 24) { len = frame[p + 1] ?? 0; p += 2; }
  else if (info === 25) { len = ((frame[p + 1] ?? 0) << 8) | (frame[p + 2] ?? 0); p += 3; }
  else return undefined;
  if (len === 0 || p + len >= n) return undefined;
  const topic = text(frame, p, p + len);
  p += len;
  if (!cborWellFormed(frame, p, n, MAX_NESTING - 1)) return undefined;
  return new LazyPub(flags, id, topic, frame, topicAt, p);
}

/** Node's Buffer has it; elsewhere (browsers) the decoder does the same job. */
type Latin1Slicer = Uint8Array & { latin1Slice?: (from: number, to: number) => string };

/**
 * The topic as one flat string. Built by concatenating characters it was a rope that every
 * `Map` lookup (router, schema matcher, log record) had to flatten and hash: 0.6–1.0 µs per
 * publish with one lookup, 0.3–0.6 through the decoder, 0.2–0.4 through `latin1Slice` (200k W8
 * topics, two lookups, `process.cpuUsage`). ASCII is checked first: other bytes take UTF-8.
 */
function text(b: Uint8Array, from: number, to: number): string {
  for (let i = from; i < to; i++) if (b[i]! >= 0x80) return utf8.decode(b.subarray(from, to));
  const slice = (b as Latin1Slicer).latin1Slice;
  return slice === undefined ? utf8.decode(b.subarray(from, to)) : slice.call(b, from, to);
}
