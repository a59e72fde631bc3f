/**
 * Topic strings interned by their bytes (issue 14, W8): a broker reads the topic of every PUB
 * twice — the wire meter counts it, the codec hands it to routing, the schema matcher and the
 * log — and a publisher rotating over many topics (W8: 100) defeats a per-link "last topic".
 * A small table keyed by a hash of the bytes hands back the same string for the same bytes:
 * no string and no copy per frame, and every `Map` that looks the topic up hashes a string
 * whose hash V8 has already computed.
 *
 * One table for the whole process: a topic seen before on any link (broker links, the meter, a
 * component's PUB reader) comes back as the very string made the first time.
 *
 * Bounded: {@link SLOTS} topics of at most {@link MAX_BYTES} bytes, in sets of four; a new topic
 * replaces the oldest of its set (a collision, or a peer sending crafted topics, only costs a
 * miss: the text is built as it would be without the table). Four ways, not two: with two, a
 * quarter of W3's 1,000 topics fell in sets of three or more and, read in turn, missed every
 * time (a new string, a copy and a rehash in every map per publish, issue 20); 2,048 sets keep all
 * of them in the table at once (topic-intern.test). Bytes are hashed and compared four at a time
 * (see {@link scratch}). Pure: no I/O.
 */

/** Sets of the table (a power of two). */
const SETS = 2048;
/** Topics per set. */
export const WAYS = 4;
/** Topics the table holds. */
export const SLOTS = SETS * WAYS;
/** Longer topics are not interned (built each time). */
export const MAX_BYTES = 256;

const bytesAt: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
/** Each slot's bytes as little-endian 32-bit words, the last one padded with zeros: compared a word at a time. */
const wordsAt: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(SLOTS).fill(undefined);
const textAt: string[] = new Array<string>(SLOTS).fill('');
/** Each slot's hash: most misses are told by it without comparing bytes. */
const hashAt = new Int32Array(SLOTS);
/** Per set: the way the next miss replaces (the oldest, round robin). */
const next = new Uint8Array(SETS);

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** The bytes of the topic {@link internTopic} returned last (the table's copy), or undefined when not interned. */
let last: Uint8Array | undefined;

/**
 * The topic being looked up as little-endian 32-bit words, the last one zero-padded: hashed and
 * compared a word at a time. Byte by byte, FNV-1a over a 27-byte W3 topic took ~490
 * instructions and the whole lookup ~1,400 (issue 20). Not through a `DataView`: reading a
 * `Buffer`'s `.buffer` to make one costs ~250 instructions in itself.
 */
const scratch = new Int32Array((MAX_BYTES >>> 2) + 1);

/** The last `len & 3` bytes at `b[to - (len & 3), to)` as one little-endian word, zero-padded (0 when none). */
function tailWord(b: Uint8Array, to: number, len: number): number {
  switch (len & 3) {
    case 1: return b[to - 1]!;
    case 2: return b[to - 2]! | (b[to - 1]! << 8);
    case 3: return b[to - 3]! | (b[to - 2]! << 8) | (b[to - 1]! << 16);
    default: return 0;
  }
}

/** The table's copy of the bytes of the topic {@link internTopic} returned last; undefined if it was not interned. Never changed in place. */
export function lastInternedBytes(): Uint8Array | undefined {
  return last;
}

/** Node's Buffer has it; elsewhere (browsers) the decoder does the same job. */
type Latin1Slicer = Uint8Array & { latin1Slice?: (from: number, to: number) => string };

/**
 * The topic as one flat string. Built by concatenating characters it was a rope that every
 * `Map` lookup (router, schema matcher, log record) had to flatten and hash: 0.6–1.0 µs per
 * publish with one lookup, 0.3–0.6 through the decoder, 0.2–0.4 through `latin1Slice` (200k W8
 * topics, two lookups, `process.cpuUsage`). ASCII is checked first: other bytes take UTF-8.
 */
export function topicText(b: Uint8Array, from: number, to: number): string {
  // Clamped like `subarray`: latin1Slice throws past the end (a truncated frame of a buggy peer).
  if (to > b.length) to = b.length;
  if (from > to) return '';
  for (let i = from; i < to; i++) if (b[i]! >= 0x80) return utf8.decode(b.subarray(from, to));
  const slice = (b as Latin1Slicer).latin1Slice;
  return slice === undefined ? utf8.decode(b.subarray(from, to)) : slice.call(b, from, to);
}

/** {@link topicText} of `b[from, to)`, the same string object as long as the table keeps it. */
export function internTopic(b: Uint8Array, from: number, to: number): string {
  const len = to - from;
  if (len <= 0 || len > MAX_BYTES || to > b.length) {
    last = undefined;
    return topicText(b, from, to);
  }
  const words = len >>> 2;
  // FxHash-style over the words (rotate, xor, multiply), then a final mix; folded to a set.
  let h = len;
  let i = from;
  for (let k = 0; k < words; k++, i += 4) {
    const w = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    scratch[k] = w;
    h = Math.imul(((h << 5) | (h >>> 27)) ^ w, 0x9e3779b1);
  }
  const tail = tailWord(b, to, len);
  scratch[words] = tail;
  h = Math.imul(((h << 5) | (h >>> 27)) ^ tail, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  const base = (h & (SETS - 1)) * WAYS;
  for (let slot = base; slot < base + WAYS; slot++) {
    if (hashAt[slot] !== h) continue;
    const known = wordsAt[slot];
    if (known !== undefined && bytesAt[slot]!.length === len && same(known, words)) {
      last = bytesAt[slot];
      return textAt[slot]!;
    }
  }
  const set = base / WAYS;
  const slot = base + next[set]!;
  next[set] = (next[set]! + 1) & (WAYS - 1);
  const text = topicText(b, from, to);
  const copy = new Uint8Array(len); // a copy: frames are not kept
  for (let j = 0; j < len; j++) copy[j] = b[from + j]!;
  const own = new Int32Array(words + 1);
  for (let k = 0; k <= words; k++) own[k] = scratch[k]!;
  bytesAt[slot] = copy;
  wordsAt[slot] = own;
  textAt[slot] = text;
  hashAt[slot] = h;
  last = copy;
  return text;
}

/** Are the words of `key` (`words` whole ones and the tail) those in {@link scratch}? */
function same(key: Int32Array, words: number): boolean {
  for (let k = 0; k <= words; k++) if (scratch[k] !== key[k]) return false;
  return true;
}
