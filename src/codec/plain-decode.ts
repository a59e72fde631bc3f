/**
 * A decoder for the plain subset of CBOR that payloads mostly are (issue 20): definite arrays and
 * maps with ASCII text keys, integers, doubles and singles, ASCII text, byte strings, booleans,
 * null and undefined. It gives exactly what the full path (cbor-x, then {@link normalizeInts})
 * gives for such input — integers wider than 32 bits are numbers when safe, bigint otherwise,
 * with no byte scan to guess which — and answers {@link NOT_PLAIN} for anything else (tags,
 * half floats, indefinite lengths, non-ASCII text, other key types, truncated or trailing bytes,
 * deep nesting), which then takes the full path and its errors. Never throws. Pure: no I/O.
 *
 * Why not cbor-x alone: for the small flat maps of a telemetry payload its per-call set-up (a
 * `DataView` attached to each source), its string reader and the scan that decides how to read
 * 8-byte integers cost more than the walk here; see README "Ahead of NATS (issue 20)".
 */

/** The answer for input outside the plain subset. */
export const NOT_PLAIN: unique symbol = Symbol('not plain CBOR');

/** Deepest nesting decoded here (well below MAX_NESTING); deeper input takes the full path. */
const MAX_DEPTH = 64;

/** Node's Buffer has it; a plain Uint8Array (browsers) does not. */
type Latin1Slicer = Uint8Array & { latin1Slice?: (from: number, to: number) => string };

const f64 = new Float64Array(1);
const f32 = new Float32Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32b = new Uint8Array(f32.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8');

// The state of one decode (the decoder is not re-entrant and calls nothing that could re-enter).
let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
let bad = false;
let views = false;

/**
 * Decode the one item `bytes[from, to)`.
 * @param plainViews byte strings as plain `Uint8Array` views of `bytes` (else `subarray`s, so
 *   of `bytes`'s own class, as cbor-x gives them)
 * @returns the value, or {@link NOT_PLAIN}
 */
export function decodePlain(bytes: Uint8Array, from = 0, to = bytes.length, plainViews = false): unknown {
  src = bytes;
  pos = from;
  end = to;
  bad = false;
  views = plainViews;
  const value = item(0);
  const ok = !bad && pos === end;
  src = EMPTY;
  return ok ? value : NOT_PLAIN;
}

const EMPTY = new Uint8Array(0);

function fail(): undefined {
  bad = true;
  pos = end;
  return undefined;
}

/** The argument of the head at `pos` (major type already read), or -1 when it is not plain. */
function argument(info: number): number {
  if (info < 24) return info;
  const p = pos;
  if (info === 24) {
    if (p >= end) return -1;
    pos = p + 1;
    return src[p]!;
  }
  if (info === 25) {
    if (p + 2 > end) return -1;
    pos = p + 2;
    return (src[p]! << 8) | src[p + 1]!;
  }
  if (info === 26) {
    if (p + 4 > end) return -1;
    pos = p + 4;
    return src[p]! * 0x1000000 + ((src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!);
  }
  return -1;
}

function item(depth: number): unknown {
  if (pos >= end) return fail();
  const head = src[pos++]!;
  const major = head >> 5;
  const info = head & 0x1f;
  switch (major) {
    case 0:
    case 1: {
      if (info === 27) return wide(major);
      const n = argument(info);
      if (n < 0) return fail();
      return major === 0 ? n : -1 - n;
    }
    case 2: {
      const len = argument(info);
      if (len < 0 || len > end - pos) return fail();
      const p = pos;
      pos = p + len;
      return views ? new Uint8Array(src.buffer, src.byteOffset + p, len) : src.subarray(p, p + len);
    }
    case 3: return text(argument(info));
    case 4: {
      const len = argument(info);
      if (len < 0 || len > end - pos || depth >= MAX_DEPTH) return fail();
      const out = new Array<unknown>(len);
      for (let i = 0; i < len && !bad; i++) out[i] = item(depth + 1);
      return out;
    }
    case 5: {
      const len = argument(info);
      if (len < 0 || len > (end - pos) / 2 || depth >= MAX_DEPTH) return fail();
      const out: Record<string, unknown> = {};
      for (let i = 0; i < len && !bad; i++) {
        const k = src[pos++]!;
        if (k >> 5 !== 3) return fail(); // keys other than text: the full path (cbor-x stringifies them)
        const key = keyText(argument(k & 0x1f));
        if (bad) return undefined;
        // As cbor-x's safeKey: a decoded map never sets the prototype.
        out[key === '__proto__' ? '__proto_' : key as string] = item(depth + 1);
      }
      return out;
    }
    case 7: return simple(info);
    default: return fail(); // tags
  }
}

/** An 8-byte integer: a number when safe (what normalizeInts makes of cbor-x's bigint), else bigint. */
function wide(major: number): unknown {
  const p = pos;
  if (p + 8 > end) return fail();
  pos = p + 8;
  const hi = ((src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!) >>> 0;
  const lo = ((src[p + 4]! << 24) | (src[p + 5]! << 16) | (src[p + 6]! << 8) | src[p + 7]!) >>> 0;
  if (hi < 0x200000) {
    const n = hi * 0x100000000 + lo; // ≤ 2^53 − 1
    if (major === 0) return n;
    if (n < Number.MAX_SAFE_INTEGER) return -1 - n; // ≥ −MAX_SAFE_INTEGER
  }
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  return major === 0 ? big : -1n - big;
}

function simple(info: number): unknown {
  switch (info) {
    case 20: return false;
    case 21: return true;
    case 22: return null;
    case 23: return undefined;
    case 26: return float(4);
    case 27: return float(8);
    default: return fail(); // half floats, other simple values, breaks
  }
}

function float(size: 4 | 8): number | undefined {
  const p = pos;
  if (p + size > end) return fail();
  pos = p + size;
  const out = size === 8 ? f64b : f32b;
  if (LITTLE_ENDIAN) for (let i = 0; i < size; i++) out[i] = src[p + size - 1 - i]!;
  else for (let i = 0; i < size; i++) out[i] = src[p + i]!;
  return size === 8 ? f64[0]! : f32[0]!;
}

/** An ASCII text of `len` bytes at `pos`; other text takes the full path (its UTF-8 rules). */
function text(len: number): string | undefined {
  if (len < 0 || len > end - pos) return fail();
  const p = pos;
  const q = p + len;
  for (let i = p; i < q; i++) if (src[i]! >= 0x80) return fail();
  pos = q;
  return ascii(p, len);
}

const fromCharCode = String.fromCharCode;

/** `len` ASCII bytes at `p` as one flat string, built without intermediate strings. */
function ascii(p: number, len: number): string {
  const b = src;
  switch (len) {
    case 0: return '';
    case 1: return fromCharCode(b[p]!);
    case 2: return fromCharCode(b[p]!, b[p + 1]!);
    case 3: return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4: return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5: return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6: return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    default: {
      const slice = (b as Latin1Slicer).latin1Slice;
      if (slice !== undefined) return slice.call(b, p, p + len);
      if (len <= 12) return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!) + ascii(p + 6, len - 6);
      return utf8.decode(b.subarray(p, p + len));
    }
  }
}

/**
 * Map keys repeat from one payload to the next: a key whose bytes match a remembered one is that
 * string (no string built, and the property store finds it already internalised). 256 slots
 * picked by length and three of the key's bytes; keys up to 32 bytes.
 */
const keyBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(256).fill(undefined);
const keyStrings: string[] = new Array<string>(256).fill('');

function keyText(len: number): string | undefined {
  if (len < 0 || len > 32 || len > end - pos) return text(len);
  const p = pos;
  const b = src;
  const slot = len === 0 ? 0 : (len * 7 + b[p]! * 3 + b[p + len - 1]! * 5 + b[p + (len >> 1)]!) & 0xff;
  const known = keyBytes[slot];
  if (known !== undefined && known.length === len) {
    let i = 0;
    while (i < len && b[p + i] === known[i]) i++;
    if (i === len) {
      pos = p + len;
      return keyStrings[slot];
    }
  }
  const key = text(len);
  if (key === undefined) return undefined;
  const copy = new Uint8Array(len); // not a view: the frame's memory is reused
  for (let i = 0; i < len; i++) copy[i] = b[p + i]!;
  keyBytes[slot] = copy;
  keyStrings[slot] = key;
  return key;
}
