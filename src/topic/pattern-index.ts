import { compilePattern, type TopicMatcher } from './pattern.js';

/** A pattern matching a topic, with its values (see {@link PatternIndex.matching}). */
export interface PatternMatch<V> {
  readonly pattern: string;
  readonly values: ReadonlySet<V>;
  /**
   * The values as an array, replaced (never changed in place) when they change: a loop over it
   * allocates no iterator, and a value added or removed meanwhile does not disturb it.
   */
  readonly list: readonly V[];
}

/** One registered pattern, stored in exactly one bucket (a trie node or the general bucket). */
interface Entry<V> extends PatternMatch<V> {
  readonly matcher: TopicMatcher;
  readonly values: Set<V>;
  list: readonly V[];
  readonly node: TrieNode<V>;
  /** Position in `node.entries`, kept up to date so removal is a swap with the last entry. */
  slot: number;
}

interface TrieNode<V> {
  readonly parent: TrieNode<V> | undefined;
  readonly key: string;
  children: Map<string, TrieNode<V>> | undefined;
  /** An array, not a Set, so that `match` iterates without allocating an iterator. */
  readonly entries: Entry<V>[];
}

/** Topics whose matching patterns {@link PatternIndex} remembers, at most; past it they are all forgotten. */
export const MATCH_MEMO_CAPACITY = 4096;
/** Longer topics are matched by a walk every time, never remembered (the memo's bytes stay bounded). */
const MATCH_MEMO_TOPIC = 256;

const newNode = <V>(parent: TrieNode<V> | undefined, key: string): TrieNode<V> =>
  ({ parent, key, children: undefined, entries: [] });

/**
 * An index of wildcard patterns (spec 4.6) for routing: finds the patterns matching a topic without
 * testing every registered pattern. Each pattern holds a set of values (e.g. subscriber ids).
 *
 * A pattern is filed under its literal leading segments (those before the first segment holding
 * `*`) in a prefix trie; failing those, under its literal trailing segments in a suffix trie walked
 * from the topic's end; failing both (`*` + `/*`, `**`), in a general bucket tested for every topic.
 * Candidates found this way are confirmed with the matcher of {@link compilePattern}, so results are
 * exactly those of {@link matches}. Patterns are not validated here: see {@link validatePattern}.
 * The catch-all `*` may be added but never matches (the broker delivers it separately).
 *
 * @example
 * ```ts
 * import { PatternIndex } from './topic/index.js';
 * const index = new PatternIndex<string>();
 * index.add('veneto/*' + '/temperature', 'twin-1');
 * index.add('**' + '/temperature', 'twin-2');
 * index.match('veneto/belluno/temperature', (pattern, twins) => {
 *   for (const twin of twins) deliver(twin, pattern);
 * });
 * index.removeValue('twin-1'); // ['veneto/*' + '/temperature']
 * ```
 * @typeParam V - The values stored per pattern, compared with SameValueZero (as in a `Set`).
 * @see {@link compilePattern}, {@link matches}
 */
export class PatternIndex<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #patternsOf = new Map<V, Set<string>>();
  readonly #prefixRoot = newNode<V>(undefined, '');
  readonly #suffixRoot = newNode<V>(undefined, '');
  readonly #general = newNode<V>(undefined, '');
  /**
   * Topic → the entries matching it, for topics seen again (a wildcard subscriber's 1,000
   * device topics: one lookup instead of a trie walk and a RegExp per publish). Forgotten
   * whenever a pattern comes or goes, and all at once past {@link MATCH_MEMO_CAPACITY} topics;
   * topics longer than 256 characters are not kept.
   */
  readonly #memo = new Map<string, readonly Entry<V>[]>();

  /** The number of patterns holding at least one value. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Tell whether a pattern holds at least one value.
   * @param pattern - The pattern, compared as a string.
   * @returns `true` iff `pattern` was added and still holds a value.
   */
  has(pattern: string): boolean {
    return this.#entries.has(pattern);
  }

  /**
   * Iterate over the registered patterns, in insertion order.
   * @returns An iterator; do not add or remove while iterating.
   */
  patterns(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /**
   * Add `value` to `pattern`, registering the pattern if needed.
   * @param pattern - A wildcard pattern (or a plain topic, matched literally).
   * @param value - The value to store.
   * @returns `true` if the value was not already stored for this pattern.
   * @throws Never.
   */
  add(pattern: string, value: V): boolean {
    let entry = this.#entries.get(pattern);
    if (entry === undefined) {
      const node = this.#nodeFor(pattern);
      entry = { pattern, matcher: compilePattern(pattern), values: new Set(), list: [], node, slot: node.entries.length };
      node.entries.push(entry);
      this.#memo.clear();
      this.#entries.set(pattern, entry);
    } else if (entry.values.has(value)) {
      return false;
    }
    entry.values.add(value);
    entry.list = [...entry.values];
    let patterns = this.#patternsOf.get(value);
    if (patterns === undefined) this.#patternsOf.set(value, (patterns = new Set()));
    patterns.add(pattern);
    return true;
  }

  /**
   * Remove `value` from `pattern`; a pattern left without values is dropped with its empty nodes.
   * @param pattern - The pattern the value was added with.
   * @param value - The value to remove.
   * @returns `true` if the value was stored for this pattern.
   * @throws Never.
   */
  remove(pattern: string, value: V): boolean {
    const entry = this.#entries.get(pattern);
    if (entry === undefined || !entry.values.delete(value)) return false;
    entry.list = [...entry.values];
    const patterns = this.#patternsOf.get(value)!;
    patterns.delete(pattern);
    if (patterns.size === 0) this.#patternsOf.delete(value);
    if (entry.values.size === 0) this.#drop(entry);
    return true;
  }

  /**
   * Remove `value` from every pattern, e.g. when a subscriber disconnects (spec 4.6).
   * @param value - The value to remove.
   * @returns The patterns it was removed from (empty if none).
   * @throws Never.
   */
  removeValue(value: V): string[] {
    const patterns = this.#patternsOf.get(value);
    if (patterns === undefined) return [];
    this.#patternsOf.delete(value);
    const removed = [...patterns];
    for (const pattern of removed) {
      const entry = this.#entries.get(pattern)!;
      entry.values.delete(value);
      entry.list = [...entry.values];
      if (entry.values.size === 0) this.#drop(entry);
    }
    return removed;
  }

  /**
   * Call `visit` once for every pattern matching `topic`. A topic seen before since the last
   * change of patterns costs one map lookup; a new one, a walk that allocates only the segment
   * strings used as trie keys and the list remembered. Should `visit` add or remove patterns
   * (e.g. drop a subscriber whose link just failed), the walk stays safe, but patterns changed
   * during the call may or may not be visited (a removed one with its values as they are now).
   * @param topic - A concrete topic.
   * @param visit - Receives the pattern and its live value set (do not keep it beyond the call).
   * @returns Nothing.
   * @throws Whatever `visit` throws, which ends the walk.
   */
  match(topic: string, visit: (pattern: string, values: ReadonlySet<V>) => void): void {
    const found = this.matching(topic);
    for (let i = 0; i < found.length; i++) visit(found[i]!.pattern, found[i]!.values);
  }

  /**
   * The patterns matching `topic`, as {@link match} visits them, without a callback (the
   * broker's routing loop allocates nothing per publish for a topic seen before).
   * @param topic - A concrete topic.
   * @returns A list to read at once, not to keep or change: it is the memo's own.
   * @throws Never.
   */
  matching(topic: string): readonly PatternMatch<V>[] {
    let found = this.#memo.get(topic);
    if (found === undefined) {
      found = this.#find(topic);
      if (topic.length <= MATCH_MEMO_TOPIC) {
        if (this.#memo.size >= MATCH_MEMO_CAPACITY) this.#memo.clear();
        this.#memo.set(topic, found);
      }
    }
    return found;
  }

  /** The entries matching `topic`, walking both tries and the general bucket. */
  #find(topic: string): readonly Entry<V>[] {
    const found: Entry<V>[] = [];
    let node: TrieNode<V> | undefined = this.#prefixRoot;
    for (let start = 0; node.children !== undefined;) {
      const end = topic.indexOf('/', start);
      node = node.children.get(end === -1 ? topic.slice(start) : topic.slice(start, end));
      if (node === undefined) break;
      collectMatching(node.entries, topic, found);
      if (end === -1) break;
      start = end + 1;
    }
    node = this.#suffixRoot;
    for (let end = topic.length; node.children !== undefined;) {
      // lastIndexOf treats a negative start as 0 and would find a leading '/' again.
      const sep = end === 0 ? -1 : topic.lastIndexOf('/', end - 1);
      node = node.children.get(topic.slice(sep + 1, end));
      if (node === undefined) break;
      collectMatching(node.entries, topic, found);
      if (sep === -1) break;
      end = sep;
    }
    collectMatching(this.#general.entries, topic, found);
    return found.length === 0 ? NONE : found;
  }

  /** Find or create the bucket of a pattern (see the class summary for the rule). */
  #nodeFor(pattern: string): TrieNode<V> {
    const segments = pattern.split('/');
    const first = segments.findIndex((s) => s.includes('*'));
    if (first !== 0) return descend(this.#prefixRoot, first === -1 ? segments : segments.slice(0, first));
    const last = segments.findLastIndex((s) => s.includes('*'));
    if (last === segments.length - 1) return this.#general;
    return descend(this.#suffixRoot, segments.slice(last + 1).reverse());
  }

  #drop(entry: Entry<V>): void {
    this.#entries.delete(entry.pattern);
    this.#memo.clear();
    const entries = entry.node.entries;
    const moved = entries.pop()!;
    if (moved !== entry) {
      entries[entry.slot] = moved;
      moved.slot = entry.slot;
    }
    // Prune nodes left with neither entries nor children, up to (not including) the root.
    for (let node = entry.node; node.parent !== undefined; node = node.parent) {
      if (node.entries.length > 0 || (node.children !== undefined && node.children.size > 0)) break;
      node.parent.children!.delete(node.key);
      if (node.parent.children!.size === 0) node.parent.children = undefined;
    }
  }
}

function descend<V>(root: TrieNode<V>, keys: readonly string[]): TrieNode<V> {
  let node = root;
  for (const key of keys) {
    node.children ??= new Map();
    let child = node.children.get(key);
    if (child === undefined) node.children.set(key, (child = newNode(node, key)));
    node = child;
  }
  return node;
}

/** No pattern matches: one shared empty list. */
const NONE: readonly never[] = [];

function collectMatching<V>(entries: readonly Entry<V>[], topic: string, found: Entry<V>[]): void {
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.matcher(topic)) found.push(entry);
  }
}
