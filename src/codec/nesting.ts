/**
 * A guard run before decoding: frames nested deeper than {@link MAX_NESTING} are refused. The
 * CBOR and JSON decoders, and every encoder that later walks a decoded value (the message log,
 * a wildcard or JSON re-encoding), recurse once per level; a frame deep enough to pass the
 * decoder but not a re-encoding would otherwise fail far from its source. Pure; iterative, so
 * it has no depth limit of its own.
 */

/** Deepest nesting of arrays, maps and tags accepted in one frame (the message array is level 1). */
export const MAX_NESTING = 500;

/**
 * Does the CBOR item at the start of `src` nest deeper than `max`? Malformed input answers
 * false: the decoder reports it with a better message.
 */
export function cborNestingExceeds(src: Uint8Array, max = MAX_NESTING): boolean {
  if (src.length <= max) return false; // every level takes at least one byte
  /** Items still expected by each open container, innermost last; -1 for indefinite length. */
  const open: number[] = [];
  const n = src.length;
  let pos = 0;
  while (pos < n) {
    const byte = src[pos++]!;
    if (byte === 0xff) {
      if (open.at(-1) !== -1) return false;
      open.pop();
    } else {
      const major = byte >> 5;
      const info = byte & 0x1f;
      let arg = info;
      if (info === 31) arg = -1;
      else if (info >= 28) return false;
      else if (info >= 24) {
        const size = 1 << (info - 24);
        if (pos + size > n) return false;
        arg = 0;
        for (let i = 0; i < size; i++) arg = arg * 256 + src[pos++]!;
      }
      if (major === 2 || major === 3) {
        if (arg === -1) {
          open.push(-1); // chunks until the break; one level, harmless
          continue;
        }
        pos += arg;
        if (pos > n) return false;
      } else if ((major === 4 || major === 5) && arg !== 0) {
        open.push(arg === -1 ? -1 : major === 5 ? arg * 2 : arg);
        if (open.length > max) return true;
        continue;
      } else if (major === 6) {
        open.push(1);
        if (open.length > max) return true;
        continue;
      }
    }
    // One item is complete: count it against its container, closing every container it fills.
    while (open.length > 0) {
      const top = open.length - 1;
      if (open[top] === -1) break;
      if (--open[top]! > 0) break;
      open.pop();
    }
    if (open.length === 0) return false;
  }
  return false;
}

/** Does JSON `text` nest arrays/objects deeper than `max`? (brackets inside strings do not count) */
export function jsonNestingExceeds(text: string, max = MAX_NESTING): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
