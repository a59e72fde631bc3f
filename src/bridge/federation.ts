/**
 * Federation (spec §10, TS design): a bridge between two Rembus brokers is a pair of named
 * components, one on each, and two {@link HalfBridge}s. Publishes of the chosen topics cross
 * both ways; methods exposed on one side become callable on the other. Each broker's
 * federation agent (federation-agent.ts) feeds the bridge and takes what it forwards, so loops
 * are avoided by the uid and path of every message, out of sight of ordinary components.
 *
 * Every `refreshInterval` (and when a side comes up) the bridge attaches to both agents, reads
 * their route tables, exposes and withdraws methods, and advertises its exposures' paths.
 */
import {
  BehaviorSubject, catchError, combineLatest, defer, distinctUntilChanged, exhaustMap, forkJoin, map, merge, mergeMap,
  type Observable, of, Subject, Subscription, switchMap, tap, timeout, timer, firstValueFrom,
} from 'rxjs';
import { component } from '../component/component.js';
import type { Component, ComponentOptions } from '../component/types.js';
import { parseComponentUrl } from '../component/url.js';
import { InvalidTopicError } from '../errors.js';
import { errorText, silentLogger } from '../internal/logger.js';
import { rembusMatcher } from '../mqtt/translate.js';
import { validatePattern } from '../topic/validate.js';
import type { Logger, Status } from '../types.js';
import { AGENT, parseRoutes } from './federation-protocol.js';
import { HalfBridge, Side } from './half-bridge.js';
import { bridgeName, credentialsOf, targetOf, type BrokerAddress } from './credentials.js';
import type { FederationBridge, FederationOptions } from './types.js';

/** How long closing waits for each agent to confirm the detach, ms. */
const DETACH_TIMEOUT_MS = 1_000;

/**
 * Bridge the brokers of two named components: publishes cross both ways, methods exposed on
 * one side become callable on the other. The components stay the caller's to close.
 *
 * @example
 * ```ts
 * import { component } from 'rembus';
 * import { federate } from 'rembus/bridge';
 * const link = federate(component('ws://a:8338/a-to-b'), component('ws://b:8338/a-to-b'), { topics: ['plant/**'] });
 * link.status$.subscribe((s) => console.log(s.type));
 * ```
 * @param a - A named component of one broker.
 * @param b - A named component of the other.
 * @param options - See {@link FederationOptions}.
 * @returns The running bridge.
 * @throws InvalidTopicError when a component is anonymous or a pattern of `topics` is invalid.
 * @see bridge to dial both brokers by URL
 */
export function federate(a: Component, b: Component, options: FederationOptions = {}): FederationBridge {
  return new FederationBridgeImpl(a, b, options, [], ['a', 'b']);
}

/** Options of {@link bridge}. */
export interface BridgeOptions extends FederationOptions {
  /**
   * The bridge components' name on both brokers, unless a URL names one. Default `bridge-<8 hex>`
   * (a name with no key on file: give one when a broker requires authentication).
   */
  readonly name?: string;
  /** Options of both components (timeouts, reconnect, keys, TLS); a target's `key`/`ca` win. Default none. */
  readonly component?: ComponentOptions;
}

/**
 * Dial two brokers and bridge them (what `rembus bridge ws://A ws://B` runs).
 *
 * @example
 * ```ts
 * import { bridge } from 'rembus/bridge';
 * const link = bridge('ws://10.0.0.1:8338', { url: 'ws://10.0.0.2:8338/edge-bridge', key: privateKeyPem });
 * // … later
 * await link.close();
 * ```
 * @param brokerA - `ws://host:port`, or `ws://host:port/name` to choose the bridge's name there;
 *   or `{ url, key, ca }` to log in with the key of that name (a broker with `auth: 'required'`).
 * @param brokerB - The other broker, likewise.
 * @param options - See {@link BridgeOptions}.
 * @returns The running bridge; its components reconnect forever until `close()`, except after a
 *   refused login (status `down` with AuthError; a key that cannot sign is refused so, its
 *   InvalidKeyError as cause).
 * @throws InvalidTopicError for an invalid URL or pattern.
 * @throws InvalidOptionError for a key with no name for it (in the URL or `options.name`).
 * @throws InvalidNameError for a key for a name no key file can have (`../x`, a leading `.`).
 * @see federate
 */
export function bridge(brokerA: BrokerAddress, brokerB: BrokerAddress, options: BridgeOptions = {}): FederationBridge {
  const fallback = options.name ?? `bridge-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const targets = [targetOf(brokerA), targetOf(brokerB)] as const;
  const names = targets.map((t) => bridgeName(t, parseComponentUrl(t.url), options.name, 'bridge') ?? fallback);
  const open = (target: typeof targets[number], name: string): Component => component(
    `${parseComponentUrl(target.url).url}/${encodeURIComponent(name)}`,
    { logger: options.logger, ...options.component, ...credentialsOf(target) });
  const a = open(targets[0], names[0]!);
  let b: Component;
  try {
    b = open(targets[1], names[1]!);
  } catch (err) {
    void a.close();
    throw err;
  }
  return new FederationBridgeImpl(a, b, options, [a, b], [targets[0].url, targets[1].url]);
}

/**
 * Internal: bridge two components, closing `owned` with the bridge; `labels` name the sides in
 * logs until they are up (used by `join`).
 */
export function federateOwned(a: Component, b: Component, options: FederationOptions, owned: Component[],
  labels: [string, string]): FederationBridge {
  return new FederationBridgeImpl(a, b, options, owned, labels);
}

class FederationBridgeImpl implements FederationBridge {
  private readonly status = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  readonly status$: Observable<Status> = this.status.asObservable();
  private readonly sides: [Side, Side];
  private readonly halves: [HalfBridge, HalfBridge];
  private readonly attached = new BehaviorSubject(false);
  private readonly kick = new Subject<void>();
  private readonly subscription = new Subscription();
  private readonly log: Logger;
  private readonly warned = new Set<string>();
  private closing: Promise<void> | undefined;

  constructor(a: Component, b: Component, options: FederationOptions, private readonly owned: Component[],
    labels: [string, string]) {
    for (const node of [a, b]) {
      if (node.name === undefined) throw new InvalidTopicError('(anonymous)', 'a federation bridge needs named components');
    }
    const forwards = options.topics === undefined ? () => true : anyOf(options.topics);
    this.log = (options.logger ?? silentLogger).child({ bridge: 'federation' });
    this.sides = [new Side(a, labels[0]), new Side(b, labels[1])];
    const [sa, sb] = this.sides;
    const ctx = { log: this.log, forwards, maxInFlight: options.maxInFlight ?? 10_000 };
    this.halves = [new HalfBridge(sa, sb, ctx), new HalfBridge(sb, sa, ctx)];
    for (const side of this.sides) this.subscription.add(side.node.status$.subscribe((s) => this.onStatus(side, s)));
    for (const half of this.halves) this.subscription.add(half.feed$().subscribe());
    const interval = options.refreshInterval ?? 1_000;
    this.subscription.add(merge(timer(0, interval), this.kick).pipe(exhaustMap(() => this.tick$())).subscribe());
    this.subscription.add(combineLatest([a.status$, b.status$, this.attached]).pipe(
      map(([x, y, attached]) => combined(x, y, attached, sb.url)),
      distinctUntilChanged((p, q) => p.type === q.type),
    ).subscribe((s) => {
      if (s.type === 'up') this.log.info({ a: sa.url, b: sb.url }, 'federation bridge up');
      this.status.next(s);
    }));
  }

  private onStatus(side: Side, s: Status): void {
    if (s.type === 'up') {
      side.up = true;
      this.kick.next();
      return;
    }
    side.up = false;
    side.reset();
    this.attached.next(false);
  }

  /** Attach, read both route tables, reconcile both directions, advertise. Never errors. */
  private tick$(): Observable<unknown> {
    return defer(() => forkJoin(this.sides.map((side) => this.refresh$(side)))).pipe(
      mergeMap(() => {
        for (const half of this.halves) half.reconcile();
        const [sa, sb] = this.sides;
        return forkJoin([this.advertise$(sb, this.halves[0]), this.advertise$(sa, this.halves[1])]);
      }),
      catchError((err: unknown) => {
        this.log.warn({ err: errorText(err) }, 'federation refresh failed');
        return of(null);
      }),
    );
  }

  private refresh$(side: Side): Observable<null> {
    if (!side.up) return of(null);
    const attach$ = side.info !== null ? of(side.info) : side.node.call$<{ id?: unknown }>(AGENT.attach, [side.cid]).pipe(
      map((info) => {
        if (typeof info?.id !== 'string') throw new Error('attach: no broker id in the reply');
        side.info = { id: info.id };
        this.log.info({ broker: side.url, id: info.id }, 'attached to broker');
        const [sa, sb] = this.sides;
        if (sa.info !== null && sb.info !== null && sa.info.id === sb.info.id) {
          this.warnOnce('self', 'both sides are the same broker: nothing to forward');
        }
        this.attached.next(sa.info !== null && sb.info !== null);
        return side.info;
      }));
    return attach$.pipe(
      switchMap(() => side.node.call$(AGENT.routes, [])),
      tap((value) => {
        const table = parseRoutes(value);
        if (table !== undefined && side.info !== null) side.table = table;
      }),
      map(() => null),
      catchError((err: unknown) => {
        // A PY or JL broker has no federation agent: METHOD_NOT_FOUND on every tick.
        this.warnOnce(`${side.url}:${errorText(err)}`, `federation agent of ${side.url} not usable: ${errorText(err)}`);
        return of(null);
      }),
    );
  }

  private advertise$(side: Side, half: HalfBridge): Observable<unknown> {
    if (!side.up || side.info === null) return of(null);
    return side.node.call$(AGENT.advertise, [side.cid, half.adverts()]).pipe(catchError(() => of(null)));
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.subscription.unsubscribe();
      for (const half of this.halves) half.withdraw();
      // After the withdrawals on the same link: once detached, the agent has processed them.
      await Promise.all(this.sides.filter((side) => side.up).map((side) => firstValueFrom(
        side.node.call$(AGENT.detach, [side.cid]).pipe(timeout(DETACH_TIMEOUT_MS), catchError(() => of(null))),
        { defaultValue: null })));
      this.status.next({ type: 'closed' });
      this.status.complete();
      this.attached.complete();
      this.kick.complete();
      await Promise.all(this.owned.map((node) => node.close()));
    })();
    return this.closing;
  }
}

/** The bridge's state from its sides' (see `FederationBridge.status$`). */
function combined(a: Status, b: Status, attached: boolean, url: string): Status {
  if (a.type !== 'up') return a;
  if (b.type !== 'up') return b;
  return attached ? { type: 'up', url } : { type: 'connecting', attempt: 1 };
}

/** A matcher accepting a topic that matches any of `patterns` (a lone `*` matches every topic). */
function anyOf(patterns: readonly string[]): (topic: string) => boolean {
  const matchers = patterns.map((p) => rembusMatcher(validatePattern(p)));
  return (topic) => matchers.some((m) => m(topic));
}
