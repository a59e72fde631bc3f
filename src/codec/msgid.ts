/**
 * Message id helpers (spec §2.4): random unsigned 64-bit ids, carried on the CBOR wire as
 * 8-byte little-endian byte strings. Pure; uses Web Crypto's `getRandomValues`, which both
 * Node ≥ 20 and browsers provide.
 */
import { DecodeError } from '../errors.js';
import type { MsgId } from '../protocol/messages.js';

const POOL_IDS = 512;
const pool = new BigUint64Array(POOL_IDS);
let next = POOL_IDS;

/** A fresh random 64-bit message id. Ids come from a refilled pool of random bytes. */
export function newMsgId(): MsgId {
  if (next === POOL_IDS) {
    globalThis.crypto.getRandomValues(pool);
    next = 0;
  }
  return pool[next++]!;
}

/** A fresh id whose low 32 bits are `slot` (spec §2.4, SLOT flag). */
export function newSlottedMsgId(slot: number): MsgId {
  return (newMsgId() & 0xffffffff00000000n) | (BigInt(slot >>> 0) & 0xffffffffn);
}

/** Scratch space for id ⇄ bytes: one typed-array store instead of a DataView per id. */
const scratch = new BigUint64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
/** Typed arrays use the platform's byte order; ids are little-endian on the wire. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The 8 little-endian bytes of an id. */
export function msgIdToBytes(id: MsgId): Uint8Array {
  if (!LITTLE_ENDIAN) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, id), true);
    return bytes;
  }
  scratch[0] = BigInt.asUintN(64, id);
  return scratchBytes.slice();
}

/** Write the 8 little-endian bytes of `id` into `out` at `at`. */
export function writeMsgId(out: Uint8Array, at: number, id: MsgId): void {
  if (!LITTLE_ENDIAN) return out.set(msgIdToBytes(id), at);
  scratch[0] = BigInt.asUintN(64, id);
  out.set(scratchBytes, at);
}

/** The id in the 8 little-endian bytes of `bytes` at `at` (the caller checked the length). */
export function readMsgId(bytes: Uint8Array, at: number): MsgId {
  if (!LITTLE_ENDIAN) return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
  for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[at + i]!;
  return scratch[0]!;
}

/**
 * The id held in an 8-byte byte string.
 * @throws DecodeError when `bytes` is not exactly 8 bytes long.
 */
export function msgIdFromBytes(bytes: unknown): MsgId {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 8) {
    throw new DecodeError(`message id must be an 8-byte byte string, got ${describe(bytes)}`);
  }
  return readMsgId(bytes, 0);
}

function describe(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
