/**
 * The Rembus message kinds (spec §2.2) as a discriminated union on `type`. Shared by the
 * component and the broker; pure data, no I/O.
 *
 * Message ids are unsigned 64-bit integers kept as `bigint` (spec §2.4: never a JS number);
 * on the CBOR wire they are 8-byte little-endian byte strings.
 */
import type { PubMeta } from './pub-meta.js';

/** An unsigned 64-bit message id. */
export type MsgId = bigint;

/** Message type codes: the low nibble of element 0 (spec §2.2). */
export const TYPE = {
  IDENTITY: 0,
  PUB: 1,
  RPC: 2,
  ADMIN: 3,
  RESPONSE: 4,
  ACK: 5,
  ACK2: 6,
  UNREGISTER: 9,
  REGISTER: 10,
  ATTESTATION: 11,
  PING: 12,
  CLOSE: 15,
} as const;

/** Flags of the PUB type byte (spec §2.3). */
export const QOS0 = 0x00;
export const QOS1 = 0x10;
export const QOS2 = 0x30;
export const SLOT = 0x40;

/**
 * Streaming RPC, a TS extension (README "Streaming RPC on the wire"). Both references mask the
 * flag nibble of RPC and RESPONSE type bytes (spec §2.3), so these flags are invisible to them:
 * - RPC | 0x20: the caller accepts a stream of answers;
 * - RESPONSE | 0x20: one stream item; RESPONSE | 0x30: the stream ended;
 * - RESPONSE | 0x40, sent by the caller: the call is withdrawn (a reference peer ignores it as a
 *   RESPONSE with an unknown id, spec §2.4, rather than running the method again).
 */
export const RPC_STREAM = 0x20;
export const RESPONSE_ITEM = 0x20;
export const RESPONSE_END = 0x30;
export const RESPONSE_CANCEL = 0x40;

/** Topic of the broker's connection events (JL, spec §4.4): `[{ event, cid }]`. */
export const COMPONENT_INFO_TOPIC = 'component_info';
/** Broker-local method (TS): the connected named components and what they expose. */
export const PRESENCE_METHOD = '__presence__';
/** Broker-local method (TS): the names of the connected exposers of a method, caller excluded. */
export const EXPOSERS_METHOD = '__exposers__';

/** RESPONSE status codes (spec §2.5). */
export const STATUS = {
  OK: 0,
  ERROR: 10,
  CHALLENGE: 11,
  IDENTIFICATION_ERROR: 20,
  METHOD_EXCEPTION: 40,
  METHOD_ARGS_ERROR: 41,
  METHOD_NOT_FOUND: 42,
  METHOD_UNAVAILABLE: 43,
  METHOD_LOOPBACK: 44,
  TARGET_NOT_FOUND: 45,
  TARGET_DOWN: 46,
  UNKNOWN_ADMIN_CMD: 47,
  NAME_ALREADY_TAKEN: 60,
} as const;

/** Broker-wide admin commands travel on this topic (spec §6). */
export const CONFIG_TOPIC = '__config__';

/** msg_from values (spec §4.7): nanoseconds, 0 = Now, +Infinity = LastReceived. */
export const MSG_FROM_NOW = 0;
export const MSG_FROM_LAST_RECEIVED = Number.POSITIVE_INFINITY;

export interface IdentityMsg { type: 'identity'; id: MsgId; cid: string; meta?: Record<string, unknown> }
/**
 * `flags` is the high nibble of the type byte; `id` is present iff flags ≠ 0. `meta`: the TS
 * extension's trailing map (src/protocol/pub-meta.ts), only between peers that negotiated it.
 */
export interface PubMsg { type: 'pub'; flags: number; id?: MsgId; topic: string; args: unknown[]; meta?: PubMeta }
/** `stream`: the caller accepts a stream of answers (flag 0x20, TS extension). */
export interface RpcMsg {
  type: 'rpc'; id: MsgId; topic: string; target: string | null; args: unknown[]; stream?: boolean;
}
export interface AdminMsg { type: 'admin'; id: MsgId; topic: string; cmd: Record<string, unknown> }
/**
 * `stream` (TS extension): `'item'` one value of a stream, `'end'` its end, `'cancel'` the
 * caller withdraws call `id`; absent for an ordinary (final) RESPONSE.
 */
export interface ResponseMsg {
  type: 'response'; id: MsgId; status: number; data: unknown; stream?: 'item' | 'end' | 'cancel';
}
export interface AckMsg { type: 'ack'; id: MsgId }
export interface Ack2Msg { type: 'ack2'; id: MsgId }
export interface UnregisterMsg { type: 'unregister'; id: MsgId }
export interface RegisterMsg {
  type: 'register'; id: MsgId; cid: string; pin: string; pubkey: Uint8Array; keyType: number;
}
export interface AttestationMsg {
  type: 'attestation'; id: MsgId; cid: string; signature: Uint8Array; meta?: Record<string, unknown>;
}
export interface PingMsg { type: 'ping'; id: MsgId; cid: string }
export interface CloseMsg { type: 'close' }

/** Any Rembus message. */
export type Msg =
  | IdentityMsg | PubMsg | RpcMsg | AdminMsg | ResponseMsg | AckMsg | Ack2Msg
  | UnregisterMsg | RegisterMsg | AttestationMsg | PingMsg | CloseMsg;

/** The QoS part of PUB flags: 0x00, 0x10 or 0x30. */
export function qosOf(flags: number): number {
  return flags & 0x30;
}

/** The slot carried in the low 32 bits of a slotted PUB id (spec §2.4), or undefined. */
export function slotOf(msg: PubMsg): number | undefined {
  return (msg.flags & SLOT) !== 0 && msg.id !== undefined ? Number(msg.id & 0xffffffffn) : undefined;
}
