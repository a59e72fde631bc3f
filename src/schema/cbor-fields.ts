/**
 * Reading a publish's args straight from the publisher's CBOR bytes (spec §2.1, §8.3), for the
 * two shapes that carry nearly every telemetry row: one map of scalars (key_value) and a list
 * of scalars (positional). No args array, no map object and no per-key string is built: keys
 * are compared as bytes with the column names, values land in one reused array.
 *
 * Anything else — a DataFrame tag, nested containers, byte strings, non-ASCII text, indefinite
 * lengths, a key given twice — is declined (`read` returns false) and the caller decodes the
 * args as before, so both paths give the same values: integers beyond 2^53 are bigints as the
 * codec's `normalizeInts` makes them, floats of every width are numbers, `undefined` (simple 23)
 * is a missing field. Pure: no I/O.
 */

/** The shape {@link CborFields.read} found. */
export type CborShape = 'map' | 'list';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const ASCII = new TextDecoder('utf-8');
/** A value the reader declines (the caller falls back to decoding). */
const DECLINE = Symbol('decline');
/** CBOR `undefined` (simple 23): cbor-x gives undefined, which a map field treats as missing. */
const MISSING = Symbol('missing');
/** A number, left in the reader's scratch rather than boxed (a double in a plain array is a heap object). */
const NUMBER = Symbol('number');

/** A CBOR half-precision float's value from its 16 bits. */
export function half(bits: number): number {
  const exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Reads the fields of args encoded as `[{…}]`, `{…}` or `[v, …]` into `values`. */
export class CborFields {
  /**
   * Per column: the field's value after a `'map'` read, `undefined` when absent or when the
   * value is a number (then in {@link CborFields.numbers}; {@link CborFields.value} gives either).
   */
  readonly values: unknown[];
  /** Per column: 1 when the field is the number in {@link CborFields.numbers} (not boxed: no garbage per cell). */
  readonly numeric: Uint8Array;
  /** Per column: the field's number, where {@link CborFields.numeric} says so. */
  readonly numbers: Float64Array;
  /** The last number {@link CborFields.scalar} read. */
  private readonly number = new Float64Array(1);
  /** After a `'list'` read: the values in order. */
  readonly list: unknown[] = [];
  /** Number of values in {@link CborFields.list}. */
  listLength = 0;
  private readonly names: readonly Uint8Array[];
  private readonly seen: Uint32Array;
  /** Per key position: the column that key matched last time (-1: none). */
  private readonly hints: Int32Array;
  private stamp = 0;
  private bytes: Uint8Array = new Uint8Array(0);
  /** The bytes of one number, copied out so that a DataView is made once, not per payload's buffer. */
  private readonly scratch = new Uint8Array(8);
  private readonly view = new DataView(this.scratch.buffer);
  private pos = 0;

  /** @param columns The column names, in the order of `values`. */
  constructor(columns: readonly string[]) {
    const utf8 = new TextEncoder();
    this.names = columns.map((c) => utf8.encode(c));
    this.values = new Array<unknown>(columns.length).fill(undefined);
    this.numeric = new Uint8Array(columns.length);
    this.numbers = new Float64Array(columns.length);
    this.seen = new Uint32Array(columns.length);
    this.hints = new Int32Array(Math.min(64, 2 * columns.length + 4)).fill(-1);
  }

  /**
   * Read one CBOR item (the args of a publish): `bytes` from `start` to its end (a publish's
   * args run to the end of its frame, so the frame is read in place, without a view of it).
   * @returns `'map'` (fields in `values`), `'list'` (values in `list`), or false when the
   * payload is not in a shape this reader takes: decode it instead.
   */
  read(bytes: Uint8Array, start = 0): CborShape | false {
    this.bytes = bytes;
    this.pos = start;
    const head = bytes[start];
    if (head === undefined) return false;
    let shape: CborShape | false;
    if (head >= 0xa0 && head <= 0xb7) shape = this.readMap() ? 'map' : false;
    else if (head >= 0x80 && head <= 0x97) {
      const n = head - 0x80;
      this.pos = start + 1;
      const first = bytes[start + 1];
      if (n === 1 && first !== undefined && first >= 0xa0 && first <= 0xb7) shape = this.readMap() ? 'map' : false;
      else shape = this.readList(n) ? 'list' : false;
    } else shape = false;
    return shape !== false && this.pos === bytes.length ? shape : false;
  }

  /** Column `c`'s field after a `'map'` read, as the decoder gives it (undefined when absent). */
  value(c: number): unknown {
    return this.numeric[c] === 1 ? this.numbers[c] : this.values[c];
  }

  private readMap(): boolean {
    const { bytes, names, values, seen, hints, numeric } = this;
    const n = bytes[this.pos++]! - 0xa0;
    if (++this.stamp === 0xffffffff) { seen.fill(0); this.stamp = 1; }
    const stamp = this.stamp;
    values.fill(undefined);
    numeric.fill(0);
    for (let k = 0; k < n; k++) {
      const key = bytes[this.pos++];
      // Keys: definite text of up to 255 bytes (a column name is an identifier).
      let len: number;
      if (key !== undefined && key >= 0x60 && key <= 0x77) len = key - 0x60;
      else if (key === 0x78 && this.pos < bytes.length) len = bytes[this.pos++]!;
      else return false;
      const at = this.pos;
      this.pos += len;
      if (this.pos > bytes.length) return false;
      // Publishers send the same keys in the same order: try the column the k-th key was last time.
      let column = k < hints.length ? hints[k]! : -1;
      if (column < 0 || !this.named(column, at, len)) {
        column = -1;
        for (let c = 0; c < names.length; c++) if (this.named(c, at, len)) { column = c; break; }
        if (k < hints.length) hints[k] = column;
      }
      const value = this.scalar();
      if (value === DECLINE) return false;
      if (column < 0) continue; // not a column: ignored, as a decoded map's extra keys are
      if (seen[column] === stamp) return false; // a key twice: the decoder's last-wins decides
      seen[column] = stamp;
      if (value === NUMBER) { numeric[column] = 1; this.numbers[column] = this.number[0]!; }
      else values[column] = value === MISSING ? undefined : value;
    }
    return true;
  }

  /** Is the key of `len` bytes at `at` column `c`'s name? */
  private named(c: number, at: number, len: number): boolean {
    const name = this.names[c]!;
    if (name.length !== len) return false;
    const { bytes } = this;
    for (let j = 0; j < len; j++) if (name[j] !== bytes[at + j]) return false;
    return true;
  }

  private readList(n: number): boolean {
    const { list } = this;
    for (let i = 0; i < n; i++) {
      const value = this.scalar();
      if (value === DECLINE || value === MISSING) return false;
      list[i] = value === NUMBER ? this.number[0] : value;
    }
    this.listLength = n;
    return true;
  }

  /** One scalar item at `pos`: NUMBER (the number in `number[0]`), another value, or DECLINE. */
  private scalar(): unknown {
    const { bytes, view, number } = this;
    const b = bytes[this.pos++];
    if (b === undefined) return DECLINE;
    const major = b >> 5, info = b & 0x1f;
    if (major === 7) {
      switch (info) {
        case 20: return false;
        case 21: return true;
        case 22: return null;
        case 23: return MISSING;
        case 25: if (!this.take(2)) return DECLINE; number[0] = half(view.getUint16(0)); return NUMBER;
        case 26: if (!this.take(4)) return DECLINE; number[0] = view.getFloat32(0); return NUMBER;
        case 27: if (!this.take(8)) return DECLINE; number[0] = view.getFloat64(0); return NUMBER;
        default: return DECLINE;
      }
    }
    if (major > 1 && major !== 3) return DECLINE;
    let arg: number | bigint;
    if (info < 24) arg = info;
    else if (info === 24) { if (!this.take(1)) return DECLINE; arg = view.getUint8(0); }
    else if (info === 25) { if (!this.take(2)) return DECLINE; arg = view.getUint16(0); }
    else if (info === 26) { if (!this.take(4)) return DECLINE; arg = view.getUint32(0); }
    else if (info === 27 && major !== 3) {
      if (!this.take(8)) return DECLINE;
      const hi = view.getUint32(0);
      // Below 2^53 the two halves make the number without a bigint (ms timestamps land here).
      arg = hi < 0x200000 ? hi * 0x100000000 + view.getUint32(4) : view.getBigUint64(0);
      if (typeof arg === 'bigint' && arg <= MAX_SAFE) arg = Number(arg);
    } else return DECLINE;
    if (typeof arg === 'bigint') return major === 0 ? arg : -1n - arg;
    if (major === 0) { number[0] = arg; return NUMBER; }
    if (major === 1) {
      if (arg >= Number.MAX_SAFE_INTEGER) return -1n - BigInt(arg);
      number[0] = -1 - arg;
      return NUMBER;
    }
    return this.ascii(arg as number);
  }

  /** Copy the next `n` bytes into the scratch (big-endian, as CBOR writes them); false past the end. */
  private take(n: number): boolean {
    const { bytes, scratch } = this;
    const at = this.pos;
    if (at + n > bytes.length) return false;
    for (let j = 0; j < n; j++) scratch[j] = bytes[at + j]!;
    this.pos = at + n;
    return true;
  }

  /** A definite text of `len` bytes at `pos`, when all ASCII (else DECLINE: the decoder's UTF-8 rules decide). */
  private ascii(len: number): unknown {
    const { bytes } = this;
    const at = this.pos;
    if (at + len > bytes.length) return DECLINE;
    this.pos += len;
    if (len > 24) {
      for (let i = 0; i < len; i++) if (bytes[at + i]! > 0x7f) return DECLINE;
      return ASCII.decode(bytes.subarray(at, at + len));
    }
    let text = '';
    for (let i = 0; i < len; i++) {
      const c = bytes[at + i]!;
      if (c > 0x7f) return DECLINE;
      text += String.fromCharCode(c);
    }
    return text;
  }
}
