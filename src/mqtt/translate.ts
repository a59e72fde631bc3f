/**
 * Rembus topics and patterns on MQTT (spec §9, §4.6). Pure.
 *
 * MQTT filters are coarser than Rembus patterns: `+` matches one level, empty included, and `#`
 * the rest of the topic, parent level included, while a Rembus `*` may sit inside a level
 * (`a*b`), must match a non-empty chunk, never captures a verbatim `@` chunk, and `**` may stand
 * anywhere (`**` + `/telemetry`). So every pattern is subscribed as the narrowest MQTT filter
 * *containing* it, and each delivery is confirmed with the Rembus matcher: the user gets exact
 * Rembus semantics, at the price of some traffic the broker sends for nothing.
 */
import { InvalidTopicError } from '../errors.js';
import { compilePattern, type TopicMatcher } from '../topic/pattern.js';
import { isPattern, validatePattern, validateTopic } from '../topic/validate.js';

const MQTT_WILDCARDS = /[+#]/;
/** `$share/<group>/<filter>` is an MQTT 5 shared subscription, never a topic (MQTT 5 §4.8.2). */
const SHARE_PREFIX = '$share/';

function checkMqtt(s: string): string {
  if (MQTT_WILDCARDS.test(s)) throw new InvalidTopicError(s, "'+' and '#' are MQTT wildcards, not topic characters");
  if (s.startsWith(SHARE_PREFIX)) throw new InvalidTopicError(s, "'$share/' starts an MQTT shared subscription, not a topic");
  return s;
}

/**
 * Check a concrete topic (publish topic or method name) for MQTT: a Rembus topic that also
 * holds no `+` or `#`, which MQTT reserves for filters (MQTT 5 §4.7.1).
 *
 * @example
 * ```ts
 * import { validateMqttTopic } from 'rembus/mqtt';
 * validateMqttTopic('plant/7/telemetry'); // 'plant/7/telemetry'
 * validateMqttTopic('plant/#');           // throws InvalidTopicError
 * ```
 * @param topic - The value to check.
 * @returns The topic, typed as a string.
 * @throws {@link InvalidTopicError} for what `validateTopic` refuses, for `+` or `#`, and for a
 *   leading `$share/`.
 * @see {@link toMqttFilter}
 */
export function validateMqttTopic(topic: unknown): string {
  return checkMqtt(validateTopic(topic));
}

/**
 * Translate a Rembus pattern into the narrowest MQTT topic filter that contains it:
 *
 * | Rembus | MQTT | confirmed locally because |
 * |---|---|---|
 * | `a/b` | `a/b` | (exact: never) |
 * | `a/*` + `/b` | `a/+/b` | `+` also matches an empty level and `@x` |
 * | `a/x*y` | `a/+` | `*` inside a level |
 * | `a/**` | `a/#` | `#` also matches the parent `a` |
 * | `**` + `/telemetry`, `a**` | `#` | `**` not last: MQTT `#` must end a filter |
 * | `**`, `*` (catch-all) | `#` | |
 *
 * Every level from the first holding `**` on collapses into `#`. Note that MQTT never lets a
 * filter starting with a wildcard match a topic starting with `$` (MQTT 5 §4.7.2).
 *
 * @example
 * ```ts
 * import { toMqttFilter } from 'rembus/mqtt';
 * toMqttFilter('veneto/*' + '/temperature'); // 'veneto/+/temperature'
 * toMqttFilter('**' + '/telemetry');         // '#'
 * ```
 * @param pattern - A Rembus pattern (spec §4.6) or topic.
 * @returns The MQTT filter to subscribe.
 * @throws {@link InvalidTopicError} for what `validatePattern` refuses, for `+` or `#`, which no
 *   MQTT topic can hold (such a pattern could never match), and for a leading `$share/`.
 * @see {@link rembusMatcher}, {@link mqttFilterMatches}
 */
export function toMqttFilter(pattern: string): string {
  checkMqtt(validatePattern(pattern));
  if (pattern === '*') return '#';
  const out: string[] = [];
  for (const level of pattern.split('/')) {
    if (level.includes('**')) {
      out.push('#');
      break;
    }
    out.push(level.includes('*') ? '+' : level);
  }
  return out.join('/');
}

/**
 * The Rembus matcher that confirms what the MQTT filter of {@link toMqttFilter} delivers: topic
 * equality for a plain topic, every topic for the catch-all `*` (JL semantics, spec §4.6), and
 * {@link compilePattern} otherwise (verbatim `@` chunks, non-empty `*`).
 *
 * @example
 * ```ts
 * import { rembusMatcher } from './mqtt/translate.js';
 * rembusMatcher('k/*' + '/y')('k/@e/y'); // false
 * rembusMatcher('*')('anything');         // true
 * ```
 * @param pattern - A validated pattern.
 * @returns A matcher of concrete topics.
 * @throws Never.
 * @see {@link toMqttFilter}
 */
export function rembusMatcher(pattern: string): TopicMatcher {
  if (pattern === '*') return () => true;
  if (!isPattern(pattern)) return (topic) => topic === pattern;
  return compilePattern(pattern);
}

/**
 * Tell whether an MQTT filter matches a topic name (MQTT 5 §4.7), a shared-subscription prefix
 * `$share/<group>/` aside. Used only to route deliveries when the broker sends no subscription
 * identifiers.
 *
 * @example
 * ```ts
 * import { mqttFilterMatches } from './mqtt/translate.js';
 * mqttFilterMatches('a/#', 'a');      // true
 * mqttFilterMatches('+/x', '$SYS/x'); // false
 * ```
 * @param filter - An MQTT filter, maybe `$share/<group>/<filter>`.
 * @param topic - An MQTT topic name.
 * @returns `true` iff the broker would deliver `topic` on `filter`.
 * @throws Never.
 */
export function mqttFilterMatches(filter: string, topic: string): boolean {
  const f = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
  const fl = f.split('/');
  const tl = topic.split('/');
  if (topic.startsWith('$') && (fl[0] === '+' || fl[0] === '#')) return false;
  for (let i = 0; i < fl.length; i++) {
    if (fl[i] === '#') return true;
    if (i >= tl.length) return false;
    if (fl[i] !== '+' && fl[i] !== tl[i]) return false;
  }
  return fl.length === tl.length;
}
