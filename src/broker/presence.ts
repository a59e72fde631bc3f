/**
 * Presence (spec §4.4, JL extra): the broker publishes `component_info` events when a named
 * component connects or disconnects, `[{ "event": "connection_up" | "connection_down", "cid" }]`,
 * only to subscribers of that topic. TS adds the methods the component exposes to
 * `connection_up` (`"exposes"`), the events `expose` / `unexpose` (`"method"`), and two
 * broker-local methods: `__presence__` (the snapshot) and `__exposers__(method)`.
 *
 * Only exact subscribers of `component_info` receive the events: a catch-all or wildcard
 * subscriber asked for publishes, and these are the broker's own announcements.
 *
 * Events are routed, not logged: presence is live state, and a replay of old connection events
 * would describe components that are long gone. Anonymous components have no presence (their
 * names are random and cannot be targeted).
 */
import { COMPONENT_INFO_TOPIC, EXPOSERS_METHOD, PRESENCE_METHOD, type PubMsg } from '../protocol/messages.js';
import type { ComponentPresence } from '../types.js';
import type { Guard } from './guard.js';
import type { Router } from './router.js';
import type { RpcRouting } from './rpc-routing.js';
import { isDelegate } from './trusted-links.js';
import type { Twin } from './twin.js';

/** What presence needs from the broker. */
export interface PresenceHost {
  readonly router: Router;
  readonly guard: Guard;
  /** The named twins, online or not. */
  twins(): Iterable<Twin>;
  /** recv of the latest logged message. */
  logHead(): bigint;
}

export class Presence {
  /** Delegates (trusted-links.ts): the broker's own plumbing, with no presence. */
  private readonly hidden = new WeakSet<Twin>();

  constructor(private readonly host: PresenceHost) {}

  /** Serve `__presence__` and `__exposers__` through `rpc`. */
  register(rpc: RpcRouting): void {
    rpc.callerAware.set(PRESENCE_METHOD, (caller) => this.snapshot(caller));
    rpc.callerAware.set(EXPOSERS_METHOD, (caller, method) => this.exposers(caller, method));
  }

  up(twin: Twin): void {
    if (isDelegate(twin)) return void this.hidden.add(twin);
    this.publish(twin, { event: 'connection_up', cid: twin.name, exposes: [...twin.exposed].sort() });
  }

  down(twin: Twin): void {
    if (this.hidden.has(twin)) return;
    this.publish(twin, { event: 'connection_down', cid: twin.name });
  }

  /** After an accepted expose/unexpose of a connected named twin. */
  declared(twin: Twin, cmd: 'expose' | 'unexpose', method: string): void {
    if (!twin.anonymous && twin.session !== null && !this.hidden.has(twin)) this.publish(twin, { event: cmd, cid: twin.name, method });
  }

  /** The connected named components `caller` may see (its tenant), sorted by name. */
  snapshot(caller: Twin): ComponentPresence[] {
    const out: ComponentPresence[] = [];
    for (const twin of this.host.twins()) {
      if (twin.session === null || twin.anonymous || this.hidden.has(twin) || !this.host.guard.sees(caller, twin.name)) continue;
      out.push({ cid: twin.name, exposes: [...twin.exposed].sort() });
    }
    return out.sort((a, b) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0));
  }

  /**
   * The connected named exposers of `method` that may serve `caller`, in exposure order, the
   * caller itself excluded (as routing excludes it, spec §5.2 loopback).
   */
  exposers(caller: Twin, method: unknown): string[] {
    if (typeof method !== 'string') throw new TypeError(`${EXPOSERS_METHOD} takes a method name`);
    const admits = this.host.guard.servers(caller, method);
    return this.host.router.exposersOf(method)
      .filter((t) => t !== caller && !t.anonymous && t.session !== null && (admits === undefined || admits(t)))
      .map((t) => t.name);
  }

  private publish(origin: Twin, event: Record<string, unknown>): void {
    const msg: PubMsg = { type: 'pub', flags: 0, topic: COMPONENT_INFO_TOPIC, args: [event] };
    // Not logged, so it takes the log head as recv: whatever a subscriber was routed up to the
    // head is ahead of it in the twin's outbox, so its delivery mark stays exact (spec §4.7).
    // Delegates hear every tenant's events (a cluster advertises its exposers at once).
    const admits = this.host.guard.receivers(origin, COMPONENT_INFO_TOPIC);
    this.host.router.publishExact(msg, this.host.logHead(), admits === undefined ? undefined : (t) => admits(t) || isDelegate(t));
  }
}
