/**
 * Retained values (TS `publish$(topic, args, { retain: true })`, MQTT's retain flag): the broker
 * keeps the last retained publish of each topic and sends it, first, to every new subscription
 * whose topic or pattern matches it. An empty retained publish clears the topic.
 *
 * Delivery goes through the router's own path (`deliverTo`) right after the subscribe's reply
 * (a PY client registers its callback only then): for an anonymous twin in the same turn, so
 * nothing live comes between; for a named one after the commit that makes the subscription
 * durable, so a live message published in that window (a few ms) may come first. Only values
 * published before the subscription are sent — a newer one reached the subscriber live — so
 * there is no gap and no duplicate. A twin whose replay runs gets them behind that replay.
 * A retained value obeys private topics (the receiver must be authorized to receive it) and
 * tenants (only the publisher's tenant sees it), as a live delivery does (spec §6.2 revised).
 *
 * Bounded (README "Retained values"): at most `maxCount` topics and `maxBytes` of topics and
 * encoded args. A retained publish past either bound is delivered but not retained — the
 * topic keeps its previous value, if any — and counted in `refused`. An expired value (publish
 * `ttl`) is never sent and is dropped when met. Durable: the value rides on its log row
 * (`StoredMessage.retain`) and the store keeps the latest per topic in the same commit.
 */
import { decodeValue } from '../codec/cbor.js';
import type { PubMsg } from '../protocol/messages.js';
import type { Authenticator } from '../security/authenticator.js';
import { clearsRetained } from '../store/retained-rows.js';
import type { Store, StoredMessage } from '../store/types.js';
import { isPattern, matches } from '../topic/index.js';
import type { Logger } from '../types.js';
import { isProven } from './guard.js';
import { OUT_RETAINED } from './meta-frames.js';
import { Outgoing } from './outgoing.js';
import { CATCH_ALL } from './router.js';
import type { Twin } from './twin.js';

/** Bounds of the retained values. */
export interface RetainedLimits {
  /** Topics with a retained value at most. Default 10_000. */
  readonly maxCount?: number;
  /** Bytes of topics and encoded args at most. Default 16 MiB. */
  readonly maxBytes?: number;
}

interface Entry {
  readonly msg: PubMsg;
  readonly recv: bigint;
  /** ms since the epoch; 0 never. */
  readonly expires: number;
  /** The publisher's name; '' an anonymous one (default tenant), undefined the broker itself. */
  readonly origin: string | undefined;
  readonly bytes: number;
}

export class RetainedValues {
  private readonly values = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  /** Retained publishes not retained because of the bounds. */
  refused = 0;

  constructor(private readonly auth: Authenticator, private readonly log: Logger, limits: RetainedLimits = {}) {
    this.maxCount = limits.maxCount ?? 10_000;
    this.maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
  }

  get size(): number {
    return this.values.size;
  }

  /**
   * A retained publish was accepted with receive time `recv`: keep it (or clear the topic when
   * its args are empty). Returns false when the bounds refused it (then its log row is not
   * marked retained either).
   */
  offer(msg: PubMsg, recv: bigint, expires: number, origin: string | undefined, argsBytes: number): boolean {
    const topic = msg.topic;
    const old = this.values.get(topic);
    if (msg.args.length === 0) {
      if (old !== undefined) this.remove(topic, old);
      return true;
    }
    const bytes = topic.length + argsBytes;
    const count = this.values.size + (old === undefined ? 1 : 0);
    if (count > this.maxCount || this.bytes - (old?.bytes ?? 0) + bytes > this.maxBytes) {
      this.refused++;
      this.log.warn({ topic, count: this.values.size, bytes: this.bytes }, 'retained values full: publish delivered, not retained');
      return false;
    }
    if (old !== undefined) this.remove(topic, old);
    // Re-inserted: the map's order is the order of the latest publishes.
    this.values.set(topic, { msg: plain(msg), recv, expires, origin, bytes });
    this.bytes += bytes;
    return true;
  }

  /**
   * `twin` subscribed to `subscription` when the log head was `upTo`: what sends it, once the
   * subscribe's reply has left (a PY client registers its callback only on that reply), the
   * matching retained values it may receive, oldest first, each marked retained, through `send`
   * (the router's live path: behind a replay hold if one runs). Values newer than `upTo` reached
   * it live and are not sent again.
   */
  sender(twin: Twin, subscription: string, upTo: bigint, send: (out: Outgoing) => void): () => void {
    return () => {
      if (twin.session !== null && twin.subscriptions.has(subscription)) this.deliver(twin, subscription, upTo, send);
    };
  }

  private deliver(twin: Twin, subscription: string, upTo: bigint, send: (out: Outgoing) => void): void {
    if (this.values.size === 0) return;
    const now = Date.now();
    const wildcard = subscription !== CATCH_ALL && isPattern(subscription);
    let entries: Iterable<Entry>;
    if (subscription === CATCH_ALL || wildcard) entries = [...this.values.values()];
    else {
      const one = this.values.get(subscription);
      entries = one === undefined ? [] : [one];
    }
    for (const e of entries) {
      if (e.expires !== 0 && e.expires <= now) {
        this.remove(e.msg.topic, e);
        continue;
      }
      if (e.recv > upTo || (wildcard && !matches(subscription, e.msg.topic))) continue;
      if (!this.admits(e, twin)) continue;
      send(wildcard ? Outgoing.wildcard(subscription, e.msg, e.recv, e.origin, OUT_RETAINED, e.expires)
        : new Outgoing(e.msg, null, e.recv, e.origin, OUT_RETAINED, e.expires));
    }
  }

  /** Load the store's retained values (at start); expired ones are left out. */
  async restore(store: Store): Promise<void> {
    if (store.loadRetained === undefined) {
      this.log.info('this store keeps no retained values: they live in memory only');
      return;
    }
    const rows = (await store.loadRetained()).sort((a, b) => (a.recv < b.recv ? -1 : a.recv > b.recv ? 1 : 0));
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const row of rows) {
      if (clearsRetained(row) || (row.expires != null && row.expires <= now)) continue;
      const msg = messageOf(row);
      const expires = row.expires == null ? 0 : Number(row.expires / 1_000_000n);
      // With isolated tenants a value whose row kept no publisher (logged before the log kept
      // one) is nobody's to see (guard.ts `replayable`); null is the broker's own: everyone's.
      if (row.origin === undefined && this.auth.store.multiTenant) continue;
      if (!this.offer(msg, row.recv, expires, row.origin ?? undefined, row.data.byteLength)) break;
    }
  }

  /** Private topics and tenants, as for a live delivery (guard.ts `receivers`). */
  private admits(e: Entry, twin: Twin): boolean {
    const store = this.auth.store;
    const topic = e.msg.topic;
    if (store.hasPrivateTopics && store.isPrivate(topic) && !this.auth.authorize(twin.name, 'deliver', topic, isProven(twin))) {
      return false;
    }
    return !store.multiTenant || e.origin === undefined || this.auth.sameTenant(e.origin, twin.name);
  }

  private remove(topic: string, e: Entry): void {
    this.values.delete(topic);
    this.bytes -= e.bytes;
  }
}

/** The message as it is kept: decoded args, no metadata. */
function plain(msg: PubMsg): PubMsg {
  return msg.id === undefined ? { type: 'pub', flags: msg.flags, topic: msg.topic, args: msg.args }
    : { type: 'pub', flags: msg.flags, id: msg.id, topic: msg.topic, args: msg.args };
}

function messageOf(row: StoredMessage): PubMsg {
  const args = decodeValue(row.data) as unknown[];
  return row.uid === null ? { type: 'pub', flags: row.qos, topic: row.topic, args }
    : { type: 'pub', flags: row.qos, id: row.uid, topic: row.topic, args };
}
