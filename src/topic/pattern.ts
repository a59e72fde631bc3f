/**
 * Wildcard pattern → anchored regular expression, PY semantics (spec 4.6, "TS decision"):
 * `**` → `(.*)`, a single `*` → `([^/]+)`, every other character literal.
 */

/** A compiled pattern: tells whether a concrete topic matches. */
export type TopicMatcher = (topic: string) => boolean;

const never: TopicMatcher = () => false;

/** Characters with a meaning in a RegExp source; escaped so that they match literally. */
const REGEX_META = /[.*+?^${}()|[\]\\]/g;

/**
 * Compile a wildcard pattern into a matcher.
 *
 * - `**` matches any characters, slashes included, possibly none; a single `*` matches exactly one
 *   non-empty segment. Any other character is literal (regex metacharacters are escaped), and the
 *   whole topic must match. Runs of three or more stars are read greedily as `**` then `*` (as PY
 *   does); {@link validatePattern} refuses them before they get here.
 * - `/**\/` keeps both slashes: `a/**\/b` matches `a/x/b` and `a//b`, not `a/b` (PY, not JL).
 * - A match is rejected if any wildcard captured a `@` (spec 4.6 "verbatim chunks": a segment
 *   starting with `@` can only be matched literally).
 * - Only topics holding a `/` can match (both reference brokers skip the others), except for the
 *   exact pattern `**`, which matches every topic (PY glob-star special case) that holds no `@`.
 * - The exact pattern `*` never matches here: as a subscription it is the catch-all of spec 4.4
 *   item 3, which the broker handles itself rather than through key-space matching.
 *
 * @example
 * ```ts
 * import { compilePattern } from './topic/index.js';
 * const isAlarm = compilePattern('*' + '/alarm'); // '*' and '/alarm' split only to keep this comment open
 * isAlarm('home/alarm');  // true
 * isAlarm('@home/alarm'); // false: the '*' captured the verbatim chunk '@home'
 * isAlarm('alarm');       // false: no '/'
 * ```
 * @param pattern - A pattern, normally checked first with {@link validatePattern}.
 * @returns A matcher; it allocates nothing when the topic holds no `@`.
 * @throws Never.
 * @see {@link matches}, {@link PatternIndex}
 */
export function compilePattern(pattern: string): TopicMatcher {
  if (pattern === '*') return never;
  const re = new RegExp(`^${toRegexSource(pattern)}$`);
  const needsSlash = pattern !== '**';
  return (topic) => {
    if (needsSlash && !topic.includes('/')) return false;
    // Captures are substrings of the topic, so without '@' in it none can hold one.
    if (!topic.includes('@')) return re.test(topic);
    const m = re.exec(topic);
    if (m === null) return false;
    for (let i = 1; i < m.length; i++) {
      if (m[i]!.includes('@')) return false;
    }
    return true;
  };
}

function toRegexSource(pattern: string): string {
  let source = '';
  let literalStart = 0;
  for (let i = pattern.indexOf('*'); i !== -1; i = pattern.indexOf('*', literalStart)) {
    source += pattern.slice(literalStart, i).replace(REGEX_META, '\\$&');
    if (pattern.charCodeAt(i + 1) === 42 /* '*' */) {
      source += '(.*)';
      literalStart = i + 2;
    } else {
      source += '([^/]+)';
      literalStart = i + 1;
    }
  }
  return source + pattern.slice(literalStart).replace(REGEX_META, '\\$&');
}

/** Compiled matchers kept by {@link matches}; bounded so that arbitrary patterns cannot grow it. */
const CACHE_CAPACITY = 1024;
const cache = new Map<string, TopicMatcher>();

/**
 * Tell whether a topic matches a pattern, with the rules of {@link compilePattern}. Compiled
 * matchers are cached (up to 1024 patterns; the oldest is evicted first).
 *
 * @example
 * ```ts
 * import { matches } from './topic/index.js';
 * matches('k/*' + '/y', 'k/e/y');  // true
 * matches('k/*' + '/y', 'k/@e/y'); // false: verbatim chunk
 * matches('a/**', 'a');            // false: the literal '/' is required
 * ```
 * @param pattern - A pattern (see {@link validatePattern}).
 * @param topic - A concrete topic.
 * @returns `true` iff `topic` matches `pattern`.
 * @throws Never.
 * @see {@link compilePattern}, {@link PatternIndex}
 */
export function matches(pattern: string, topic: string): boolean {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    if (cache.size >= CACHE_CAPACITY) cache.delete(cache.keys().next().value!);
    matcher = compilePattern(pattern);
    cache.set(pattern, matcher);
  }
  return matcher(topic);
}
