/**
 * RPC and RESPONSE frames written by hand around the one value cbor-x encodes (the args, the
 * data): the same bytes as `encodeCbor` (tested byte for byte), without the message array and
 * the id's own 8-byte buffer that the generic path builds for every call and every answer
 * (issue 20, W4's tail). Pure: no I/O.
 */
import { EncodeError } from '../errors.js';
import { RPC_STREAM, TYPE, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import { encodeCbor, encodeValue } from './cbor.js';
import { writeMsgId } from './msgid.js';
import { streamFlags } from './stream-flags.js';
import { writeByte, writeBytes, writeFrame, writeHead as writeItemHead, writeValue } from './value-writer.js';

const utf8 = new TextEncoder();

/**
 * `[type, id, topic, target, args]` as `encodeCbor` writes it: plain args in one pass into
 * value-writer.ts's slab (the frame is a view of it: no copy of the args, no cbor-x set-up),
 * others around the value cbor-x encodes. @throws EncodeError
 */
export function encodeRpcFrame(msg: RpcMsg): Uint8Array {
  return writeFrame(writeRpc, msg, undefined) ?? encodeRpcAround(msg);
}

/** `[type, id, status, data]` as `encodeCbor` writes it, plain data in one pass as {@link encodeRpcFrame}. @throws EncodeError */
export function encodeResponseFrame(msg: ResponseMsg): Uint8Array {
  const { status } = msg;
  if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) return encodeCbor(msg);
  return writeFrame(writeResponse, msg, undefined) ?? encodeResponseAround(msg);
}

const idBytes = new Uint8Array(9);
idBytes[0] = 0x48; // an 8-byte byte string

function writeRpc(msg: RpcMsg, _: undefined): void {
  writeByte(0x85);
  writeItemHead(0, TYPE.RPC | (msg.stream === true ? RPC_STREAM : 0));
  writeMsgId(idBytes, 1, msg.id);
  writeBytes(idBytes);
  writeValue(msg.topic);
  if (msg.target === null) writeByte(0xf6);
  else writeValue(msg.target);
  writeValue(msg.args);
}

function writeResponse(msg: ResponseMsg, _: undefined): void {
  writeByte(0x84);
  writeItemHead(0, TYPE.RESPONSE | streamFlags(msg.stream));
  writeMsgId(idBytes, 1, msg.id);
  writeBytes(idBytes);
  writeItemHead(0, msg.status);
  writeValue(msg.data);
}

function encodeRpcAround(msg: RpcMsg): Uint8Array {
  const args = encoded(msg.args, msg);
  const type = TYPE.RPC | (msg.stream === true ? RPC_STREAM : 0);
  const topic = textBytes(msg.topic);
  const target = msg.target === null ? undefined : textBytes(msg.target);
  const size = 1 + typeSize(type) + 9 + itemSize(topic) + (target === undefined ? 1 : itemSize(target)) + args.length;
  const out = new Uint8Array(size);
  out[0] = 0x85;
  let p = writeHead(out, 1, 0, type);
  p = writeId(out, p, msg);
  p = writeText(out, p, topic);
  if (target === undefined) out[p++] = 0xf6;
  else p = writeText(out, p, target);
  out.set(args, p);
  return out;
}

function encodeResponseAround(msg: ResponseMsg): Uint8Array {
  const { status } = msg;
  const data = encoded(msg.data, msg);
  const type = TYPE.RESPONSE | streamFlags(msg.stream);
  const out = new Uint8Array(1 + typeSize(type) + 9 + headSize(status) + data.length);
  out[0] = 0x84;
  let p = writeHead(out, 1, 0, type);
  p = writeId(out, p, msg);
  p = writeHead(out, p, 0, status);
  out.set(data, p);
  return out;
}

function encoded(value: unknown, msg: RpcMsg | ResponseMsg): Uint8Array {
  try {
    return encodeValue(value);
  } catch (err) {
    throw new EncodeError(`cannot encode ${msg.type} message: ${(err as Error).message}`, { cause: err });
  }
}

/** The UTF-8 bytes of a text, or the text itself when it is ASCII (written byte by byte). */
function textBytes(s: string): string | Uint8Array {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return utf8.encode(s);
  return s;
}

function itemSize(text: string | Uint8Array): number {
  return headSize(text.length) + text.length;
}

function typeSize(type: number): number {
  return type < 24 ? 1 : 2;
}

function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** A CBOR head of major type `major` (0 uint, 3 text) and argument `n` < 2^32, shortest form. */
function writeHead(out: Uint8Array, p: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    out[p] = m | n;
    return p + 1;
  }
  if (n < 0x100) {
    out[p] = m | 24;
    out[p + 1] = n;
    return p + 2;
  }
  if (n < 0x10000) {
    out[p] = m | 25;
    out[p + 1] = n >>> 8;
    out[p + 2] = n & 0xff;
    return p + 3;
  }
  out[p] = m | 26;
  out[p + 1] = n >>> 24;
  out[p + 2] = (n >>> 16) & 0xff;
  out[p + 3] = (n >>> 8) & 0xff;
  out[p + 4] = n & 0xff;
  return p + 5;
}

function writeId(out: Uint8Array, p: number, msg: RpcMsg | ResponseMsg): number {
  out[p] = 0x48;
  writeMsgId(out, p + 1, msg.id);
  return p + 9;
}

function writeText(out: Uint8Array, p: number, text: string | Uint8Array): number {
  p = writeHead(out, p, 3, text.length);
  if (typeof text !== 'string') {
    out.set(text, p);
    return p + text.length;
  }
  for (let i = 0; i < text.length; i++) out[p + i] = text.charCodeAt(i);
  return p + text.length;
}
