import { InvalidTopicError } from '../errors.js';

/**
 * Check a concrete topic: a publish topic or an RPC method name.
 *
 * A topic is a non-empty string without control characters (U+0000–U+001F, U+007F) and without
 * `*`: a string holding `*` is a pattern, which only subscriptions may use (spec 4.6).
 *
 * @example
 * ```ts
 * import { validateTopic } from './topic/index.js';
 * validateTopic('plant/7/telemetry'); // 'plant/7/telemetry'
 * validateTopic('plant/*');           // throws InvalidTopicError
 * ```
 * @param topic - The value to check; anything, so that wire input can be passed unchecked.
 * @returns The topic, typed as a string.
 * @throws {@link InvalidTopicError} (code `'INVALID_TOPIC'`) if `topic` is not a string, is empty,
 *   holds a control character, or holds `*`.
 * @see {@link validatePattern}, {@link isPattern}
 */
export function validateTopic(topic: unknown): string {
  // One pass for both checks (every publish takes it): control characters are reported first.
  const s = checkString(topic, true);
  if (s === undefined) throw new InvalidTopicError(topic, "'*' is only allowed in subscription patterns");
  return s;
}

/**
 * Check a subscription pattern: a topic that may hold `*` (exactly one non-empty segment) and `**`
 * (any characters, slashes included). Three or more stars in a row have no meaning and are refused.
 * A pattern without any `*` is accepted (it names one topic).
 *
 * @example
 * ```ts
 * import { validatePattern } from './topic/index.js';
 * validatePattern('**' + '/telemetry'); // returned unchanged
 * validatePattern('a/***');             // throws InvalidTopicError
 * ```
 * @param pattern - The value to check; anything, so that wire input can be passed unchecked.
 * @returns The pattern, typed as a string.
 * @throws {@link InvalidTopicError} (code `'INVALID_TOPIC'`) if `pattern` is not a string, is
 *   empty, holds a control character, or holds `***`.
 * @see {@link validateTopic}, {@link compilePattern}
 */
export function validatePattern(pattern: unknown): string {
  const s = checkString(pattern);
  if (s.includes('***')) {
    throw new InvalidTopicError(pattern, "three or more '*' in a row; use '*' or '**'");
  }
  return s;
}

/**
 * Tell whether a string is a wildcard pattern, i.e. holds at least one `*`.
 *
 * @example
 * ```ts
 * import { isPattern } from './topic/index.js';
 * isPattern('home/*');     // true
 * isPattern('home/alarm'); // false
 * ```
 * @param s - A topic or pattern (not validated).
 * @returns `true` iff `s` contains `*`.
 * @throws Never.
 * @see {@link validatePattern}
 */
export function isPattern(s: string): boolean {
  return s.includes('*');
}

/**
 * Shared checks of topics and patterns: a non-empty string with no control character. With
 * `noStar`, undefined when the string is otherwise valid but holds `*`.
 */
function checkString(value: unknown): string;
function checkString(value: unknown, noStar: true): string | undefined;
function checkString(value: unknown, noStar = false): string | undefined {
  if (typeof value !== 'string') {
    throw new InvalidTopicError(printable(value), `expected a string, got ${typeName(value)}`);
  }
  if (value.length === 0) throw new InvalidTopicError(value, 'empty');
  let star = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Control characters (NUL included) break logs, CLI output and line-oriented tools.
    if (c < 0x20 || c === 0x7f) {
      throw new InvalidTopicError(value, `control character U+${c.toString(16).padStart(4, '0')} at index ${i}`);
    }
    if (c === 0x2a) star = true;
  }
  return noStar && star ? undefined : value;
}

/**
 * InvalidTopicError JSON-stringifies the offending value; bigints and cyclic objects would make
 * that throw a TypeError instead, so those are replaced by a description.
 */
function printable(value: unknown): unknown {
  try {
    JSON.stringify(value);
    return value;
  } catch {
    return `<${typeName(value)}>`;
  }
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
