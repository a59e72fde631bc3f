/**
 * CBOR framing of Rembus messages (spec §2): one definite-length array per binary frame.
 * Pure: no I/O. Values are encoded by cbor-x with `useRecords: false`; unknown tags (tag 80
 * DataFrames among them) decode to cbor-x `Tag` objects and re-encode byte for byte.
 */
import { addExtension, Decoder, Encoder, Tag } from 'cbor-x';
import { DecodeError, EncodeError } from '../errors.js';
import {
  RPC_STREAM, TYPE, type AttestationMsg, type IdentityMsg, type Msg, type PubMsg, type ResponseMsg, type RpcMsg,
} from '../protocol/messages.js';
import { metaFromWire, metaToWire } from '../protocol/pub-meta.js';
import { definiteStrings } from './definite-strings.js';
import { msgIdFromBytes, msgIdToBytes, readMsgId, writeMsgId } from './msgid.js';
import { streamFlags, streamOf, withStream } from './stream-flags.js';
import { cborNestingExceeds, MAX_NESTING } from './nesting.js';

// variableMapSize: shortest-form map heads (`a2`, not cbor-x's default map16 `b9 00 02`), as cbor2
// writes them (vectors §8, §10).
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
/**
 * The same decoder reading 8-byte integers as numbers: used when every such head in a frame is
 * known to hold a safe integer, so the result needs no {@link normalizeInts} walk (one fewer pass
 * and no re-assignment of every property: a `Date.now()` in a payload made every frame take it).
 */
const decoderSafeInts = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

// JL may send tag 27 (a serialized Julia object), to be kept opaque (spec §2.1); cbor-x's built-in
// reader turns it into an Error and loses it. Decode-only (no Class, so encoding is unchanged);
// cbor-x extensions are process-wide.
const opaqueTag27 = { tag: 27, decode: (data: unknown) => new Tag(data, 27) };
addExtension(opaqueTag27 as unknown as Parameters<typeof addExtension>[0]);

/** Encode one message as a CBOR frame. @throws EncodeError for values CBOR cannot carry. */
export function encodeCbor(msg: Msg): Uint8Array {
  // ACK and ACK2 are the most frequent frames of QoS1/2 traffic: 11 bytes written directly.
  if (msg.type === 'ack' || msg.type === 'ack2') return ackFrame(msg.type === 'ack' ? TYPE.ACK : TYPE.ACK2, msg.id);
  try {
    if (msg.type === 'admin' && typeof msg.cmd['msg_from'] === 'number') return encodeAdmin(msg.cmd, msg);
    return encodeFrame(toArray(msg));
  } catch (err) {
    if (err instanceof EncodeError) throw err;
    throw new EncodeError(`cannot encode ${msg.type} message: ${(err as Error).message}`, { cause: err });
  }
}

function toArray(msg: Msg): unknown[] {
  switch (msg.type) {
    case 'identity':
      return msg.meta === undefined ? [TYPE.IDENTITY, msgIdToBytes(msg.id), msg.cid]
        : [TYPE.IDENTITY, msgIdToBytes(msg.id), msg.cid, msg.meta];
    case 'pub':
      // The id element is present iff the flags nibble is non-zero (spec §2.3).
      // A trailing metadata map only between peers that negotiated it (src/protocol/pub-meta.ts).
      if ((msg.flags & 0x70) === 0) {
        return msg.meta === undefined ? [TYPE.PUB, msg.topic, msg.args] : [TYPE.PUB, msg.topic, msg.args, metaToWire(msg.meta)];
      }
      if (msg.id === undefined) throw new EncodeError(`publish with flags 0x${msg.flags.toString(16)} needs an id`);
      return msg.meta === undefined ? [TYPE.PUB | (msg.flags & 0xf0), msgIdToBytes(msg.id), msg.topic, msg.args]
        : [TYPE.PUB | (msg.flags & 0xf0), msgIdToBytes(msg.id), msg.topic, msg.args, metaToWire(msg.meta)];
    case 'rpc':
      return [TYPE.RPC | (msg.stream === true ? RPC_STREAM : 0), msgIdToBytes(msg.id), msg.topic, msg.target, msg.args];
    case 'admin': return [TYPE.ADMIN, msgIdToBytes(msg.id), msg.topic, msg.cmd];
    case 'response': return [TYPE.RESPONSE | streamFlags(msg.stream), msgIdToBytes(msg.id), msg.status, msg.data];
    case 'ack': return [TYPE.ACK, msgIdToBytes(msg.id)];
    case 'ack2': return [TYPE.ACK2, msgIdToBytes(msg.id)];
    case 'unregister': return [TYPE.UNREGISTER, msgIdToBytes(msg.id)];
    case 'register':
      return [TYPE.REGISTER, msgIdToBytes(msg.id), msg.cid, msg.pin, msg.pubkey, msg.keyType];
    case 'attestation':
      return msg.meta === undefined ? [TYPE.ATTESTATION, msgIdToBytes(msg.id), msg.cid, msg.signature]
        : [TYPE.ATTESTATION, msgIdToBytes(msg.id), msg.cid, msg.signature, msg.meta];
    case 'ping': return [TYPE.PING, msgIdToBytes(msg.id), msg.cid];
    case 'close': return [TYPE.CLOSE];
  }
}

// msg_from is a float on the wire (spec §4.7, vectors §10): cbor2 writes finite floats as
// doubles and ±Inf/NaN as half floats, while a JS integer 0 would otherwise become `00`.
// The value is encoded as a sentinel double and that double's 9 bytes are then replaced.
const SENTINEL = -1.2345678901234567e-300;
const SENTINEL_BYTES = encoder.encode(SENTINEL);

function encodeAdmin(cmd: Record<string, unknown>, msg: Msg & { type: 'admin' }): Uint8Array {
  const frame = encodeFrame([TYPE.ADMIN, msgIdToBytes(msg.id), msg.topic, { ...cmd, msg_from: SENTINEL }]);
  const at = lastIndexOf(frame, SENTINEL_BYTES);
  const float = encodeFloat(cmd['msg_from'] as number);
  const out = new Uint8Array(frame.length - SENTINEL_BYTES.length + float.length);
  out.set(frame.subarray(0, at), 0);
  out.set(float, at);
  out.set(frame.subarray(at + SENTINEL_BYTES.length), at + float.length);
  return out;
}

/**
 * cbor-x writes integral numbers beyond 32 bits as doubles, which PY and JL read back as floats
 * (e.g. a `Date.now()` argument). When the output holds a double head (a cheap native scan), its
 * items are walked once and every such double is rewritten in place as a CBOR integer: both
 * forms are 9 bytes, so nothing moves and nothing is encoded twice.
 */
function encodeFrame(value: unknown): Uint8Array {
  const out = encoder.encode(value);
  return out.indexOf(0xfb) === -1 ? out : integralDoubles(out);
}

function isWideInt(value: number): boolean {
  return Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x100000000);
}

/**
 * Rewrite `fb` doubles holding wide safe integers as `1b`/`3b` integers, in place. CBOR items
 * are a flat sequence of heads (containers only announce counts), so one linear pass that skips
 * string and byte-string contents visits every head. `bytes` is cbor-x output: well formed.
 */
function integralDoubles(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  while (p < bytes.length) {
    const head = bytes[p]!;
    const major = head >> 5;
    const info = head & 0x1f;
    if (major === 7) {
      if (info === 27) {
        const v = view.getFloat64(p + 1);
        if (isWideInt(v)) {
          bytes[p] = v >= 0 ? 0x1b : 0x3b;
          // Below 2^53: two exact 32-bit halves, no BigInt made per integer.
          const n = v >= 0 ? v : -1 - v;
          const high = Math.floor(n / 0x100000000);
          view.setUint32(p + 1, high);
          view.setUint32(p + 5, n - high * 0x100000000);
        }
      }
      p += info === 27 ? 9 : info === 26 ? 5 : info === 25 ? 3 : info === 24 ? 2 : 1;
      continue;
    }
    let arg = info;
    let size = 1;
    if (info === 24) { arg = bytes[p + 1]!; size = 2; }
    else if (info === 25) { arg = view.getUint16(p + 1); size = 3; }
    else if (info === 26) { arg = view.getUint32(p + 1); size = 5; }
    else if (info === 27) { arg = Number(view.getBigUint64(p + 1)); size = 9; }
    else if (info === 31) arg = 0; // indefinite length: its chunks or items follow as heads
    p += size;
    if ((major === 2 || major === 3) && info !== 31) p += arg;
  }
  return bytes;
}

function lastIndexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new EncodeError('internal: msg_from sentinel not found');
}

function encodeFloat(value: number): Uint8Array {
  if (Number.isNaN(value)) return Uint8Array.of(0xf9, 0x7e, 0x00);
  if (value === Infinity) return Uint8Array.of(0xf9, 0x7c, 0x00);
  if (value === -Infinity) return Uint8Array.of(0xf9, 0xfc, 0x00);
  const out = new Uint8Array(9);
  out[0] = 0xfb;
  new DataView(out.buffer).setFloat64(1, value);
  return out;
}

/** `[type, id]` of an ACK or ACK2: `82 0t 48` and the 8 id bytes (spec §2.2, vectors). */
function ackFrame(type: number, id: bigint): Uint8Array {
  const out = new Uint8Array(11);
  out[0] = 0x82;
  out[1] = type;
  out[2] = 0x48;
  writeMsgId(out, 3, id);
  return out;
}

/**
 * Decode one binary frame into a message.
 * @throws DecodeError for bytes that are not CBOR, a non-array, an unknown type or a wrong shape,
 * or nesting deeper than {@link MAX_NESTING}.
 */
export function decodeCbor(frame: Uint8Array): Msg {
  if (frame.length === 11 && frame[0] === 0x82 && frame[2] === 0x48) {
    if (frame[1] === TYPE.ACK) return { type: 'ack', id: readMsgId(frame, 3) };
    if (frame[1] === TYPE.ACK2) return { type: 'ack2', id: readMsgId(frame, 3) };
  }
  if (cborNestingExceeds(frame)) throw new DecodeError(`CBOR frame nested deeper than ${MAX_NESTING} levels`);
  let value: unknown;
  try {
    value = decodeInts(frame);
  } catch (err) {
    throw new DecodeError(`malformed CBOR frame: ${(err as Error).message}`, { cause: err });
  }
  return fromArray(value);
}

/**
 * Decode with integers normalised (spec §2.1): JL writes every integer in 9 bytes, which cbor-x
 * hands back as bigint; those that fit a JS number become numbers.
 */
function decodeInts(bytes: Uint8Array): unknown {
  const wide = wideInts(bytes);
  if (wide === WIDE_NONE) return decodeRaw(bytes, decoder);
  if (wide === WIDE_SAFE) return decodeRaw(bytes, decoderSafeInts);
  return normalizeInts(decodeRaw(bytes, decoder));
}

/** cbor-x rejects indefinite-length strings, which spec §2.1 says to accept: join them and retry. */
function decodeRaw(bytes: Uint8Array, with_: Decoder = decoder): unknown {
  try {
    return with_.decode(bytes);
  } catch (err) {
    let definite: Uint8Array | undefined;
    try {
      definite = definiteStrings(bytes);
    } catch { /* malformed: report cbor-x's error */ }
    if (definite === undefined) throw err;
    return with_.decode(definite);
  }
}

const WIDE_NONE = 0;
const WIDE_SAFE = 1;
const WIDE_CAREFUL = 2;

/** What a byte may start, for {@link wideInts}: 1 an unsigned 8-byte integer (0x1b), 2 a careful one. */
const WIDE_BYTES = new Uint8Array(256);
WIDE_BYTES[0x1b] = 1;
WIDE_BYTES[0x3b] = WIDE_BYTES[0xc2] = WIDE_BYTES[0xc3] = 2;

/**
 * {@link WIDE_NONE} when no byte can be an 8-byte integer head (0x1b, 0x3b); {@link WIDE_SAFE}
 * when every unsigned one (any 0x1b byte, head or not) is followed by a value below
 * 0x1f << 48, well inside the safe range, and neither a negative one (0x3b: cbor-x's
 * `int64AsNumber` reads those through a 32-bit `~`, wrongly) nor a bignum tag (0xc2, 0xc3) can
 * be there: then reading 8-byte integers as numbers is exact and gives what
 * {@link normalizeInts} would; else {@link WIDE_CAREFUL}. A data byte that merely looks like
 * such a head only sends the frame the careful way. One pass over the bytes with a lookup
 * table, no walk of the items: on the plain `Uint8Array` views frames are decoded from, four
 * `indexOf` scans took twice its time (issue 20).
 */
function wideInts(frame: Uint8Array): number {
  let wide = WIDE_NONE;
  const n = frame.length;
  for (let p = 0; p < n; p++) {
    const kind = WIDE_BYTES[frame[p]!]!;
    if (kind === 0) continue;
    if (kind === 2 || p + 8 >= n || frame[p + 1] !== 0 || frame[p + 2] !== 0 || frame[p + 3]! >= 0x1f) return WIDE_CAREFUL;
    wide = WIDE_SAFE;
  }
  return wide;
}

function fromArray(value: unknown): Msg {
  if (!Array.isArray(value) || value.length === 0) throw new DecodeError('a frame must be a non-empty CBOR array');
  const typeByte = value[0];
  if (typeof typeByte !== 'number' || !Number.isInteger(typeByte) || typeByte < 0 || typeByte > 255) {
    throw new DecodeError(`invalid type byte ${String(typeByte)}`);
  }
  const type = typeByte & 0x0f;
  const flags = typeByte & 0xf0;
  const v = value as unknown[];
  switch (type) {
    case TYPE.IDENTITY:
      need(v, 3, 4, 'identity');
      return withMeta<IdentityMsg>({ type: 'identity', id: msgIdFromBytes(v[1]), cid: text(v[2], 'cid') }, v[3]);
    case TYPE.PUB: return decodePub(v, flags);
    case TYPE.RPC:
      need(v, 5, 5, 'rpc');
      return withStream<RpcMsg>({ type: 'rpc', id: msgIdFromBytes(v[1]), topic: text(v[2], 'topic'),
        target: v[3] == null ? null : text(v[3], 'target'), args: argsOf(v[4]) },
        (flags & RPC_STREAM) !== 0 || undefined);
    case TYPE.ADMIN: {
      need(v, 4, 4, 'admin');
      const cmd = v[3];
      if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd) || cmd instanceof Uint8Array) {
        // Both references answer status 10 to a non-map admin payload (spec §6): keep it decodable.
        return { type: 'admin', id: msgIdFromBytes(v[1]), topic: text(v[2], 'topic'), cmd: {} };
      }
      return { type: 'admin', id: msgIdFromBytes(v[1]), topic: text(v[2], 'topic'), cmd: cmd as Record<string, unknown> };
    }
    case TYPE.RESPONSE:
      need(v, 3, 4, 'response');
      return withStream<ResponseMsg>({ type: 'response', id: msgIdFromBytes(v[1]), status: uint(v[2], 'status'),
        data: v[3] ?? null }, streamOf(flags));
    case TYPE.ACK: need(v, 2, 2, 'ack'); return { type: 'ack', id: msgIdFromBytes(v[1]) };
    case TYPE.ACK2: need(v, 2, 2, 'ack2'); return { type: 'ack2', id: msgIdFromBytes(v[1]) };
    case TYPE.UNREGISTER: need(v, 2, 2, 'unregister'); return { type: 'unregister', id: msgIdFromBytes(v[1]) };
    case TYPE.REGISTER:
      need(v, 6, 6, 'register');
      return { type: 'register', id: msgIdFromBytes(v[1]), cid: text(v[2], 'cid'), pin: text(v[3], 'pin'),
        pubkey: bytes(v[4] instanceof Tag ? v[4].value : v[4], 'pubkey'), keyType: uint(v[5], 'keytype') };
    case TYPE.ATTESTATION:
      need(v, 4, 5, 'attestation');
      return withMeta<AttestationMsg>({ type: 'attestation', id: msgIdFromBytes(v[1]), cid: text(v[2], 'cid'),
        signature: bytes(v[3], 'signature') }, v[4]);
    case TYPE.PING: need(v, 3, 3, 'ping'); return { type: 'ping', id: msgIdFromBytes(v[1]), cid: text(v[2], 'cid') };
    case TYPE.CLOSE: return { type: 'close' };
    default: throw new DecodeError(`unknown message type ${typeByte}`);
  }
}

function decodePub(v: unknown[], flags: number): PubMsg {
  // One more element than the spec's: the TS metadata map (src/protocol/pub-meta.ts).
  if ((flags & 0x70) === 0) {
    need(v, 3, 4, 'publish');
    const msg: PubMsg = { type: 'pub', flags: 0, topic: text(v[1], 'topic'), args: argsOf(v[2]) };
    if (v.length === 4) msg.meta = metaFromWire(v[3]);
    return msg;
  }
  need(v, 4, 5, 'publish');
  const msg: PubMsg = { type: 'pub', flags, id: msgIdFromBytes(v[1]), topic: text(v[2], 'topic'), args: argsOf(v[3]) };
  if (v.length === 5) msg.meta = metaFromWire(v[4]);
  return msg;
}

/** A non-array payload is one argument; null is none (spec §2.1, TS decision). */
export function argsOf(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  return data == null ? [] : [data];
}

function withMeta<T extends { meta?: Record<string, unknown> }>(msg: T, meta: unknown): T {
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) msg.meta = meta as Record<string, unknown>;
  return msg;
}

function need(v: unknown[], min: number, max: number, kind: string): void {
  if (v.length < min || v.length > max) {
    throw new DecodeError(`${kind} message must have ${min === max ? min : `${min}..${max}`} elements, got ${v.length}`);
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new DecodeError(`${field} must be a text string, got ${typeof value}`);
  return value;
}

function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new DecodeError(`${field} must be a byte string`);
  return value;
}

function uint(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new DecodeError(`${field} must be an unsigned integer`);
  }
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Integers that fit a JS number become numbers; wider ones stay bigint (spec §2.1). */
export function normalizeInts(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalizeInts(value[i]);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Tag)) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) obj[key] = normalizeInts(obj[key]);
  }
  return value;
}

/** Raw CBOR encoding of any value (used where the broker stores or forwards args). */
export function encodeValue(value: unknown): Uint8Array {
  return encodeFrame(value);
}

/** Raw CBOR decoding of any value, with the same integer normalisation as frames. */
export function decodeValue(bytes: Uint8Array): unknown {
  return decodeInts(bytes);
}
