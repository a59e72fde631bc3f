/**
 * The broker's routing tables and fan-out (spec §4.4, §4.5, §5.2). Exact topics are a map,
 * wildcard patterns live in a {@link PatternIndex}, so a publish never scans every pattern.
 * What one publish is sent as, and how it reaches one twin, is {@link Outgoing} (outgoing.ts).
 */
import type { Frame } from '../codec/wire.js';
import type { PubMsg } from '../protocol/messages.js';
import { PatternIndex } from '../topic/pattern-index.js';
import { isPattern } from '../topic/validate.js';
import type { Admits } from './guard.js';
import type { Groups } from './groups.js';
import { deliverNow, Outgoing } from './outgoing.js';
import type { Twin } from './twin.js';

/** The catch-all subscription: every topic, delivered with its own topic (spec §4.6, JL). */
export const CATCH_ALL = '*';

/** Outcome of choosing an exposer for an RPC. */
export type ExposerChoice = Twin | 'not_found' | 'unavailable' | 'loopback';

/** Live deliveries held per twin while its replay runs; past it they are dropped and replayed from the log after (replay.ts). */
export const HELD_CAPACITY = 100_000;

export class Router {
  private readonly exact = new Map<string, Set<Twin>>();
  private readonly patterns = new PatternIndex<Twin>();
  private readonly catchAll = new Set<Twin>();
  private readonly exposers = new Map<string, Twin[]>();

  /** Shared subscriptions (groups.ts); set by the broker. */
  groups: Groups | undefined;

  /** Told when a subscription comes or goes (a cluster's per-topic NATS interest, src/cluster/interest.ts). */
  changed: (() => void) | undefined;

  constructor(private readonly requireReactive: boolean) {}

  /** Topics and patterns subscribed here (`*` alone: the catch-all), groups' included; undefined above `limit`. */
  interest(limit: number): string[] | undefined {
    if (this.catchAll.size > 0) return [CATCH_ALL];
    const groups = this.groups?.patterns() ?? [];
    if (this.exact.size + this.patterns.size + groups.length > limit) return undefined;
    return [...this.exact.keys(), ...this.patterns.patterns(), ...groups];
  }

  subscribe(twin: Twin, topic: string, msgFrom: number): void {
    this.changed?.();
    twin.subscriptions.set(topic, msgFrom);
    if (topic === CATCH_ALL) this.catchAll.add(twin);
    else if (isPattern(topic)) this.patterns.add(topic, twin);
    else {
      let set = this.exact.get(topic);
      if (set === undefined) this.exact.set(topic, (set = new Set()));
      set.add(twin);
    }
  }

  unsubscribe(twin: Twin, topic: string): boolean {
    if (!twin.subscriptions.delete(topic)) return false;
    this.changed?.();
    if (topic === CATCH_ALL) this.catchAll.delete(twin);
    else if (isPattern(topic)) this.patterns.remove(topic, twin);
    else {
      const set = this.exact.get(topic);
      set?.delete(twin);
      if (set?.size === 0) this.exact.delete(topic);
    }
    return true;
  }

  /** Add an exposer; a twin exposing again keeps its original position (spec §5.4). */
  expose(twin: Twin, method: string): void {
    twin.exposed.add(method);
    const list = this.exposers.get(method);
    if (list === undefined) this.exposers.set(method, [twin]);
    else if (!list.includes(twin)) list.push(twin);
  }

  unexpose(twin: Twin, method: string): boolean {
    if (!twin.exposed.delete(method)) return false;
    const list = this.exposers.get(method);
    if (list !== undefined) {
      const at = list.indexOf(twin);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.exposers.delete(method);
    }
    return true;
  }

  /** Remove every subscription and exposure of a twin (anonymous twins on disconnect). */
  drop(twin: Twin): void {
    for (const topic of [...twin.subscriptions.keys()]) this.unsubscribe(twin, topic);
    for (const method of [...twin.exposed]) this.unexpose(twin, method);
    this.groups?.leaveAll(twin);
  }

  /** Exposed methods known to the router, for `broker_config`-style introspection. */
  exposedMethods(): string[] {
    return [...this.exposers.keys()];
  }

  /** The twins exposing `method`, in exposure order (read by the federation agent, src/bridge). */
  exposersOf(method: string): readonly Twin[] {
    return this.exposers.get(method) ?? [];
  }

  /**
   * Deliver a publish to every interested twin except its origin and those `admits` refuses
   * (private topic, other tenant); `admits` undefined is the fast path: everyone.
   */
  publish(origin: Twin | null, msg: PubMsg, original: Frame | null, recv: bigint, admits?: Admits,
    extra = 0, expires = 0): void {
    const name = origin === null || origin.anonymous ? undefined : origin.name;
    // Made only if a plain subscriber, the catch-all or a group takes the publisher's frame.
    let out: Outgoing | undefined;
    const subscribers = this.exact.get(msg.topic);
    if (subscribers !== undefined) {
      out = new Outgoing(msg, original, recv, name, extra, expires);
      for (const twin of subscribers) this.deliver(twin, origin, out, admits);
    }
    // A twin subscribed to the topic and to the catch-all gets one copy (its client fans it out).
    if (this.catchAll.size > 0) {
      out ??= new Outgoing(msg, original, recv, name, extra, expires);
      for (const twin of this.catchAll) if (subscribers?.has(twin) !== true) this.deliver(twin, origin, out, admits);
    }
    if (this.patterns.size > 0) this.publishToPatterns(origin, msg, recv, name, extra, expires, admits);
    // One copy per group besides the plain subscribers' (README "Shared subscriptions").
    if (this.groups !== undefined && this.groups.size > 0) {
      this.groups.publish(origin, msg, recv, admits, out ?? new Outgoing(msg, original, recv, name, extra, expires));
    }
  }

  /** One delivery to one twin, as a live one (waits behind its replay): retained values (retained.ts). */
  deliverTo(twin: Twin, out: Outgoing): void {
    this.deliver(twin, null, out, undefined);
  }

  /**
   * Deliver a broker-made message to the exact subscribers of its topic only — not to the
   * catch-all or wildcard ones (presence events, spec §4.4: subscribers of `component_info`).
   */
  publishExact(msg: PubMsg, recv: bigint, admits?: Admits): void {
    const subscribers = this.exact.get(msg.topic);
    if (subscribers === undefined) return;
    const out = new Outgoing(msg, null, recv);
    for (const twin of subscribers) this.deliver(twin, null, out, admits);
  }

  private deliver(twin: Twin, origin: Twin | null, out: Outgoing, admits: Admits): void {
    if (twin.session === null || twin === origin || twin.paused || (this.requireReactive && !twin.reactive)) return;
    if (admits !== undefined && !admits(twin)) return;
    if (twin.held !== null) {
      // A replay is being prepared for this twin: live messages wait behind it (spec §4.7).
      if (twin.held.length < HELD_CAPACITY) twin.held.push(() => deliverNow(twin, out));
      else twin.heldOverflow ??= out.recv - 1n;
      return;
    }
    deliverNow(twin, out);
  }

  /** One wildcard delivery per matching pattern, made once its first live subscriber is found (no closure, no iterator). */
  private publishToPatterns(origin: Twin | null, msg: PubMsg, recv: bigint, name: string | undefined, extra: number,
    expires: number, admits: Admits): void {
    const found = this.patterns.matching(msg.topic);
    for (let i = 0; i < found.length; i++) {
      const { pattern, list } = found[i]!;
      let out: Outgoing | undefined;
      for (let j = 0; j < list.length; j++) {
        const twin = list[j]!;
        if (twin.session === null || twin === origin) continue;
        out ??= Outgoing.wildcard(pattern, msg, recv, name, extra, expires);
        this.deliver(twin, origin, out, admits);
      }
    }
  }
}
