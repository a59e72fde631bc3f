/**
 * The topics of PUB frames as the broker reads them, by their bytes (issue 20, W3): a topic
 * seen before, on any link, comes back as the very string made the first time — no string is
 * built, nothing is copied, and the maps it is then looked up in (router, pattern cache,
 * metering) hash a string whose hash V8 already keeps. In front of the shared table each link
 * keeps its last topic (a publisher mostly repeats one). Pure: no I/O.
 *
 * Bounded: {@link SETS} sets of two topics of at most {@link MAX_BYTES} bytes each; a new
 * topic replaces the older-used of its set (longer topics are read as they come, not kept).
 */
import { topicText } from './lazy-pub.js';

/** Sets of the shared table (a power of two); two topics each. */
const SETS = 2048;
/** Longest topic kept, in bytes. */
const MAX_BYTES = 256;

const keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SETS * 2).fill(undefined);
const texts: string[] = new Array<string>(SETS * 2).fill('');
/** Per set: the way used last (0 or 1); a miss replaces the other one. */
const recent = new Uint8Array(SETS);

/** Are `frame[from, from + key.length)` the bytes of `key`? */
function same(key: Uint8Array, frame: Uint8Array, from: number): boolean {
  for (let i = 0; i < key.length; i++) if (frame[from + i] !== key[i]) return false;
  return true;
}

/** The topic text at `frame[from, to)`, from the shared table when it holds those bytes. */
function shared(frame: Uint8Array, from: number, to: number, link: LinkTopics): string {
  const n = to - from;
  // FNV-1a over the bytes and their count.
  let h = 0x811c9dc5 ^ n;
  for (let i = from; i < to; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  const set = (h ^ (h >>> 15)) & (SETS - 1);
  const at = set * 2;
  for (let way = 0; way < 2; way++) {
    const key = keys[at + way];
    if (key !== undefined && key.length === n && same(key, frame, from)) {
      recent[set] = way;
      link.last = key;
      return (link.topic = texts[at + way]!);
    }
  }
  const way = recent[set] === 0 ? 1 : 0;
  const key = new Uint8Array(n);
  for (let i = 0; i < n; i++) key[i] = frame[from + i]!;
  const topic = topicText(frame, from, to);
  keys[at + way] = key;
  texts[at + way] = topic;
  recent[set] = way;
  link.last = key;
  return (link.topic = topic);
}

/** One link's reader of topics: its last topic, then the broker's shared table. */
export class LinkTopics {
  /** The bytes of `topic` (owned by the table or by this link, never changed). */
  last: Uint8Array = new Uint8Array(0);
  topic = '';

  /** The topic text at `frame[from, to)`. */
  read(frame: Uint8Array, from: number, to: number): string {
    const last = this.last;
    if (last.length === to - from && same(last, frame, from)) return this.topic;
    if (to - from <= MAX_BYTES && to <= frame.length) return shared(frame, from, to, this);
    this.topic = topicText(frame, from, to);
    this.last = new Uint8Array(frame.subarray(from, to)); // a copy: frames are not kept
    return this.topic;
  }
}
