/**
 * A broker and components wired over in-memory links, every timer on one TestScheduler: a
 * whole application flow (publisher, broker, subscriber, a dropped link, a retry, a replay) as a
 * deterministic marble test that runs in milliseconds of real time.
 */
import { isDeepStrictEqual } from 'node:util';
import { Observable, throwError, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { BrokerImpl } from '../broker/broker-impl.js';
import type { BrokerOptions, BrokerStats, Published } from '../broker/types.js';
import { component } from '../component/component.js';
import type { Component, ComponentOptions } from '../component/types.js';
import { ConnectionError } from '../errors.js';
import { parseComponentUrl } from '../component/url.js';
import { validateTopic } from '../topic/validate.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import type { Handler } from '../types.js';
import { lossyLink, type LossScript } from './lossy-link.js';
import { activeVirtualScheduler, runInVirtualTime, type VirtualRunHelpers, type VirtualRunOptions } from './virtual-time.js';

/** What a virtual broker can be configured with: the in-memory subset of `BrokerOptions`. */
export type VirtualBrokerOptions = Omit<BrokerOptions, 'scheduler' | 'port' | 'host' | 'tcp' | 'tls' | 'http' | 'dataDir'
  | 'mqtt' | 'mqttMethods' | 'join' | 'schema' | 'schemaWrites' | 'ducklake' | 'fsync' | 'fsyncInterval' | 'pingInterval'>;

/** Options of {@link virtualNetwork}. */
export interface VirtualNetworkOptions {
  /** The broker's options (memory store by default). */
  readonly broker?: VirtualBrokerOptions;
  /**
   * The scheduler to run on; pass one built with your test runner's assertion, e.g.
   * `new TestScheduler((a, e) => expect(a).toEqual(e))`. Default: one comparing with
   * `isDeepStrictEqual` and throwing both logs when they differ.
   */
  readonly scheduler?: TestScheduler;
  /** See {@link VirtualRunOptions.timeLimit}. Default 600_000 virtual ms. */
  readonly timeLimit?: number;
}

/** Options of {@link VirtualNetwork.component}: a component's options, and the network it sees. */
export interface VirtualComponentOptions extends Omit<ComponentOptions, 'dial' | 'baseUrl'> {
  /** Lose, duplicate or delay frames of every link this component opens ('out': to the broker). */
  readonly loss?: LossScript;
}

/** The broker of a virtual network (the in-memory part of `Broker`). */
export interface VirtualBroker {
  readonly name: string;
  readonly messages$: Observable<Published>;
  handle(link: Link): void;
  publish(topic: string, ...args: unknown[]): void;
  expose(method: string, handler: Handler): () => void;
  stats(): BrokerStats;
}

/** A broker and its components on one virtual clock. */
export interface VirtualNetwork {
  /** The clock of everything in this network. */
  readonly scheduler: TestScheduler;
  readonly broker: VirtualBroker;
  /**
   * A component of this network, dialling the broker over in-memory links. Call it inside
   * {@link run}. `url` is a name (`'sub'`), or a URL whose path names it; `''` is anonymous.
   * @throws Error outside `run`
   */
  component(url: string, options?: VirtualComponentOptions): Component;
  /** Drop the named component's current link, as a network failure would (it reconnects). */
  drop(name: string): void;
  /** Make the named component's next `count` dials fail with `ConnectionError`. */
  refuse(name: string, count: number): void;
  /**
   * Run `body` in virtual time (marble helpers as in `TestScheduler.run`, promises awaited);
   * then check the expectations, close every component and the broker, and fail if any timer
   * is left scheduled. A network runs once.
   * @throws VirtualTimeHangError for a flow that would not end; Error naming leftover timers
   */
  run<T>(body: (helpers: VirtualRunHelpers) => T | Promise<T>): Promise<T>;
  /** Close every component and the broker (inside `run`; `run` does it at its end). Idempotent. */
  close(): Promise<void>;
}

/**
 * A broker and components on one TestScheduler, linked in memory.
 *
 * @example
 * ```ts
 * import { virtualNetwork } from 'rembus/testing';
 * const net = virtualNetwork({ broker: { ackTimeout: 100 } });
 * await net.run(({ expectObservable }) => {
 *   const sub = net.component('sub');
 *   const pub = net.component('pub');
 *   expectObservable(sub.subscribe$('t').pipe(map((m) => m.args[0])), '^ 50ms !').toBe('10ms a', { a: 1 });
 *   net.scheduler.schedule(() => pub.publish('t', 1), 10);
 * });
 * ```
 */
export function virtualNetwork(options: VirtualNetworkOptions = {}): VirtualNetwork {
  const scheduler = options.scheduler ?? new TestScheduler((actual, expected) => {
    if (!isDeepStrictEqual(actual, expected)) {
      throw new Error(`marble mismatch:\nactual   ${stringify(actual)}\nexpected ${stringify(expected)}`);
    }
  });
  const impl = new BrokerImpl({ ...options.broker, scheduler });
  const links = new Map<string, Link[]>();
  const refusals = new Map<string, number>();
  const nodes: Component[] = [];
  let ran = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => closing ??= (async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await impl.close();
  })();
  const nameOf = (url: string): string => (url === '' ? '' : url.includes('://') ? parseComponentUrl(url).name ?? '' : url);

  const broker: VirtualBroker = {
    name: impl.name,
    messages$: impl.messages$.asObservable(),
    handle: (link) => impl.handle(link),
    publish: (topic, ...args) => impl.publish(validateTopic(topic), args),
    expose: (method, handler) => impl.expose(method, handler),
    stats: () => impl.stats(),
  };

  const dialFor = (name: string, loss: LossScript | undefined) => (): Observable<Link> => {
    const refused = refusals.get(name) ?? 0;
    if (refused > 0) {
      refusals.set(name, refused - 1);
      return throwError(() => new ConnectionError(`virtual network: dial of ${name || 'an anonymous component'} refused`));
    }
    return new Observable<Link>((subscriber) => {
      const [client, server] = memoryLinkPair([`memory:${name}`, 'memory:broker']);
      const list = links.get(name) ?? [];
      list.push(client);
      links.set(name, list);
      impl.handle(server);
      subscriber.next(loss === undefined ? client : lossyLink(client, loss));
      subscriber.complete();
    });
  };

  return {
    scheduler,
    broker,
    component(url, { loss, ...rest } = {}) {
      if (activeVirtualScheduler() !== scheduler) {
        throw new Error('virtualNetwork: create components inside net.run(...), where their timers follow virtual time');
      }
      const name = nameOf(url);
      const node = component(name === '' ? 'ws://virtual:8338' : `ws://virtual:8338/${encodeURIComponent(name)}`,
        { ...rest, dial: dialFor(name, loss) });
      nodes.push(node);
      return node;
    },
    drop(name) {
      const link = links.get(name)?.at(-1);
      if (link === undefined) throw new Error(`virtualNetwork: ${name || 'the anonymous component'} never connected`);
      link.close();
    },
    refuse(name, count) {
      refusals.set(name, (refusals.get(name) ?? 0) + count);
    },
    close,
    run(body) {
      if (ran) return Promise.reject(new Error('virtualNetwork: a network runs once; make a new one per test'));
      ran = true;
      const runOptions: VirtualRunOptions = {
        ...(options.timeLimit === undefined ? {} : { timeLimit: options.timeLimit }),
        teardown: close,
      };
      return runInVirtualTime(scheduler, body, runOptions).then((value) => {
        const left = (scheduler as unknown as { actions: unknown[] }).actions.length;
        if (left > 0) throw new Error(`virtualNetwork: ${left} timer(s) still scheduled after every component and the broker closed`);
        return value;
      }, async (err: unknown) => {
        // Release what the failed run left (its timers are virtual: nothing runs on its own).
        for (const sub of (scheduler as unknown as { actions: Subscription[] }).actions.splice(0)) sub.unsubscribe();
        throw err;
      });
    },
  };
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}
