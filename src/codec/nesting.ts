/**
 * A guard run before decoding: frames nested deeper than {@link MAX_NESTING} are refused. The
 * CBOR and JSON decoders, and every encoder that later walks a decoded value (the message log,
 * a wildcard or JSON re-encoding), recurse once per level; a frame deep enough to pass the
 * decoder but not a re-encoding would otherwise fail far from its source. Pure; iterative, so
 * it has no depth limit of its own.
 */

import { cborCheck } from './well-formed.js';

/** Deepest nesting of arrays, maps and tags accepted in one frame (the message array is level 1). */
export const MAX_NESTING = 500;

/**
 * Does the CBOR item at the start of `src` nest deeper than `max`? Malformed input answers
 * false: the decoder reports it with a better message.
 */
export function cborNestingExceeds(src: Uint8Array, max = MAX_NESTING): boolean {
  if (src.length <= max) return false; // every level takes at least one byte
  return cborCheck(src, 0, src.length, max) === 'too-deep';
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
