/**
 * CBOR decoding of Rembus frames (spec §2): bytes to a message, integers normalised. Pure: no
 * I/O. Unknown tags (tag 80 DataFrames among them) decode to cbor-x `Tag` objects and re-encode
 * byte for byte.
 */
import { addExtension, Decoder, Tag } from 'cbor-x';
import { DecodeError } from '../errors.js';
import { TYPE, type Msg } from '../protocol/messages.js';
import { definiteStrings } from './definite-strings.js';
import { readMsgId } from './msgid.js';
import { cborNestingExceeds, MAX_NESTING } from './nesting.js';
import { fromArray } from './frame-shape.js';

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

/** Raw CBOR decoding of any value, with the same integer normalisation as frames. */
export function decodeValue(bytes: Uint8Array): unknown {
  return decodeInts(bytes);
}
