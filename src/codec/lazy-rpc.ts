/**
 * The broker's fast path for RPC and RESPONSE frames (spec §2.2, §5.2): like a publish's (see
 * lazy-pub.ts), the head — type byte, id, topic and target, or status — is read in place and
 * the call's args or the answer's data stay encoded, checked for well-formedness but decoded
 * only when something reads them (a broker-local method, a JSON peer, the cluster). A call
 * routed between two CBOR components is forwarded as the bytes its caller wrote, and so is its
 * answer: the routing path of a call builds no value of it. Pure: no I/O.
 */
import { DecodeError } from '../errors.js';
import { TYPE, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import { argsOf, decodeValue } from './cbor.js';
import { readMsgId } from './msgid.js';
import { decodePlain, NOT_PLAIN } from './plain-decode.js';
import { MAX_NESTING } from './nesting.js';
import { streamOf } from './stream-flags.js';
import { cborWellFormed } from './well-formed.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** An RPC request whose `args` are decoded from the frame on first read. */
export class LazyRpc implements RpcMsg {
  readonly type = 'rpc' as const;
  private decoded: unknown[] | undefined;

  constructor(
    readonly id: MsgId,
    readonly topic: string,
    readonly target: string | null,
    /** True for a caller that accepts a streamed answer (0x20); undefined otherwise. */
    readonly stream: true | undefined,
    /** The whole frame, as received. */
    readonly frame: Uint8Array,
    /** Offset of the args item in `frame`; it runs to the end of the frame. */
    readonly argsAt: number,
    /** Byte strings as plain `Uint8Array` views (else of `frame`'s own class). */
    private readonly plainViews = false,
  ) {}

  /**
   * The decoded arguments (spec §2.1: a non-array payload is one argument, null none).
   * @throws DecodeError for well-formed CBOR that cbor-x refuses to give a meaning
   */
  get args(): unknown[] {
    if (this.decoded === undefined) {
      this.decoded = argsOf(decodeAt(this.frame, this.argsAt, `args of call '${this.topic}'`, this.plainViews));
    }
    return this.decoded;
  }
}

/** A RESPONSE whose `data` is decoded from the frame on first read. */
export class LazyResponse implements ResponseMsg {
  readonly type = 'response' as const;
  private decoded: unknown;
  private done = false;

  constructor(
    readonly id: MsgId,
    readonly status: number,
    readonly stream: ResponseMsg['stream'],
    /** The whole frame, as received. */
    readonly frame: Uint8Array,
    /** Offset of the data item in `frame`; it runs to the end of the frame. */
    readonly dataAt: number,
    /** Byte strings as plain `Uint8Array` views (else of `frame`'s own class). */
    private readonly plainViews = false,
  ) {}

  /**
   * The decoded data (null for CBOR null or undefined).
   * @throws DecodeError for well-formed CBOR that cbor-x refuses to give a meaning
   */
  get data(): unknown {
    if (!this.done) {
      this.decoded = decodeAt(this.frame, this.dataAt, 'response data', this.plainViews) ?? null;
      this.done = true;
    }
    return this.decoded;
  }
}

function decodeAt(frame: Uint8Array, at: number, what: string, plainViews: boolean): unknown {
  // Plain values (numbers, text, flat arrays and maps) in place: no view of the frame and no
  // cbor-x set-up (a DataView attached to each source), ~0.3 KB less garbage per call and answer.
  const plain = decodePlain(frame, at, frame.length, plainViews);
  if (plain !== NOT_PLAIN) return plain;
  const bytes = plainViews && frame.constructor !== Uint8Array
    ? new Uint8Array(frame.buffer, frame.byteOffset + at, frame.length - at) : frame.subarray(at);
  try {
    return decodeValue(bytes);
  } catch (err) {
    throw new DecodeError(`${what} cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}

/** End of the item read by {@link readText} / {@link readUint} (module scratch: no allocation). */
let end = 0;

/**
 * Read a binary RPC (`[type, id, topic, target, args]`) or RESPONSE (`[type, id, status, data]`)
 * frame in its canonical layout: a definite array, a one-byte type, an 8-byte id string, a
 * definite text topic and a null or text target, or an unsigned status; with a well-formed last
 * item running to the end of the frame.
 * @returns undefined for any other frame, which then takes the full decoder (and its errors).
 */
export function decodeLazyCall(frame: Uint8Array, plainViews = false): LazyRpc | LazyResponse | undefined {
  const n = frame.length;
  const head = frame[0];
  if ((head !== 0x85 && head !== 0x84) || n < 12) return undefined;
  let p = 1;
  let typeByte = frame[p]!;
  if (typeByte === 0x18) typeByte = frame[++p] ?? 0;
  else if (typeByte >= 0x18) return undefined;
  p++;
  const type = typeByte & 0x0f;
  if (type !== (head === 0x85 ? TYPE.RPC : TYPE.RESPONSE)) return undefined;
  if (frame[p] !== 0x48 || p + 9 > n) return undefined;
  const id = readMsgId(frame, p + 1);
  p += 9;
  if (type === TYPE.RESPONSE) {
    const status = readUint(frame, p, n);
    if (status < 0 || !wellFormed(frame, end, n)) return undefined;
    return new LazyResponse(id, status, streamOf(typeByte & 0xf0), frame, end, plainViews);
  }
  const topic = readText(frame, p, n);
  if (topic === undefined || topic === '') return undefined;
  p = end;
  let target: string | null = null;
  if (frame[p] === 0xf6 || frame[p] === 0xf7) {
    p++;
  } else {
    const named = readText(frame, p, n);
    if (named === undefined) return undefined;
    target = named;
    p = end;
  }
  if (p >= n || !wellFormed(frame, p, n)) return undefined;
  return new LazyRpc(id, topic, target, (typeByte & 0x20) !== 0 ? true : undefined, frame, p, plainViews);
}

/** `[p, n)` is one well-formed item nested no deeper than a frame allows. */
function wellFormed(b: Uint8Array, p: number, n: number): boolean {
  return simpleWellFormed(b, p, n) || cborWellFormed(b, p, n, MAX_NESTING - 1);
}

/**
 * True when `[p, n)` is one scalar (integer, definite string, false, true, null, undefined,
 * float) or a definite array of fewer than 24 of them — the usual args and answers — checked
 * without the general check's stack. False means "not that simple": ask the general check.
 */
export function simpleWellFormed(b: Uint8Array, p: number, n: number): boolean {
  let count = 1;
  const h = b[p]!;
  if (h >> 5 === 4 && (h & 0x1f) < 24) {
    count = h & 0x1f;
    p++;
  }
  for (let i = 0; i < count && p >= 0; i++) p = scalarEnd(b, p, n);
  return p === n;
}

/** End of the scalar item at `p`, or -1 when it is not a scalar that fits before `n`. */
function scalarEnd(b: Uint8Array, p: number, n: number): number {
  if (p >= n) return -1;
  const h = b[p]!;
  const major = h >> 5;
  const info = h & 0x1f;
  let e: number;
  if (major === 0 || major === 1) {
    e = info < 24 ? p + 1 : info <= 27 ? p + 1 + (1 << (info - 24)) : -1;
  } else if (major === 2 || major === 3) {
    if (info < 24) e = p + 1 + info;
    else if (info === 24 && p + 1 < n) e = p + 2 + b[p + 1]!;
    else if (info === 25 && p + 2 < n) e = p + 3 + ((b[p + 1]! << 8) | b[p + 2]!);
    else e = -1;
  } else if (major === 7) {
    e = info >= 20 && info <= 23 ? p + 1 : info >= 25 && info <= 27 ? p + 1 + (1 << (info - 24)) : -1;
  } else {
    e = -1;
  }
  return e <= n ? e : -1;
}

/**
 * Recently read topics and targets, by a hash of their bytes: a method called again is not
 * built again (one string per distinct name instead of one per call).
 */
const names: ({ bytes: Uint8Array; text: string } | undefined)[] = new Array(64).fill(undefined);

function cachedName(b: Uint8Array, p: number, to: number): string | undefined {
  const len = to - p;
  const slot = names[(len * 31 + b[p]! * 7 + b[to - 1]!) & 63];
  if (slot === undefined || slot.bytes.length !== len) return undefined;
  for (let i = 0; i < len; i++) if (slot.bytes[i] !== b[p + i]) return undefined;
  return slot.text;
}

/** A definite text item at `p` (length below 64 KiB) ending before `n`; sets {@link end}. */
function readText(b: Uint8Array, p: number, n: number): string | undefined {
  const t = b[p];
  if (t === undefined || (t & 0xe0) !== 0x60) return undefined;
  const info = t & 0x1f;
  let len: number;
  if (info < 24) { len = info; p += 1; }
  else if (info === 24) { len = b[p + 1] ?? 0; p += 2; }
  else if (info === 25) { len = ((b[p + 1] ?? 0) << 8) | (b[p + 2] ?? 0); p += 3; }
  else return undefined;
  if (p + len >= n) return undefined; // something must follow
  end = p + len;
  if (len === 0 || len > 64) return utf8.decode(b.subarray(p, end));
  const known = cachedName(b, p, end);
  if (known !== undefined) return known;
  const text = utf8.decode(b.subarray(p, end));
  // A copy: a Buffer's slice would share the frame's memory.
  names[(len * 31 + b[p]! * 7 + b[end - 1]!) & 63] = { bytes: new Uint8Array(b.subarray(p, end)), text };
  return text;
}

/**
 * An unsigned integer item at `p` (any width, JL writes 9 bytes) that fits a safe integer and
 * is followed by something before `n`; sets {@link end}. -1 otherwise.
 */
function readUint(b: Uint8Array, p: number, n: number): number {
  const t = b[p]!;
  if (t >> 5 !== 0) return -1;
  const info = t & 0x1f;
  let size: number;
  if (info < 24) size = 0;
  else if (info <= 27) size = 1 << (info - 24);
  else return -1;
  if (p + 1 + size >= n) return -1;
  let value = size === 0 ? info : 0;
  for (let i = 1; i <= size; i++) value = value * 256 + b[p + i]!;
  if (value > Number.MAX_SAFE_INTEGER) return -1;
  end = p + 1 + size;
  return value;
}
