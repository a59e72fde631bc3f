/**
 * The broker side of federation (spec §10, TS design), present in every broker so that any two
 * can be bridged (`rembus bridge ws://A ws://B`) without configuring either. Broker-local
 * methods only (see {@link AGENT}); ordinary components see nothing of it:
 *
 * - **Feed.** Once a bridge has attached, every publish the broker accepts (private topics
 *   aside) is sent to the attached bridge twins subscribed to {@link FEED_TOPIC}, with its uid
 *   and path: through the router with a filter admitting those twins only, so it is neither
 *   logged nor seen by catch-all or wildcard subscribers.
 * - **Inject.** `AGENT.publish` from a bridge logs and routes the publish here (QoS0, origin
 *   `federation:<uid>`) unless its path names this broker or its uid was seen: the feed then
 *   passes it on with this broker appended to its path.
 * - **Routes.** `AGENT.routes` lists the exposed methods with, for each, whether an ordinary
 *   component exposes it and which bridges do along which paths (`AGENT.advertise`).
 *
 * Private topics and methods (spec §6.2) are never fed, injected or listed: federation does
 * not cross authorization boundaries. The agent's methods themselves are open to any caller
 * unless an admin makes them private and authorizes the bridges' names.
 */
import type { Observable, Subscription } from 'rxjs';
import { asyncScheduler } from '../internal/rx.js';
import type { Published } from '../broker/types.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import { validateTopic } from '../topic/validate.js';
import type { Handler, Logger } from '../types.js';
import {
  AGENT, FEDERATION_ORIGIN, FEED_TOPIC, feedArgs, isFederationName, parseAdverts, parseFeed, SEEN_TTL_MS,
  type Route, type RouteTable, type ViaRoute,
} from './federation-protocol.js';

/** A twin as the agent sees it. */
export interface AgentTwin {
  readonly name: string;
  readonly session: unknown;
  readonly subscriptions: ReadonlyMap<string, number>;
}

/** What the agent needs of the broker (`BrokerImpl` and its router have this shape). */
export interface AgentHost {
  readonly messages$: Observable<Published>;
  publish(topic: string, args: unknown[], origin: string): void;
  expose(method: string, handler: Handler): () => void;
  readonly router: {
    publish(origin: null, msg: PubMsg, original: null, recv: bigint, admits: (twin: AgentTwin) => boolean): void;
    exposedMethods(): string[];
    exposersOf(method: string): readonly AgentTwin[];
  };
  /** Is `topic` private (spec §6.2)? */
  isPrivate(topic: string): boolean;
}

/** uids remembered at most (oldest forgotten first). */
const SEEN_CAPACITY = 100_000;

export class FederationAgent {
  /** This broker's id in paths: fresh at every start. */
  readonly id = globalThis.crypto.randomUUID();
  private readonly bridges = new Set<string>();
  private readonly adverts = new Map<string, Map<string, readonly string[]>>();
  /** uid → expiry (ms), in insertion order, so the oldest come first. */
  private readonly seen = new Map<string, number>();
  /** Paths of injected publishes until the feed picks them up. */
  private readonly injected = new Map<string, readonly string[]>();
  private readonly unexpose: (() => void)[];
  private feed: Subscription | undefined;

  constructor(private readonly host: AgentHost, private readonly name: string, private readonly log: Logger) {
    this.unexpose = [
      host.expose(AGENT.attach, (cid: unknown) => this.attach(cid)),
      host.expose(AGENT.detach, (cid: unknown) => this.detach(cid)),
      host.expose(AGENT.publish, (...args: unknown[]) => this.inject(args)),
      host.expose(AGENT.routes, () => this.routes()),
      host.expose(AGENT.advertise, (cid: unknown, adverts: unknown) => this.advertise(cid, adverts)),
    ];
  }

  private attach(cid: unknown): { id: string; name: string } {
    if (typeof cid !== 'string' || cid === '') throw new Error('attach: expected the bridge twin name');
    if (!this.bridges.has(cid)) this.log.info({ cid }, 'federation bridge attached');
    this.bridges.add(cid);
    // Only now does every accepted publish cost a feed step.
    this.feed ??= this.host.messages$.subscribe((m) => this.onPublished(m));
    return { id: this.id, name: this.name };
  }

  private detach(cid: unknown): null {
    if (typeof cid === 'string' && this.bridges.delete(cid)) {
      this.adverts.delete(cid);
      this.log.info({ cid }, 'federation bridge detached');
    }
    return null;
  }

  private inject(args: unknown[]): boolean {
    const item = parseFeed(args);
    if (item === undefined) throw new Error('publish: expected (uid, path, topic, args, flags)');
    validateTopic(item.topic);
    if (item.path.includes(this.id) || this.host.isPrivate(item.topic) || isFederationName(item.topic)) return false;
    if (!this.remember(item.uid)) return false;
    this.injected.set(item.uid, item.path);
    this.host.publish(item.topic, item.args, FEDERATION_ORIGIN + item.uid);
    this.injected.delete(item.uid);
    return true;
  }

  /** Record a uid; false when it was seen within {@link SEEN_TTL_MS}. */
  private remember(uid: string): boolean {
    const now = asyncScheduler.now();
    for (const [old, expires] of this.seen) {
      if (expires > now && this.seen.size < SEEN_CAPACITY) break;
      this.seen.delete(old);
    }
    if (this.seen.has(uid)) return false;
    this.seen.set(uid, now + SEEN_TTL_MS);
    return true;
  }

  private onPublished(m: Published): void {
    if (this.bridges.size === 0 || isFederationName(m.topic) || this.host.isPrivate(m.topic)) return;
    let args: unknown[];
    try {
      args = m.args; // decoded on first read: may throw DecodeError (broker/published.ts)
    } catch (err) {
      this.log.warn({ topic: m.topic, err: errorText(err) }, 'publish args not decodable: not federated');
      return;
    }
    let uid: string;
    let path: readonly string[] = [];
    if (m.origin.startsWith(FEDERATION_ORIGIN)) {
      uid = m.origin.slice(FEDERATION_ORIGIN.length);
      path = this.injected.get(uid) ?? [];
    } else {
      uid = globalThis.crypto.randomUUID();
      this.remember(uid);
    }
    const item = { uid, path: [...path, this.id], topic: m.topic, args, flags: m.flags };
    this.host.router.publish(null, { type: 'pub', flags: 0, topic: FEED_TOPIC, args: feedArgs(item) }, null, m.recv,
      (twin: AgentTwin) => this.bridges.has(twin.name) && twin.subscriptions.has(FEED_TOPIC));
  }

  private routes(): RouteTable {
    const routes: Record<string, Route> = {};
    for (const method of this.host.router.exposedMethods()) {
      if (isFederationName(method) || this.host.isPrivate(method)) continue;
      let native = false;
      const via: ViaRoute[] = [];
      for (const twin of this.host.router.exposersOf(method)) {
        if (twin.session === null) continue;
        if (!this.bridges.has(twin.name)) native = true;
        else {
          // A bridge's exposure without an advertised path is not used: its route is unknown.
          const path = this.adverts.get(twin.name)?.get(method);
          if (path !== undefined) via.push({ cid: twin.name, path });
        }
      }
      if (native || via.length > 0) routes[method] = { native, via };
    }
    return { id: this.id, routes };
  }

  private advertise(cid: unknown, adverts: unknown): null {
    const parsed = parseAdverts(adverts);
    if (typeof cid !== 'string' || parsed === undefined) throw new Error('advertise: expected (cid, { method: path })');
    if (!this.bridges.has(cid)) throw new Error(`advertise: '${cid}' has not attached`);
    this.adverts.set(cid, parsed);
    return null;
  }

  close(): void {
    this.feed?.unsubscribe();
    for (const teardown of this.unexpose) teardown();
    this.bridges.clear();
    this.adverts.clear();
    this.seen.clear();
  }
}
