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
  /** Items still expected by each open container, innermost last; -1 for indefinite length. */
  const open: number[] = [];
  /** Major type of the open indefinite-length string (2 or 3), or -1. */
  let chunksOf = -1;
  let pos = start;
  while (pos < end) {
    const byte = src[pos++]!;
    if (byte === 0xff) {
      if (chunksOf !== -1) chunksOf = -1;
      else if (open.length === 0 || open[open.length - 1] !== -1) return 'malformed';
      else open.pop();
    } else {
      const major = byte >> 5;
      const info = byte & 0x1f;
      let arg = info;
      if (info >= 28 && info <= 30) return 'malformed';
      if (info === 31) {
        if (major < 2 || major === 6 || major === 7 || chunksOf !== -1) return 'malformed';
        arg = -1;
      } else if (info >= 24) {
        const size = 1 << (info - 24);
        if (pos + size > end) return 'malformed';
        arg = 0;
        for (let i = 0; i < size; i++) arg = arg * 256 + src[pos++]!;
        // Two-byte simple values below 32 are not well-formed (RFC 8949 §3.3).
        if (major === 7 && info === 24 && arg < 32) return 'malformed';
      }
      if (chunksOf !== -1 && major !== chunksOf) return 'malformed';
      if (major === 2 || major === 3) {
        if (arg === -1) {
          chunksOf = major;
          continue;
        }
        if (pos + arg > end) return 'malformed';
        pos += arg;
        if (chunksOf !== -1) continue; // a chunk is part of its string, not an item
      } else if (major === 4 || major === 5) {
        if (arg !== 0) {
          open.push(arg === -1 ? -1 : major === 5 ? arg * 2 : arg);
          if (open.length > maxDepth) return 'too-deep';
          continue;
        }
      } else if (major === 6) {
        open.push(1);
        if (open.length > maxDepth) return 'too-deep';
        continue;
      }
    }
    if (chunksOf !== -1) continue;
    // One item is complete: count it against its container, closing every container it fills.
    while (open.length > 0) {
      const top = open.length - 1;
      if (open[top] === -1) break;
      if (--open[top]! > 0) break;
      open.pop();
    }
    if (open.length === 0) return pos === end ? 'ok' : 'malformed';
  }
  return 'malformed';
}
