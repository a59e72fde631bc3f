/**
 * What a publish can ask for (`PublishOptions`, the offline buffer's `OverflowPolicy`) and the
 * PUB message it becomes: flags, a message id when acknowledged or slotted, publish metadata for
 * `retain` / `ttl` (src/protocol/pub-meta.ts). Pure: no I/O.
 */
import { newMsgId, newSlottedMsgId } from '../codec/msgid.js';
import { InvalidOptionError } from '../errors.js';
import { QOS2, QOS1, SLOT, type PubMsg } from '../protocol/messages.js';
import type { PubMeta } from '../protocol/pub-meta.js';
import type { QoS } from '../types.js';

/** What happens to a publish made while the offline queue is full. */
export type OverflowPolicy = 'error' | 'dropOldest' | 'dropNewest';

/** Options of `publish$`. */
export interface PublishOptions {
  /** 0 at most once, 1 at least once, 2 exactly once. Default 0. */
  qos?: QoS;
  /** A 32-bit slot carried in the message id (spec §2.4), e.g. a time bucket. Default none. */
  slot?: number;
  /**
   * Keep this as the topic's retained value at the broker: every new subscription first gets it
   * (`Message.retained`). Empty args clear it. A TS broker or an MQTT one; a PY/JL broker does
   * not take it (the publish goes out without it, logged once). Default false.
   */
  retain?: boolean;
  /**
   * Expire the message this many ms after the broker received it: not delivered, replayed or
   * retained after that (MQTT 5 message expiry). A positive integer. TS or MQTT 5 broker only, as `retain`.
   */
  ttl?: number;
}

/** The PUB message of a publish (id present iff QoS or slot, spec §2.3). @throws InvalidOptionError */
export function publishMessage(topic: string, args: unknown[], { qos = 0, slot, retain, ttl }: PublishOptions): PubMsg {
  const flags = (qos === 2 ? QOS2 : qos === 1 ? QOS1 : 0) | (slot === undefined ? 0 : SLOT);
  const msg: PubMsg = flags === 0 ? { type: 'pub', flags, topic, args }
    : { type: 'pub', flags, id: slot === undefined ? newMsgId() : newSlottedMsgId(slot), topic, args };
  const meta = publishMeta(retain, ttl);
  if (meta !== undefined) msg.meta = meta;
  return msg;
}

/** The metadata map of a publish with `retain` / `ttl`, or undefined. @throws InvalidOptionError */
function publishMeta(retain: boolean | undefined, ttl: number | undefined): PubMeta | undefined {
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new InvalidOptionError('ttl', 'a positive integer of ms');
  if (retain !== true && ttl === undefined) return undefined;
  return { ...(retain === true ? { retain: true } : {}), ...(ttl === undefined ? {} : { ttl }) };
}
