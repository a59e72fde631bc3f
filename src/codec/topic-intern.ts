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
 * of them in the table at once (topic-intern.test). Pure: no I/O.
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
const textAt: string[] = new Array<string>(SLOTS).fill('');
/** Each slot's hash: most misses are told by it without comparing bytes. */
const hashAt = new Int32Array(SLOTS);
/** Per set: the way the next miss replaces (the oldest, round robin). */
const next = new Uint8Array(SETS);

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** The bytes of the topic {@link internTopic} returned last (the table's copy), or undefined when not interned. */
let last: Uint8Array | undefined;

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
  // FNV-1a over the bytes and their count, folded to a set.
  let h = 0x811c9dc5 ^ len;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const base = ((h ^ (h >>> 15)) & (SETS - 1)) * WAYS;
  for (let slot = base; slot < base + WAYS; slot++) {
    if (hashAt[slot] !== h) continue;
    const known = bytesAt[slot];
    if (known !== undefined && known.length === len && same(known, b, from)) {
      last = known;
      return textAt[slot]!;
    }
  }
  const set = base / WAYS;
  const slot = base + next[set]!;
  next[set] = (next[set]! + 1) & (WAYS - 1);
  const text = topicText(b, from, to);
  const copy = new Uint8Array(len); // a copy: frames are not kept
  for (let i = 0; i < len; i++) copy[i] = b[from + i]!;
  bytesAt[slot] = copy;
  textAt[slot] = text;
  hashAt[slot] = h;
  last = copy;
  return text;
}

/** Are `b[from, from + key.length)` the bytes of `key`? */
function same(key: Uint8Array, b: Uint8Array, from: number): boolean {
  for (let i = 0; i < key.length; i++) if (b[from + i] !== key[i]) return false;
  return true;
}
