/**
 * MQTT payloads of Rembus publishes, requests and responses: JSON text (spec §9, PY reference).
 * Pure. Integers beyond 2^53 survive both ways (lossless-json: bigint out, bigint in); bytes
 * travel as base64 text and arrive as that text; DataFrames and other CBOR tags cannot travel.
 */
import { Tag } from 'cbor-x';
import { parse, stringify } from 'lossless-json';
import { DecodeError, EncodeError } from '../errors.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The payload of a publish: the JSON of the single argument when there is exactly one, else the
 * JSON array of all of them (`[]` for none). A single argument that is itself an array therefore
 * arrives spread, as in PY.
 * @throws EncodeError for a DataFrame, a CBOR tag, or anything JSON cannot hold (cycles).
 */
export function encodePublish(args: readonly unknown[]): string {
  return toJson(args.length === 1 ? args[0] : args);
}

/** The payload of a request: always the JSON array of the arguments. @throws EncodeError */
export function encodeRequest(args: readonly unknown[]): string {
  return toJson(args);
}

/**
 * The arguments of an inbound publish or request: a JSON array is the argument list, any other
 * JSON value is the single argument.
 * @throws DecodeError for a payload that is not UTF-8 JSON (the empty payload included).
 */
export function decodeArgs(payload: Uint8Array): unknown[] {
  const value = fromJson(payload);
  return Array.isArray(value) ? value : [value];
}

/** An RPC response as it travels: `{ "sts": status, "data": value }` (status codes of spec §2.5). */
export interface MqttResponse { readonly status: number; readonly data: unknown }

/** The payload of a response. @throws EncodeError when `data` cannot travel (see {@link encodePublish}). */
export function encodeResponse(status: number, data: unknown): string {
  return toJson({ sts: status, data: data === undefined ? null : data });
}

/**
 * Read a response. An object with a numeric `sts` is a Rembus response; any other JSON value is
 * taken as the successful result of a foreign MQTT responder.
 * @throws DecodeError for a payload that is not UTF-8 JSON.
 */
export function decodeResponse(payload: Uint8Array): MqttResponse {
  const value = fromJson(payload);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const sts = (value as Record<string, unknown>)['sts'];
    if (typeof sts === 'number') return { status: sts, data: (value as Record<string, unknown>)['data'] ?? null };
  }
  return { status: 0, data: value };
}

function toJson(value: unknown): string {
  try {
    return stringify(value, replacer) ?? 'null';
  } catch (err) {
    if (err instanceof EncodeError) throw err;
    throw new EncodeError(`cannot encode as JSON: ${(err as Error).message}`, { cause: err });
  }
}

function fromJson(payload: Uint8Array): unknown {
  try {
    return parse(utf8.decode(payload), null, parseNumber);
  } catch (err) {
    throw new DecodeError(`payload is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Integers that fit stay numbers; larger ones become bigint so no digit is lost. */
function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const big = BigInt(text);
    return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big;
  }
  return Number.parseFloat(text);
}

// lossless-json calls the replacer before toJSON, so a Buffer is still a Uint8Array here.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toBase64(value);
  if (value instanceof Tag) throw new EncodeError(`CBOR tag ${value.tag} (a DataFrame?) cannot travel over MQTT`);
  if (isDataFrame(value)) throw new EncodeError('DataFrames cannot travel over MQTT (JSON payloads)');
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Duck-typed like `rembus/polars` `isDataFrame`, so that this entry never loads polars. */
function isDataFrame(value: unknown): boolean {
  return value !== null && typeof value === 'object'
    && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'DataFrame';
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
