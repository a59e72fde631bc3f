/**
 * The CBOR frame of a wildcard delivery, `[1, pattern, [topic, ...args]]` (spec §4.6), spliced
 * from the publisher's own bytes: its topic item and its args elements are copied, never
 * decoded and encoded again. Pure: no I/O.
 */
import type { FrameParts } from './wire.js';
import type { LazyPub } from './lazy-pub.js';

const utf8 = new TextEncoder();

/** CBOR head of major type `major` with argument `n` (shortest form). */
function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Encoded `[0x83, 0x01, pattern]` prefixes, per pattern; patterns are few and long-lived. */
const prefixes = new Map<string, Uint8Array>();
const MAX_PREFIXES = 10_000;

function prefixOf(pattern: string): Uint8Array {
  let prefix = prefixes.get(pattern);
  if (prefix === undefined) {
    const text = utf8.encode(pattern);
    prefix = Uint8Array.from([0x83, 0x01, ...head(3, text.length), ...text]);
    if (prefixes.size >= MAX_PREFIXES) prefixes.clear();
    prefixes.set(pattern, prefix);
  }
  return prefix;
}

/**
 * Frames are carved from shared 16 KiB slabs: a `new Uint8Array(n)` past V8's on-heap limit
 * (64 bytes) gets a backing store of its own, which cost ~8× a view of a slab (issue 20: W3
 * builds one frame per publish). A frame pins at most its slab; larger frames get their own.
 */
const SLAB_BYTES = 16 * 1024;
const MAX_SLAB_FRAME = 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function allocFrame(n: number): Uint8Array {
  if (n > MAX_SLAB_FRAME) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7;
  return out;
}

/** Bytes of the shortest CBOR head for argument `n`. */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Write the shortest head of an array of `n` elements at `out[p]`; returns the next offset. */
function writeArrayHead(out: Uint8Array, p: number, n: number): number {
  if (n < 24) {
    out[p] = 0x80 | n;
    return p + 1;
  }
  if (n < 0x100) {
    out[p] = 0x98;
    out[p + 1] = n;
    return p + 2;
  }
  if (n < 0x10000) {
    out[p] = 0x99;
    out[p + 1] = n >> 8;
    out[p + 2] = n & 0xff;
    return p + 3;
  }
  out[p] = 0x9a;
  out[p + 1] = (n >>> 24) & 0xff;
  out[p + 2] = (n >> 16) & 0xff;
  out[p + 3] = (n >> 8) & 0xff;
  out[p + 4] = n & 0xff;
  return p + 5;
}

/**
 * `[1, pattern, [topic, ...args]]` for a publish read by `decodeLazyPub`, in parts: the
 * pattern's cached prefix, the new args array's head, and two ranges of the publisher's frame
 * (its topic item, then its args' elements). A link that takes parts (`Link.sendParts`) writes
 * them straight into its write buffer: no frame of its own, no second copy (issue 20, W3);
 * {@link WildcardParts.bytes} makes the frame for any other use.
 */
export class WildcardParts implements FrameParts {
  readonly length: number;
  private made: Uint8Array | undefined;

  constructor(
    /** `[0x83, 0x01, pattern]` encoded: the frame's first bytes. */
    readonly head: Uint8Array,
    /** Elements of the new args array (the topic and the args), -1 for an indefinite one. */
    private readonly count: number,
    private readonly frame: Uint8Array,
    private readonly topicAt: number,
    private readonly topicEnd: number,
    private readonly elementsAt: number,
  ) {
    this.length = head.length + (count === -1 ? 1 : headSize(count)) + (topicEnd - topicAt) + (frame.length - elementsAt);
  }

  writeTo(out: Uint8Array, at: number): number {
    const { head, frame, topicAt, elementsAt } = this;
    out.set(head, at);
    let p = at + head.length;
    if (this.count === -1) out[p++] = 0x9f;
    else p = writeArrayHead(out, p, this.count);
    p = copyRun(out, p, frame, topicAt, this.topicEnd - topicAt);
    return copyRun(out, p, frame, elementsAt, frame.length - elementsAt);
  }

  /** The frame as bytes of its own: a view of a shared slab (its own buffer past 1 KiB), made once. */
  bytes(): Uint8Array {
    if (this.made === undefined) {
      const out = allocFrame(this.length);
      this.writeTo(out, 0);
      this.made = out;
    }
    return this.made;
  }
}

/** {@link WildcardParts} of the wildcard delivery of `pub` to `pattern`. */
export function wildcardParts(pattern: string, pub: LazyPub): WildcardParts {
  const frame = pub.frame;
  const at = pub.argsAt;
  const first = frame[at]!;
  let count: number;
  let elementsAt: number;
  if (first === 0x9f) {
    count = -1; // indefinite: its elements and the closing break follow as they are
    elementsAt = at + 1;
  } else if (first >> 5 === 4) {
    const info = first & 0x1f;
    const size = info < 24 ? 0 : 1 << (info - 24);
    let n = info < 24 ? info : 0;
    for (let i = 1; i <= size; i++) n = n * 256 + frame[at + i]!;
    count = n + 1;
    elementsAt = at + 1 + size;
  } else if (first === 0xf6 || first === 0xf7) {
    count = 1;
    elementsAt = frame.length;
  } else {
    count = 2;
    elementsAt = at;
  }
  return new WildcardParts(prefixOf(pattern), count, frame, pub.topicAt, at, elementsAt);
}

/**
 * `[1, pattern, [topic, ...args]]` for a publish read by `decodeLazyPub`. The args item may be a
 * definite or indefinite array (its elements follow the topic), null/undefined (no args) or any
 * other single value (one arg), as spec §2.1 reads it. The frame is a view of a shared slab
 * (its own buffer past 1 KiB), written once and never changed after.
 */
export function wildcardFrame(pattern: string, pub: LazyPub): Uint8Array {
  return wildcardParts(pattern, pub).bytes();
}

/**
 * Copy `frame[from, from + length)` to `out` at `at`; returns the end. Without a `subarray` of the
 * frame (on a Node Buffer that is a Buffer made in JS): up to 64 bytes (a topic, most telemetry
 * args) byte by byte, since the view `set` needs is an object per delivery (~100 bytes of
 * garbage for every `**` reader's every message); longer runs through one view.
 */
function copyRun(out: Uint8Array, at: number, frame: Uint8Array, from: number, length: number): number {
  if (length <= 64) for (let i = 0; i < length; i++) out[at + i] = frame[from + i]!;
  else out.set(new Uint8Array(frame.buffer, frame.byteOffset + from, length), at);
  return at + length;
}
