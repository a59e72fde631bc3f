/**
 * A CBOR writer for the plain values publishes carry (numbers, strings, booleans, null,
 * undefined, 64-bit bigints, `Uint8Array`s, plain objects and arrays of them), writing exactly
 * the bytes of cbor-encode.ts's generic path (cbor-x with `useRecords: false, variableMapSize: true`,
 * then `integralDoubles`) in one pass: wide integers come out as CBOR integers at once instead of
 * doubles rewritten by a second walk, and frames are cut from a shared slab as cbor-x's are, with
 * none of its per-call setup (issue 20: cbor-x and the rewrite were half of a publish's CPU).
 * Anything else (class instances, Maps, tags, DataFrames, functions, nesting past
 * {@link MAX_DEPTH}, a frame larger than a slab) makes {@link writeFrame} answer `undefined`,
 * and the caller encodes the message the generic way, which also throws its errors. Pure.
 */

/** A slab of frames: handed-out frames are views of it, so it is never written twice. */
const SLAB = 64 * 1024;
/** A frame starts on a fresh slab when fewer bytes than this are left. */
const FRESH = 4 * 1024;
/** Deeper values go the generic way (cbor-x then reports a cycle as an error). */
const MAX_DEPTH = 64;

let buf = new Uint8Array(SLAB);
let view = new DataView(buf.buffer);
let pos = 0;

/** Thrown inside a write: this value needs the generic encoder (or a larger slab). */
const GIVE_UP = Symbol('generic');
const utf8 = new TextEncoder();

function freshSlab(): void {
  buf = new Uint8Array(SLAB);
  view = new DataView(buf.buffer);
  pos = 0;
}

/**
 * Run `write` (which appends through the functions below) and return what it wrote as a view
 * of the slab, or `undefined` when the frame needs the generic encoder.
 */
export function writeFrame<A, B>(write: (a: A, b: B) => void, a: A, b: B): Uint8Array | undefined {
  // A getter or proxy trap that publishes while a frame is being written: the generic path.
  if (writing) return undefined;
  writing = true;
  try {
    return writeAttempts(write, a, b);
  } finally {
    writing = false;
  }
}

/** A frame is being written (the writer is not re-entrant). */
let writing = false;

function writeAttempts<A, B>(write: (a: A, b: B) => void, a: A, b: B): Uint8Array | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (buf.length - pos < FRESH) freshSlab();
    const start = pos;
    try {
      write(a, b);
      return buf.subarray(start, pos);
    } catch (err) {
      pos = start;
      if (err !== GIVE_UP) throw err;
      if (full) {
        full = false;
        if (start !== 0) { freshSlab(); continue; } // retry once on an empty slab
      }
      return undefined;
    }
  }
  return undefined;
}

/** Set when a write gave up for lack of room rather than for an unsupported value. */
let full = false;

function room(n: number): void {
  if (pos + n > buf.length) {
    full = true;
    throw GIVE_UP;
  }
}

/** A CBOR head of major type `major` (shifted: 0x00, 0x20 … 0xe0) and argument `n` < 2^32, shortest form. */
export function writeHead(major: number, n: number): void {
  room(5);
  if (n < 24) buf[pos++] = major | n;
  else if (n < 0x100) {
    buf[pos++] = major | 24;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = major | 25;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = major | 26;
    view.setUint32(pos, n);
    pos += 4;
  }
}

/** Raw bytes (an already encoded part of a frame). */
export function writeBytes(bytes: Uint8Array): void {
  room(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

/** One byte. */
export function writeByte(byte: number): void {
  room(1);
  buf[pos++] = byte;
}

/** Write `value` as the generic path would, or give up. */
export function writeValue(value: unknown, depth = 0): void {
  switch (typeof value) {
    case 'string': return writeString(value);
    case 'number': return writeNumber(value);
    case 'boolean': return writeByte(value ? 0xf5 : 0xf4);
    case 'undefined': return writeByte(0xf7);
    case 'bigint': return writeBigInt(value);
    case 'object': {
      if (value === null) return writeByte(0xf6);
      if (depth >= MAX_DEPTH) throw GIVE_UP;
      const ctor = value.constructor;
      if (ctor === Object) return writeObject(value as Record<string, unknown>, depth + 1);
      if (ctor === Array) return writeArray(value as unknown[], depth + 1);
      if (ctor === Uint8Array) {
        const bytes = value as Uint8Array;
        writeHead(0x40, bytes.length);
        return writeBytes(bytes);
      }
      throw GIVE_UP;
    }
    default: throw GIVE_UP; // functions and symbols: the generic path throws its EncodeError
  }
}

function writeObject(object: Record<string, unknown>, depth: number): void {
  // cbor-x reads Object.keys, then Object.values (a getter is read once either way).
  const keys = Object.keys(object);
  const values = Object.values(object);
  writeHead(0xa0, keys.length);
  for (let i = 0; i < keys.length; i++) {
    writeString(keys[i]!);
    writeValue(values[i], depth);
  }
}

function writeArray(array: unknown[], depth: number): void {
  const n = array.length;
  writeHead(0x80, n);
  for (let i = 0; i < n; i++) writeValue(array[i], depth);
}

/** cbor-x's choice for numbers, with `integralDoubles`' rewrite of wide safe integers folded in. */
function writeNumber(v: number): void {
  room(9);
  if (v >>> 0 === v) {
    if (v < 24) buf[pos++] = v;
    else if (v < 0x100) {
      buf[pos++] = 0x18;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0x19;
      buf[pos++] = v >> 8;
      buf[pos++] = v & 0xff;
    } else {
      buf[pos++] = 0x1a;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    writeHead(0x20, ~v);
  } else if (v < 0 && v >= -0x100000000 && Math.floor(v) === v) {
    buf[pos++] = 0x3a;
    view.setUint32(pos, -1 - v);
    pos += 4;
  } else if (Number.isSafeInteger(v)) {
    // Beyond 32 bits (the others were taken above): 8 bytes, as integralDoubles writes them.
    const n = v >= 0 ? v : -1 - v;
    const high = Math.floor(n / 0x100000000);
    buf[pos++] = v >= 0 ? 0x1b : 0x3b;
    view.setUint32(pos, high);
    view.setUint32(pos + 4, n - high * 0x100000000);
    pos += 8;
  } else {
    buf[pos++] = 0xfb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

const TWO_64 = 1n << 64n;

function writeBigInt(v: bigint): void {
  if (v >= TWO_64 || v <= -TWO_64) throw GIVE_UP; // a bignum tag: the generic path
  room(9);
  buf[pos++] = v >= 0n ? 0x1b : 0x3b;
  view.setBigUint64(pos, v >= 0n ? v : -v - 1n);
  pos += 8;
}

/**
 * A text string as cbor-x writes it: its own UTF-8 loop below 64 characters (a lone surrogate
 * becomes 3 bytes), the platform's encoder from 64 on (a lone surrogate becomes U+FFFD); ASCII
 * either way gives the characters as bytes.
 */
export function writeString(s: string): void {
  const n = s.length;
  room(5 + n);
  // ASCII first, its head sized by the character count; a wider character starts over.
  const head = n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  let p = pos + head;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeWideString(s);
    buf[p++] = c;
  }
  if (head === 1) buf[pos] = 0x60 | n;
  else writeHeadAt(pos, n);
  pos = p;
}

/**
 * A topic as {@link writeString} writes it, checked in the same pass: gives up (the caller then
 * takes `validateTopic` and the generic path) on an empty topic and on any character that is not
 * printable ASCII or is `*`, so a topic written here is one `validateTopic` accepts.
 */
export function writeTopic(s: string): void {
  const n = s.length;
  if (n === 0) throw GIVE_UP;
  room(5 + n);
  const head = n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  let p = pos + head;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Control characters, DEL and non-ASCII (c - 0x20 wraps below zero), and '*'.
    if (((c - 0x20) >>> 0) >= 0x5f || c === 0x2a) throw GIVE_UP;
    buf[p++] = c;
  }
  if (head === 1) buf[pos] = 0x60 | n;
  else writeHeadAt(pos, n);
  pos = p;
}

function writeWideString(s: string): void {
  room(5 + s.length * 3);
  const at = pos + 5;
  const end = s.length < 0x40 ? utf8Loop(s, at) : at + utf8.encodeInto(s, buf.subarray(at)).written;
  const length = end - at;
  writeHead(0x60, length);
  buf.copyWithin(pos, at, end);
  pos += length;
}

/** cbor-x's loop for strings below 64 characters. */
function utf8Loop(s: string, p: number): number {
  for (let i = 0; i < s.length; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 0x80) buf[p++] = c1;
    else if (c1 < 0x800) {
      buf[p++] = (c1 >> 6) | 0xc0;
      buf[p++] = (c1 & 0x3f) | 0x80;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      buf[p++] = (c1 >> 18) | 0xf0;
      buf[p++] = ((c1 >> 12) & 0x3f) | 0x80;
      buf[p++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[p++] = (c1 & 0x3f) | 0x80;
    } else {
      buf[p++] = (c1 >> 12) | 0xe0;
      buf[p++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[p++] = (c1 & 0x3f) | 0x80;
    }
  }
  return p;
}

/** A text head of argument `n` ≥ 24 at `at`, as {@link writeHead} would. */
function writeHeadAt(at: number, n: number): void {
  if (n < 0x100) {
    buf[at] = 0x78;
    buf[at + 1] = n;
  } else if (n < 0x10000) {
    buf[at] = 0x79;
    buf[at + 1] = n >> 8;
    buf[at + 2] = n & 0xff;
  } else {
    buf[at] = 0x7a;
    view.setUint32(at + 1, n);
  }
}
