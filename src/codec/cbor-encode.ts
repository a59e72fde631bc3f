/**
 * CBOR encoding of Rembus messages (spec §2): one definite-length array per binary frame, with
 * the byte-level fixes the references need (msg_from as a float, wide integers as integers).
 * Pure: no I/O. Values are encoded by cbor-x with `useRecords: false`.
 */
import { Encoder } from 'cbor-x';
import { EncodeError } from '../errors.js';
import { RPC_STREAM, TYPE, type Msg } from '../protocol/messages.js';
import { metaToWire } from '../protocol/pub-meta.js';
import { msgIdToBytes, writeMsgId } from './msgid.js';
import { streamFlags } from './stream-flags.js';

// variableMapSize: shortest-form map heads (`a2`, not cbor-x's default map16 `b9 00 02`), as cbor2
// writes them (vectors §8, §10).
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });

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

/** Raw CBOR encoding of any value (used where the broker stores or forwards args). */
export function encodeValue(value: unknown): Uint8Array {
  return encodeFrame(value);
}
