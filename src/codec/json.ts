/**
 * The JSON-RPC 2.0 text-frame variant of the protocol (spec §2.8). Pure.
 *
 * Ids above 2^53 are parsed losslessly (lossless-json) and written back in the JSON type they
 * arrived in: PY peers send numbers, JL peers decimal strings. Both type keys (`type`, JL's
 * `__type__`) are read, and both are written. Binary values travel as base64 text.
 */
import { parse, stringify } from 'lossless-json';
import { Tag } from 'cbor-x';
import { DecodeError, EncodeError } from '../errors.js';
import {
  TYPE, type AttestationMsg, type IdentityMsg, type Msg, type MsgId, type ResponseMsg, type RpcMsg,
} from '../protocol/messages.js';
import { argsOf } from './cbor.js';
import { withStream } from './stream-flags.js';
import { jsonNestingExceeds, MAX_NESTING } from './nesting.js';

/** How a JSON peer spells ids; learnt from the last frame received. */
export interface JsonStyle { idAsString: boolean }

/** The result of decoding a text frame: the message and the peer's id spelling. */
export interface JsonDecoded { msg: Msg; idAsString: boolean }

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Rembus ids are unsigned 64-bit integers (spec §2.4): a JSON id outside 0 … 2^64−1 is no id. */
const MAX_ID = (1n << 64n) - 1n;

/**
 * A JSON-RPC frame whose `id` is not an unsigned 64-bit integer (spec §2.4, §2.8): negative,
 * fractional, above 2^64−1 or not a number at all. Such an id cannot be echoed faithfully (the
 * 8-byte id of the CBOR form would wrap it: 2^64+1 would be answered as 1), so the frame is
 * refused. For a request `reply` holds the answer to send: a JSON-RPC 2.0 "Invalid Request"
 * (code −32600) with id null, which also carries the Rembus RESPONSE keys (type 4, sts 10).
 */
export class JsonRpcIdError extends DecodeError {
  /** The text frame to answer with, or undefined when the frame was itself a reply. */
  readonly reply: string | undefined;

  constructor(id: string, request: boolean) {
    super(`invalid JSON-RPC id ${id}: not an unsigned 64-bit integer`);
    this.name = 'JsonRpcIdError';
    this.reply = request ? JSON.stringify({ jsonrpc: '2.0', id: null, error: {
      code: -32600, message: 'Invalid Request', data: this.message, type: TYPE.RESPONSE, __type__: TYPE.RESPONSE,
      sts: 10 } }) : undefined;
  }
}

/** Values of the `stream` key of a streaming RESPONSE (TS extension). */
const STREAM_MARKERS: ReadonlySet<unknown> = new Set(['item', 'end', 'cancel']);

/**
 * Longest integer literal parsed exactly. `BigInt()` of n digits costs O(n²): a 60 MiB frame of
 * digits would block the event loop for minutes, so longer literals are refused (DecodeError).
 */
const MAX_INTEGER_DIGITS = 4096;

function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    if (text.length > MAX_INTEGER_DIGITS) throw new DecodeError(`integer literal longer than ${MAX_INTEGER_DIGITS} digits`);
    const big = BigInt(text);
    return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big;
  }
  return Number.parseFloat(text);
}

/**
 * Decode one text frame.
 * @throws DecodeError for non-JSON text, an object that is no Rembus message, or nesting deeper
 * than {@link MAX_NESTING}.
 */
export function decodeJson(text: string): JsonDecoded {
  if (jsonNestingExceeds(text)) throw new DecodeError(`JSON frame nested deeper than ${MAX_NESTING} levels`);
  let value: unknown;
  try {
    value = parse(text, null, parseNumber);
  } catch (err) {
    throw new DecodeError(`malformed JSON frame: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DecodeError('a JSON frame must be an object');
  }
  const obj = value as Record<string, unknown>;
  const idAsString = typeof obj['id'] === 'string';
  return { msg: fromObject(obj), idAsString };
}

function fromObject(obj: Record<string, unknown>): Msg {
  if (obj['id'] === undefined || obj['id'] === null) {
    return { type: 'pub', flags: 0, topic: method(obj), args: argsOf(obj['params']) };
  }
  const id = parseId(obj['id'], obj['method'] !== undefined);
  const reply = obj['result'] !== undefined ? obj['result'] : obj['error'];
  if (reply !== undefined) return fromReply(id, reply);
  const params = obj['params'];
  if (params === undefined || params === null || Array.isArray(params)) {
    if (obj['method'] === undefined) throw new DecodeError('a JSON message with an id needs params, result or error');
    // A top-level `"stream": true` asks for a stream (TS extension); references ignore the key.
    return withStream<RpcMsg>({ type: 'rpc', id, topic: method(obj), target: null, args: argsOf(params) },
      obj['stream'] === true || undefined);
  }
  if (typeof params !== 'object') return { type: 'rpc', id, topic: method(obj), target: null, args: [params] };
  return fromParams(id, method(obj), params as Record<string, unknown>);
}

function fromReply(id: MsgId, reply: unknown): Msg {
  const r = reply !== null && typeof reply === 'object' && !Array.isArray(reply) ? reply as Record<string, unknown> : undefined;
  const t = r === undefined ? undefined : typeKey(r);
  if (r === undefined || t === undefined || t === TYPE.RESPONSE) {
    const status = r?.['sts'] ?? 0;
    if (typeof status !== 'number') throw new DecodeError('response sts must be a number');
    return withStream<ResponseMsg>({ type: 'response', id, status, data: r === undefined ? reply : r['data'] ?? null },
      STREAM_MARKERS.has(r?.['stream']) ? r!['stream'] as ResponseMsg['stream'] : undefined);
  }
  if (t === TYPE.ACK) return { type: 'ack', id };
  if (t === TYPE.ACK2) return { type: 'ack2', id };
  throw new DecodeError(`unknown reply type ${String(t)}`);
}

function fromParams(id: MsgId, topic: string, p: Record<string, unknown>): Msg {
  const t = typeKey(p);
  if (t === undefined) throw new DecodeError('params object without a type');
  if (typeof t !== 'number') throw new DecodeError('params type must be a number');
  // A PUB carries its flags as the type (0x10, 0x30, maybe | 0x40); JL spells QoS0+slot as 0x40.
  if ((t & 0x30) !== 0 || t === 0x40) return { type: 'pub', flags: t & 0xf0, id, topic, args: argsOf(p['data']) };
  switch (t) {
    case TYPE.IDENTITY: return withMeta<IdentityMsg>({ type: 'identity', id, cid: str(p['cid'], 'cid') }, p['meta']);
    case TYPE.ADMIN: {
      const data = p['data'];
      const cmd = data !== null && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : {};
      return { type: 'admin', id, topic, cmd };
    }
    case TYPE.ATTESTATION:
      return withMeta<AttestationMsg>({ type: 'attestation', id, cid: topic,
        signature: base64(p['signature'], 'signature') }, p['meta']);
    case TYPE.REGISTER:
      return { type: 'register', id, cid: topic, pin: str(p['pin'], 'pin'), pubkey: base64(p['key_val'], 'key_val'),
        keyType: typeof p['key_type'] === 'number' ? p['key_type'] : 1 };
    case TYPE.UNREGISTER: return { type: 'unregister', id };
    // Unknown types: JL treats the object as named arguments of an RPC (spec §2.8 TS decision).
    default: return { type: 'rpc', id, topic, target: null, args: [p] };
  }
}

/** JL adds its listener map as `meta` to IDENTITY and ATTESTATION (spec §2.8); kept as in CBOR. */
function withMeta<T extends { meta?: Record<string, unknown> }>(msg: T, meta: unknown): T {
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) msg.meta = meta as Record<string, unknown>;
  return msg;
}

function typeKey(o: Record<string, unknown>): unknown {
  return o['type'] ?? o['__type__'];
}

/** The id as a uint64, never wrapped. @throws JsonRpcIdError */
function parseId(id: unknown, request: boolean): MsgId {
  let value: bigint | undefined;
  if (typeof id === 'bigint') value = id;
  else if (typeof id === 'number' && Number.isSafeInteger(id)) value = BigInt(id);
  else if (typeof id === 'string' && /^\d{1,20}$/.test(id)) value = BigInt(id);
  if (value === undefined || value < 0n || value > MAX_ID) {
    throw new JsonRpcIdError(typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : String(id).slice(0, 40), request);
  }
  return value;
}

function method(obj: Record<string, unknown>): string {
  return str(obj['method'], 'method');
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new DecodeError(`${field} must be a string`);
  return value;
}

function base64(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== 'string') throw new DecodeError(`${field} must be base64 text`);
  return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}

/**
 * Encode one message as a JSON-RPC text frame in the peer's id spelling.
 * @throws EncodeError for values JSON cannot carry (DataFrames, other CBOR tags).
 */
export function encodeJson(msg: Msg, style: JsonStyle = { idAsString: false }): string {
  const obj = toObject(msg);
  if (obj.id !== undefined && style.idAsString) obj.id = String(obj.id);
  try {
    return stringify(obj, replacer) ?? '';
  } catch (err) {
    throw new EncodeError(`cannot encode ${msg.type} message as JSON: ${(err as Error).message}`, { cause: err });
  }
}

interface JsonRpc {
  jsonrpc: '2.0'; id?: MsgId | string; method?: string; params?: unknown; result?: unknown; error?: unknown;
  stream?: true;
}

function typed(t: number, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: t, __type__: t, ...rest };
}

function toObject(msg: Msg): JsonRpc {
  const j = (o: Omit<JsonRpc, 'jsonrpc'>): JsonRpc => ({ jsonrpc: '2.0', ...o });
  switch (msg.type) {
    case 'pub':
      return (msg.flags & 0x70) === 0 ? j({ method: msg.topic, params: msg.args })
        : j({ id: msg.id, method: msg.topic, params: typed(msg.flags & 0xf0, { data: msg.args }) });
    case 'rpc':
      return j({ id: msg.id, method: msg.topic, params: msg.args, ...(msg.stream === true ? { stream: true } : {}) });
    case 'admin': return j({ id: msg.id, method: msg.topic, params: typed(TYPE.ADMIN, { data: msg.cmd }) });
    case 'identity':
      return j({ id: msg.id, method: '__identity__',
        params: typed(TYPE.IDENTITY, withMetaKey({ cid: msg.cid }, msg.meta)) });
    case 'attestation':
      return j({ id: msg.id, method: msg.cid,
        params: typed(TYPE.ATTESTATION, withMetaKey({ signature: msg.signature }, msg.meta)) });
    case 'register':
      return j({ id: msg.id, method: msg.cid,
        params: typed(TYPE.REGISTER, { pin: msg.pin, key_val: msg.pubkey, key_type: msg.keyType }) });
    case 'unregister': return j({ id: msg.id, method: '__unregister__', params: typed(TYPE.UNREGISTER) });
    case 'response': {
      const body = typed(TYPE.RESPONSE, { sts: msg.status, data: msg.data,
        ...(msg.stream === undefined ? {} : { stream: msg.stream }) });
      return msg.status === 0 || msg.status === 11 ? j({ id: msg.id, result: body }) : j({ id: msg.id, error: body });
    }
    case 'ack': return j({ id: msg.id, result: typed(TYPE.ACK) });
    case 'ack2': return j({ id: msg.id, result: typed(TYPE.ACK2) });
    case 'ping': case 'close':
      throw new EncodeError(`${msg.type} messages have no JSON form`);
  }
}

function withMetaKey(params: Record<string, unknown>, meta: Record<string, unknown> | undefined): Record<string, unknown> {
  return meta === undefined ? params : { ...params, meta };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toBase64(value);
  if (value instanceof Tag) throw new EncodeError(`CBOR tag ${value.tag} has no JSON form`);
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
