/**
 * The message a decoded CBOR frame holds (spec §2): its type byte, element count and field
 * types checked, a wrong shape a {@link DecodeError}. Pure: works on values cbor-x decoded.
 */
import { Tag } from 'cbor-x';
import { DecodeError } from '../errors.js';
import {
  RPC_STREAM, TYPE, type AttestationMsg, type IdentityMsg, type Msg, type PubMsg, type ResponseMsg, type RpcMsg,
} from '../protocol/messages.js';
import { metaFromWire } from '../protocol/pub-meta.js';
import { msgIdFromBytes } from './msgid.js';
import { streamOf, withStream } from './stream-flags.js';

/** The message `value` (a decoded frame) holds. @throws DecodeError for a wrong shape. */
export function fromArray(value: unknown): Msg {
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
