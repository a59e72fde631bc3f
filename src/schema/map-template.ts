/**
 * The fast path of key_value publishes (spec §8.3 step 3) whose fields are all numbers: a
 * table's publishers send the same keys in the same order, so the key items of the last payload
 * read are kept as bytes (a template) and the next payload is compared with them byte for byte,
 * its numbers going straight into the column buffers (`RowTarget.setNumber`). No per-key search,
 * no intermediate arrays: about half the cost of {@link CborFields} plus `fromFields` per row.
 *
 * Anything the template does not describe — other keys or order, a value that is not a number
 * or does not fit its column as it is, trailing bytes — makes {@link MapTemplate.read} answer
 * false, having set cells of the row being built but committed nothing; the caller then maps
 * the payload the general way, which sets every cell again (or rolls the row back). So both
 * paths store the same rows and give the same reasons. Pure: no I/O.
 */
import { half } from './cbor-fields.js';
import type { RowTarget } from './column-batch.js';
import { fitsAsNumber, type Plan } from './plan.js';

const scratch = new Uint8Array(8);
const view = new DataView(scratch.buffer);

/** Bytes `at … at + n - 1` of `bytes` into the scratch; false past the end. */
function take(bytes: Uint8Array, at: number, n: number): boolean {
  if (at + n > bytes.length) return false;
  for (let j = 0; j < n; j++) scratch[j] = bytes[at + j]!;
  return true;
}


/** The big-endian 32-bit word at `at` of `bytes` (through `dv`, its buffer's view, when given; `base`: `bytes.byteOffset`). */
function u32(bytes: Uint8Array, dv: DataView | undefined, base: number, at: number): number {
  if (dv !== undefined) return dv.getUint32(base + at);
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** The big-endian double at `at` of `bytes` (see {@link u32}). */
function f64(bytes: Uint8Array, dv: DataView | undefined, base: number, at: number): number {
  if (dv !== undefined) return dv.getFloat64(base + at);
  for (let j = 0; j < 8; j++) scratch[j] = bytes[at + j]!;
  return view.getFloat64(0);
}

/** Length of the scalar item at `at` (a number, simple value or definite text), or -1. */
function scalarLength(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b === undefined) return -1;
  const major = b >> 5, info = b & 0x1f;
  const arg = info < 24 ? 0 : info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
  if (arg < 0) return -1;
  if (major === 0 || major === 1 || major === 7) return 1 + arg;
  if (major !== 3) return -1;
  let len = info;
  if (info >= 24) {
    if (!take(bytes, at + 1, arg) || arg === 8) return -1;
    len = arg === 1 ? view.getUint8(0) : arg === 2 ? view.getUint16(0) : view.getUint32(0);
  }
  return 1 + arg + len;
}

/** The key order of one table's map payloads, learned from a payload read the general way. */
export class MapTemplate {
  /**
   * @param head The map's head byte (its key count).
   * @param keys The key items (head and text) one after the other.
   * @param keyEnds Per key: where its item ends in `keys`.
   * @param columns Per key: its payload column.
   * @param rest The payload columns no key gives (topic variables, defaults, nulls fill them).
   */
  /** Per key, its whole 4-byte groups as big-endian words, one key after the other. */
  private readonly keyWords: Uint32Array;
  /** A view of the buffer payloads came from lately, and that buffer. */
  private view: DataView | undefined;
  private viewBuffer: ArrayBufferLike | undefined;
  /** The buffer of the last payload read without a view: a second payload from it makes one. */
  private seenBuffer: ArrayBufferLike | undefined;

  private constructor(private readonly head: number, private readonly keys: Uint8Array, private readonly keyEnds: Uint32Array,
    private readonly columns: Int32Array, readonly rest: readonly number[]) {
    const words: number[] = [];
    for (let k = 0, at = 0; k < keyEnds.length; at = keyEnds[k++]!) {
      for (; at + 4 <= keyEnds[k]!; at += 4) words.push(((keys[at]! << 24) | (keys[at + 1]! << 16) | (keys[at + 2]! << 8) | keys[at + 3]!) >>> 0);
    }
    this.keyWords = Uint32Array.from(words);
  }

  /**
   * The template of the map payload at `start` of `bytes` (`{…}` or `[{…}]`, already read
   * successfully by CborFields), or undefined when a key is not a column's name or a value not
   * a number.
   */
  static learn(bytes: Uint8Array, start: number, names: readonly Uint8Array[]): MapTemplate | undefined {
    let pos = bytes[start] === 0x81 ? start + 1 : start;
    const head = bytes[pos++]!;
    const n = head - 0xa0;
    if (n < 0 || n > 23) return undefined;
    const keyEnds = new Uint32Array(n), columns = new Int32Array(n);
    const parts: number[] = [];
    for (let k = 0; k < n; k++) {
      const b = bytes[pos]!;
      const keyLength = scalarLength(bytes, pos);
      if (keyLength < 0 || b >> 5 !== 3) return undefined;
      const text = bytes.subarray(pos + (b === 0x78 ? 2 : 1), pos + keyLength);
      const column = names.findIndex((name) => name.length === text.length && name.every((x, j) => x === text[j]));
      if (column < 0) return undefined;
      columns[k] = column;
      for (let j = 0; j < keyLength; j++) parts.push(bytes[pos + j]!);
      keyEnds[k] = parts.length;
      pos += keyLength;
      // Numbers only: a payload with text or booleans takes the general way every time.
      const v = bytes[pos]!;
      const valueLength = scalarLength(bytes, pos);
      if (valueLength < 0 || (v >> 5 > 1 && (v < 0xf9 || v > 0xfb))) return undefined;
      pos += valueLength;
    }
    const given = new Set(columns);
    const rest = names.map((_, i) => i).filter((i) => !given.has(i));
    return new MapTemplate(head, Uint8Array.from(parts), keyEnds, columns, rest);
  }

  /**
   * A DataView of `bytes`'s buffer when payloads keep coming from it (the frames of one socket
   * chunk share one), else undefined: a payload alone in its buffer is read byte by byte rather
   * than paying a view.
   */
  private viewOf(bytes: Uint8Array): DataView | undefined {
    const buffer = bytes.buffer;
    if (buffer === this.viewBuffer) return this.view;
    if (buffer !== this.seenBuffer) {
      this.seenBuffer = buffer;
      return undefined;
    }
    this.viewBuffer = buffer;
    return this.view = new DataView(buffer);
  }

  /**
   * Read the payload at `start` of `bytes` into the row being built: its numbers into their
   * columns (the caller fills {@link MapTemplate.rest}).
   *
   * Keys are compared four bytes at a time and numbers read through a `DataView` of the
   * payload's buffer while payloads keep coming from it (the frames of one socket chunk share
   * one; else byte by byte), every read bounded by `bytes.length` first — never a byte of the
   * buffer past the payload's view.
   * @returns true when the payload's cells are set (the row is not committed), or false when
   * the template does not describe this payload (map it the general way).
   */
  read(plan: Plan, target: RowTarget, bytes: Uint8Array, start: number): boolean {
    if (target.setNumber === undefined) return false;
    const length = bytes.length;
    let pos = bytes[start] === 0x81 ? start + 1 : start;
    if (pos >= length || bytes[pos++] !== this.head) return false;
    const dv = this.viewOf(bytes);
    const base = bytes.byteOffset;
    const { keys, keyEnds, keyWords, columns } = this;
    let at = 0, w = 0;
    for (let k = 0; k < columns.length; k++) {
      const end = keyEnds[k]!;
      if (pos + (end - at) >= length) return false; // the key and at least the value's head byte
      for (; at + 4 <= end; at += 4, pos += 4) if (u32(bytes, dv, base, pos) !== keyWords[w++]) return false;
      for (; at < end; at++, pos++) if (bytes[pos] !== keys[at]) return false;
      const h = bytes[pos++]!;
      let n: number;
      if (h < 0x18) n = h;
      else if (h === 0xfb) {
        if (pos + 8 > length) return false;
        n = f64(bytes, dv, base, pos);
        pos += 8;
      } else if (h === 0x1b) {
        if (pos + 8 > length) return false;
        const hi = u32(bytes, dv, base, pos);
        if (hi >= 0x200000) return false; // beyond 2^53: a bigint, the general path's
        n = hi * 0x1_0000_0000 + u32(bytes, dv, base, pos + 4);
        pos += 8;
      } else if (h === 0x18) { if (pos >= length) return false; n = bytes[pos++]!; }
      else if (h === 0x19) { if (pos + 2 > length) return false; n = (bytes[pos]! << 8) | bytes[pos + 1]!; pos += 2; }
      else if (h === 0x1a) { if (pos + 4 > length) return false; n = u32(bytes, dv, base, pos); pos += 4; }
      else if (h >= 0x20 && h < 0x38) n = 0x1f - h;
      else if (h === 0x38) { if (pos >= length) return false; n = -1 - bytes[pos++]!; }
      else if (h === 0x39) { if (pos + 2 > length) return false; n = -1 - ((bytes[pos]! << 8) | bytes[pos + 1]!); pos += 2; }
      else if (h === 0x3a) { if (pos + 4 > length) return false; n = -1 - u32(bytes, dv, base, pos); pos += 4; }
      else if (h === 0xfa) { if (!take(bytes, pos, 4)) return false; n = view.getFloat32(0); pos += 4; }
      else if (h === 0xf9) { if (pos + 2 > length) return false; n = half((bytes[pos]! << 8) | bytes[pos + 1]!); pos += 2; }
      else return false;
      const column = columns[k]!;
      if (!fitsAsNumber(plan, column, n)) return false;
      target.setNumber(column, n);
    }
    return pos === length;
  }
}
