/**
 * A CBOR well-formedness check (RFC 8949 §5.3.1 and Appendix C) that builds nothing: the broker
 * forwards a publish's args without decoding them, and this is what keeps garbage from being
 * forwarded. Pure; iterative, so deep input cannot overflow the stack.
 */

/** What {@link cborCheck} found. */
export type CborCheck = 'ok' | 'malformed' | 'too-deep';

/**
 * Is `src[start, end)` exactly one well-formed CBOR data item, nested no deeper than `maxDepth`
 * levels (a scalar is level 0, an array of scalars level 1)?
 *
 * Checks what a decoder needs to read the item: heads with valid additional information,
 * lengths within the input, indefinite-length strings made of definite chunks of their own
 * major type, breaks only where an indefinite container is open, simple values 24–31 refused,
 * and nothing after the item. Text strings are not checked for valid UTF-8.
 */
export function cborWellFormed(src: Uint8Array, start: number, end: number, maxDepth: number): boolean {
  return cborCheck(src, start, end, maxDepth) === 'ok';
}

/**
 * {@link cborWellFormed} with the reason: `'too-deep'` as soon as a container opens past
 * `maxDepth` (whatever follows), `'malformed'` for anything else that is not one well-formed
 * item.
 */
export function cborCheck(src: Uint8Array, start: number, end: number, maxDepth: number): CborCheck {
  /**
   * Items still expected by each open container, innermost at `depth - 1`; -1 for indefinite
   * length. A typed array reused from call to call (no array grown per frame), replaced by a
   * larger one of this call's own only for input nested deeper than it holds.
   */
  let open: Float64Array = SCRATCH;
  let depth = 0;
  /** Major type of the open indefinite-length string (2 or 3), or -1. */
  let chunksOf = -1;
  let pos = start;
  while (pos < end) {
    const byte = src[pos++]!;
    const major = byte >> 5;
    const info = byte & 0x1f;
    let arg: number;
    if (info < 24) arg = info;
    else if (info < 28) {
      if (info === 24) {
        if (pos >= end) return 'malformed';
        arg = src[pos++]!;
        // Two-byte simple values below 32 are not well-formed (RFC 8949 §3.3).
        if (major === 7 && arg < 32) return 'malformed';
      } else if (info === 25) {
        if (pos + 2 > end) return 'malformed';
        arg = (src[pos]! << 8) | src[pos + 1]!;
        pos += 2;
      } else if (info === 26) {
        if (pos + 4 > end) return 'malformed';
        arg = src[pos]! * 0x1000000 + ((src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!);
        pos += 4;
      } else {
        if (pos + 8 > end) return 'malformed';
        arg = 0;
        for (let i = 0; i < 8; i++) arg = arg * 256 + src[pos++]!;
      }
    } else if (info === 31) {
      if (byte === 0xff) {
        // A break ends the open indefinite string, or else the innermost indefinite container.
        if (chunksOf !== -1) chunksOf = -1;
        else if (depth === 0 || open[depth - 1] !== -1) return 'malformed';
        else depth--;
        if (depth !== 0 && completes(open, depth)) depth = closeFilled(open, depth);
        if (depth === 0) return pos === end ? 'ok' : 'malformed';
        continue;
      }
      if (major < 2 || major === 6 || major === 7 || chunksOf !== -1) return 'malformed';
      arg = -1;
    } else return 'malformed';
    if (chunksOf !== -1 && major !== chunksOf) return 'malformed';
    if (major === 2 || major === 3) {
      if (arg === -1) {
        chunksOf = major;
        continue;
      }
      if (pos + arg > end) return 'malformed';
      pos += arg;
      if (chunksOf !== -1) continue; // a chunk is part of its string, not an item
    } else if (major === 4 || major === 5 || major === 6) {
      if (arg !== 0 || major === 6) {
        if (depth === open.length) open = grown(open);
        open[depth++] = major === 6 ? 1 : arg === -1 ? -1 : major === 5 ? arg * 2 : arg;
        if (depth > maxDepth) return 'too-deep';
        continue;
      }
    }
    // One item is complete: count it against its container, closing every container it fills.
    if (depth !== 0 && completes(open, depth)) depth = closeFilled(open, depth);
    if (depth === 0) return pos === end ? 'ok' : 'malformed';
  }
  return 'malformed';
}

/** The stack of {@link cborCheck}: deep enough for any payload but a deliberately nested one. */
const SCRATCH = new Float64Array(64);

function grown(open: Float64Array): Float64Array {
  const larger = new Float64Array(open.length * 2);
  larger.set(open);
  return larger;
}

/** Count one item against the innermost container: true when that fills it. */
function completes(open: Float64Array, depth: number): boolean {
  const left = open[depth - 1]!;
  if (left === -1) return false;
  if (left > 1) {
    open[depth - 1] = left - 1;
    return false;
  }
  return true;
}

/** Close the filled innermost container and every one around it that this fills; the new depth. */
function closeFilled(open: Float64Array, depth: number): number {
  depth--;
  while (depth !== 0 && completes(open, depth)) depth--;
  return depth;
}
