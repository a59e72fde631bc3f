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
 *   `federation:<uid>`) unless its path names this broker or its uid was seen, or a typed
 *   contract refuses it as it would a component's: the feed then passes it on with this broker
 *   appended to its path.
 * - **Routes.** `AGENT.routes` lists the exposed methods with, for each, whether an ordinary
 *   component exposes it and which bridges do along which paths (`AGENT.advertise`).
 *
 * Private topics and methods (spec §6.2) are never fed, injected or listed: federation does
 * not cross authorization boundaries. Nor does it cross tenants (README "Security"): a bridge
 * twin is a component of its name's tenant, so it is fed only that tenant's publishes (and the
 * broker's own), what it injects is published as its own (delivered and replayed in its tenant
 * only), and the routes it reads name only its tenant's exposers. The agent's methods are open
 * to any caller unless an admin makes them private and authorizes the bridges' names, but each
 * acts for its caller only: a component attaches, detaches and advertises itself, never another.
 */
import type { Observable, Subscription } from 'rxjs';
import { asyncScheduler } from '../internal/rx.js';
import type { Published } from '../broker/types.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import { validateTopic } from '../topic/validate.js';
import type { Logger } from '../types.js';
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

/** What the agent needs of the broker (`BrokerImpl` and its router have this shape, with its `Twin`). */
export interface AgentHost<T extends AgentTwin> {
  readonly messages$: Observable<Published>;
  /**
   * Publish as `twin` (QoS0): logged with it as publisher, delivered and replayed in its tenant
   * only. False when a typed contract of the topic refused the args (dropped, as a component's).
   */
  publishAs(twin: T, topic: string, args: unknown[], origin: string): boolean;
  /** Expose a broker-local method told which twin calls it. */
  expose(method: string, handler: (caller: T, ...args: unknown[]) => unknown): () => void;
  readonly router: {
    publish(origin: null, msg: PubMsg, original: null, recv: bigint, admits: (twin: T) => boolean): void;
    exposedMethods(): string[];
    exposersOf(method: string): readonly T[];
  };
  /** Is `topic` private (spec §6.2)? */
  isPrivate(topic: string): boolean;
  /** The tenant of a name (of '', an anonymous publisher: the default one) when tenants are isolated; '' for all otherwise. */
  tenantOf(name: string): string;
}

/** uids remembered at most (oldest forgotten first). */
const SEEN_CAPACITY = 100_000;

export class FederationAgent<T extends AgentTwin> {
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

  constructor(private readonly host: AgentHost<T>, private readonly name: string, private readonly log: Logger) {
    this.unexpose = [
      host.expose(AGENT.attach, (caller, cid) => this.attach(caller, cid)),
      host.expose(AGENT.detach, (caller, cid) => this.detach(caller, cid)),
      host.expose(AGENT.publish, (caller, ...args) => this.inject(caller, args)),
      host.expose(AGENT.routes, (caller) => this.routes(caller)),
      host.expose(AGENT.advertise, (caller, cid, adverts) => this.advertise(caller, cid, adverts)),
    ];
  }

  /**
   * The bridge twin a call acts for: its caller, named in the call (`cid`) as the protocol has it.
   * Another name is refused: any component may call the agent, and one of another tenant must
   * not detach a bridge or advertise routes for it.
   */
  private self(caller: T, cid: unknown, what: string): string {
    if (typeof cid !== 'string' || cid === '') throw new Error(`${what}: expected the bridge twin name`);
    if (cid !== caller.name) throw new Error(`${what}: a bridge acts for itself only, not for '${cid}'`);
    return cid;
  }

  private attach(caller: T, name: unknown): { id: string; name: string } {
    const cid = this.self(caller, name, 'attach');
    if (!this.bridges.has(cid)) this.log.info({ cid }, 'federation bridge attached');
    this.bridges.add(cid);
    // Only now does every accepted publish cost a feed step.
    this.feed ??= this.host.messages$.subscribe((m) => this.onPublished(m));
    return { id: this.id, name: this.name };
  }

  private detach(caller: T, name: unknown): null {
    const cid = this.self(caller, name, 'detach');
    if (this.bridges.delete(cid)) {
      this.adverts.delete(cid);
      this.log.info({ cid }, 'federation bridge detached');
    }
    return null;
  }

  private inject(caller: T, args: unknown[]): boolean {
    const item = parseFeed(args);
    if (item === undefined) throw new Error('publish: expected (uid, path, topic, args, flags)');
    validateTopic(item.topic);
    if (item.path.includes(this.id) || this.host.isPrivate(item.topic) || isFederationName(item.topic)) return false;
    // Once per tenant: a publish may enter here by the bridges of two tenants, each delivering to its own.
    if (!this.remember(item.uid, this.host.tenantOf(caller.name))) return false;
    this.injected.set(item.uid, item.path);
    // As the bridge's own publish: its tenant's subscribers get it, live and from the log.
    const published = this.host.publishAs(caller, item.topic, item.args, FEDERATION_ORIGIN + item.uid);
    this.injected.delete(item.uid);
    return published;
  }

  /** Record a uid in `tenant`; false when it was seen there within {@link SEEN_TTL_MS}. */
  private remember(id: string, tenant: string): boolean {
    // NUL cannot be in a proven name (validateKeyName), so no tenant and uid pair spells another.
    const uid = `${tenant}\0${id}`;
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
    // A bridge twin is fed what a subscriber of its tenant gets: the tenant's publishes and the
    // broker's own (publisher null; absent while tenants are not isolated: all alike).
    const tenant = m.publisher == null ? undefined : this.host.tenantOf(m.publisher);
    let uid = m.origin.startsWith(FEDERATION_ORIGIN) ? m.origin.slice(FEDERATION_ORIGIN.length) : '';
    const path = this.injected.get(uid);
    if (path === undefined) {
      uid = globalThis.crypto.randomUUID();
      this.remember(uid, tenant ?? '');
    }
    const item = { uid, path: [...path ?? [], this.id], topic: m.topic, args, flags: m.flags };
    this.host.router.publish(null, { type: 'pub', flags: 0, topic: FEED_TOPIC, args: feedArgs(item) }, null, m.recv,
      (twin) => this.bridges.has(twin.name) && twin.subscriptions.has(FEED_TOPIC)
        && (tenant === undefined || this.host.tenantOf(twin.name) === tenant));
  }

  /** The routes `caller` can use: the exposers of its tenant (the broker routes its calls to no other). */
  private routes(caller: T): RouteTable {
    const routes: Record<string, Route> = {};
    const tenant = this.host.tenantOf(caller.name);
    for (const method of this.host.router.exposedMethods()) {
      if (isFederationName(method) || this.host.isPrivate(method)) continue;
      let native = false;
      const via: ViaRoute[] = [];
      for (const twin of this.host.router.exposersOf(method)) {
        if (twin.session === null || this.host.tenantOf(twin.name) !== tenant) continue;
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

  private advertise(caller: T, name: unknown, adverts: unknown): null {
    const parsed = parseAdverts(adverts);
    if (parsed === undefined) throw new Error('advertise: expected (cid, { method: path })');
    const cid = this.self(caller, name, 'advertise');
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
