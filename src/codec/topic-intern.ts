/**
 * Topic strings interned by their bytes (issue 14, W8): a broker reads the topic of every PUB
 * twice — the wire meter counts it, the codec hands it to routing, the schema matcher and the
 * log — and a publisher rotating over many topics (W8: 100) defeats a per-link "last topic".
 * A small table keyed by a hash of the bytes hands back the same string for the same bytes:
 * no string and no copy per frame, and every `Map` that looks the topic up hashes a string
 * whose hash V8 has already computed.
 *
 * Bounded: {@link SLOTS} entries of at most {@link MAX_BYTES} bytes; a slot holds the latest
 * topic that hashed to it (a collision, or a peer sending crafted topics, only costs a miss:
 * the text is built as it would be without the table). Pure: no I/O.
 */

/** Slots of the table (a power of two). */
export const SLOTS = 2048;
/** Longer topics are not interned (built each time). */
export const MAX_BYTES = 96;

const MASK = SLOTS - 1;
const bytesAt: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const textAt: string[] = new Array<string>(SLOTS).fill('');

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

/** {@link topicText} of `b[from, to)`, the same string object as long as its slot keeps it. */
export function internTopic(b: Uint8Array, from: number, to: number): string {
  const len = to - from;
  if (len <= 0 || len > MAX_BYTES || to > b.length) {
    last = undefined;
    return topicText(b, from, to);
  }
  // FNV-1a over the bytes, folded.
  let h = 0x811c9dc5 ^ len;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const slot = (h ^ (h >>> 13)) & MASK;
  const known = bytesAt[slot];
  if (known !== undefined && known.length === len) {
    let i = 0;
    while (i < len && known[i] === b[from + i]) i++;
    if (i === len) {
      last = known;
      return textAt[slot]!;
    }
  }
  const text = topicText(b, from, to);
  const copy = new Uint8Array(len); // a copy: frames are not kept
  for (let i = 0; i < len; i++) copy[i] = b[from + i]!;
  bytesAt[slot] = copy;
  textAt[slot] = text;
  last = copy;
  return text;
}
