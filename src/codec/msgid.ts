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

/** The 8 little-endian bytes of an id. */
export function msgIdToBytes(id: MsgId): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, id), true);
  return bytes;
}

/**
 * The id held in an 8-byte byte string.
 * @throws DecodeError when `bytes` is not exactly 8 bytes long.
 */
export function msgIdFromBytes(bytes: unknown): MsgId {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 8) {
    throw new DecodeError(`message id must be an 8-byte byte string, got ${describe(bytes)}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

function describe(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
