/**
 * The two spellings of a group subscription (README "Shared subscriptions"), and the frame a
 * member is sent. Pure: no I/O.
 *
 * - TS components: `{ cmd: 'subscribe', group: 'workers' }` on the pattern (a TS key the
 *   references' brokers never read, spec §6: they fall back to a plain subscription);
 * - any component (PY, JL, raw frames): a subscribe on `$share/<group>/<pattern>`, MQTT 5's
 *   spelling, which a reference broker treats as an ordinary (never published) topic.
 *
 * A member is sent each message on the group's spelling `$share/<group>/<pattern>`, with the
 * publisher's flags and id (QoS kept: the member ACKs it) and, when the pattern holds a
 * wildcard, the real topic first (as a wildcard delivery, spec §4.5).
 */
import { InvalidTopicError } from '../errors.js';
import type { MsgId, PubMsg } from './messages.js';
import { isPattern, validatePattern } from '../topic/validate.js';

/** The prefix of MQTT 5 shared subscriptions, used for rembus groups too. */
export const SHARE_PREFIX = '$share/';

/** A group subscription: its group name and pattern. */
export interface Share {
  readonly group: string;
  readonly pattern: string;
}

/** `$share/<group>/<pattern>` for a group and pattern. */
export function shareTopic(group: string, pattern: string): string {
  return `${SHARE_PREFIX}${group}/${pattern}`;
}

/** A valid group name: non-empty, no `/`, `*`, `+` or `#` (MQTT 5 §4.8.2). @throws InvalidTopicError */
export function validateGroup(group: unknown): string {
  if (typeof group !== 'string' || group.length === 0 || /[/*+#]/.test(group) || /[\x00-\x1f\x7f]/.test(group)) {
    throw new InvalidTopicError(String(group), "a group name is a non-empty string without '/', '*', '+' or '#'");
  }
  return group;
}

/**
 * The group subscription an admin command names, or undefined for a plain one: the `group`
 * key, else the `$share/` spelling of the topic. @throws InvalidTopicError on a bad group or pattern
 */
export function shareOf(topic: string, cmd: Record<string, unknown>): Share | undefined {
  const group = cmd['group'];
  if (group !== undefined && group !== null) return { group: validateGroup(group), pattern: validatePattern(topic) };
  if (!topic.startsWith(SHARE_PREFIX)) return undefined;
  const slash = topic.indexOf('/', SHARE_PREFIX.length);
  if (slash < 0) throw new InvalidTopicError(topic, "expected '$share/<group>/<pattern>'");
  return { group: validateGroup(topic.slice(SHARE_PREFIX.length, slash)), pattern: validatePattern(topic.slice(slash + 1)) };
}

/** What a member of `spelling` is sent for `source`: built lazily, args decoded only for a re-encoding. */
export class GroupPub implements PubMsg {
  readonly type = 'pub' as const;
  readonly flags: number;
  readonly id: MsgId | undefined;
  private built: unknown[] | undefined;

  constructor(readonly topic: string, private readonly wildcard: boolean, private readonly source: PubMsg) {
    this.flags = source.flags;
    this.id = source.id;
  }

  /** The delivery for a member of the group `spelling` with `pattern`. */
  static of(spelling: string, pattern: string, source: PubMsg): GroupPub {
    return new GroupPub(spelling, isPattern(pattern), source);
  }

  get args(): unknown[] {
    return this.built ??= this.wildcard ? [this.source.topic, ...this.source.args] : this.source.args;
  }
}
