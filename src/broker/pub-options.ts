/**
 * The publish options a TS publisher sends in its PUB's metadata map (src/protocol/pub-meta.ts),
 * or a bridge passes to `broker.publish`: `retain` and `ttl`. Only those two keys are taken from
 * a publisher: the broker → subscriber keys (`recv`, `from`, `retained`) cannot be forged.
 */
import type { PubMsg } from '../protocol/messages.js';

/** Options of one publish, as the broker takes them. */
export interface PublishOptionsIn {
  /** Keep as the topic's retained value (empty args clear it). */
  readonly retain?: boolean;
  /** Expires this many ms after the broker received it. */
  readonly ttl?: number;
}

/** The message without its metadata (what subscribers and the log see) and the options it carried. */
export function splitMeta(msg: PubMsg): { msg: PubMsg; options: PublishOptionsIn | undefined } {
  const meta = msg.meta;
  const plain: PubMsg = msg.id === undefined ? { type: 'pub', flags: msg.flags, topic: msg.topic, args: msg.args }
    : { type: 'pub', flags: msg.flags, id: msg.id, topic: msg.topic, args: msg.args };
  if (meta === undefined || (meta.retain !== true && meta.ttl === undefined)) return { msg: plain, options: undefined };
  return { msg: plain, options: { ...(meta.retain === true ? { retain: true } : {}), ...(meta.ttl === undefined ? {} : { ttl: meta.ttl }) } };
}

/** Expiry in ms since the epoch for a `ttl` given at `now`; 0 never. */
export function expiryOf(options: PublishOptionsIn | undefined, now: number): number {
  return options?.ttl === undefined ? 0 : now + options.ttl;
}
