/**
 * Links from this broker to other networks (spec §9, §10): an MQTT broker (`mqtt`) and other
 * Rembus brokers (`join`), plus the federation agent every broker runs so that any bridge can
 * attach to it (`rembus bridge ws://A ws://B`). Opened after the broker has started; closed
 * before it stops. None of them can fail the start: each link dials in the background, retries
 * forever, and reports its state on `links$`.
 */
import type { Observable } from 'rxjs';
import { combineLatest, map, of } from '../internal/rx.js';
import { importOptional } from '../internal/optional.js';
import { FederationAgent } from '../bridge/federation-agent.js';
import type { BrokerTarget } from '../bridge/credentials.js';
import type { LinkState } from '../bridge/link-state.js';
import type { Logger, Status } from '../types.js';
import { trustLink } from './trusted-links.js';
import type { BrokerImpl } from './broker-impl.js';
import { isReservedTopic } from './guard.js';
import type { Twin } from './twin.js';

export interface BridgeOptions {
  /** MQTT broker URL to bridge with (`mqtt://host:1883`, `mqtts://…`). */
  readonly mqtt?: string;
  /** Methods of the MQTT side this broker's components may call. */
  readonly mqttMethods?: readonly string[] | undefined;
  /** The tenant the MQTT bridge acts for when tenants are isolated (mqtt-host.ts). Default `'.'`. */
  readonly mqttTenant?: string | undefined;
  /** Rembus brokers to join (`ws://host:8338`, or `{ url, key }` with the key of the bridge's name there). */
  readonly join?: readonly (string | BrokerTarget)[];
  readonly name: string;
  readonly logger: Logger;
}

export interface Bridges {
  /** The links' states, in option order (`mqtt` first); `[]` without links. Replays the latest. */
  readonly links$: Observable<readonly LinkState[]>;
  close(): Promise<void>;
}

interface Link {
  readonly kind: LinkState['kind'];
  readonly url: string;
  readonly status$: Observable<Status>;
  close(): Promise<void>;
}

/**
 * Check the keys of the `join` targets, so that a key that cannot sign fails the broker's start
 * before anything is opened, naming why (a cluster's leader opens its bridges much later). The
 * signer is loaded only when a target has a key.
 * @throws InvalidKeyError for a key that cannot sign
 * @throws InvalidOptionError for a key with no bridge name in its URL
 */
export async function checkJoinKeys(join: BridgeOptions['join']): Promise<void> {
  const targets = joinTargets(join);
  if (targets.some((t) => t.key !== undefined)) await (await import('../bridge/credentials.js')).checkTargets(targets, 'join');
}

function joinTargets(join: BridgeOptions['join']): BrokerTarget[] {
  return (join ?? []).map((j) => (typeof j === 'string' ? { url: j } : j));
}

/**
 * Start the federation agent and open the configured links (their keys were checked by
 * {@link checkJoinKeys}).
 * @throws InvalidTopicError for an `mqtt` or `join` URL of the wrong scheme (before anything is opened)
 */
export async function openBridges(options: BridgeOptions, broker: BrokerImpl): Promise<Bridges | undefined> {
  const log = options.logger;
  const joins = joinTargets(options.join);
  const host = {
    name: options.name,
    messages$: broker.messages$,
    publish: (topic: string, args: unknown[], origin: string, options?: { retain?: boolean; ttl?: number }) =>
      broker.publish(topic, args, origin, options),
    // Reserved topics (presence, stats) are the broker's own: never bridged in or out.
    isPrivate: (topic: string) => isReservedTopic(topic) || (broker.auth.store.hasPrivateTopics && broker.auth.store.isPrivate(topic)),
  };
  const agent = new FederationAgent<Twin>({
    ...host,
    // A bridge's publish is its twin's, in its tenant (federation-agent.ts); logged and routed, not echoed to
    // it. A contract checks it as a component's QoS0 publish (counted as dropped, dead-lettered in its tenant).
    publishAs: (twin, topic, args, origin) => {
      if (broker.ingest?.check(topic, () => args, 0, twin) !== undefined) return false;
      broker.inject({ type: 'pub', flags: 0, topic, args }, origin, twin);
      return true;
    },
    expose: (method, handler) => broker.exposeAware(method, handler),
    router: broker.router,
    tenantOf: (name) => (broker.auth.store.multiTenant ? broker.auth.store.tenantOf(name) : ''),
  }, options.name, log.child({ federation: 'agent' }));
  const links: Link[] = [];
  try {
    if (options.mqtt !== undefined) {
      // MQTT.js is an optional peer: loaded only by a broker that bridges to MQTT.
      const { mqttBridge } = await importOptional('mqtt', 'the MQTT bridge (--mqtt)', () => import('../bridge/mqtt-bridge.js'));
      // Its in-process RPC component is the broker's own, trusted like a join's (trusted-links.ts).
      // What it brings in and carries out, and the methods it calls and serves: its tenant's (mqtt-host.ts).
      const { mqttHost, mqttTenantOf } = await import('./mqtt-host.js');
      const tenant = mqttTenantOf(options.mqttTenant);
      const link = mqttBridge({ ...mqttHost(host, broker, tenant), attach: (l) => broker.handle(trustLink(l)) },
        { url: options.mqtt, logger: log, methods: options.mqttMethods ?? [], tenant });
      links.push({ kind: 'mqtt', url: options.mqtt, status$: link.status$, close: () => link.close() });
    }
    if (joins.length > 0) {
      // Joining runs a component per link: its stack is loaded only by a broker that joins.
      const { joinBroker } = await import('../bridge/join.js');
      for (const target of joins) {
        // The in-process side is the broker's own: trusted even under auth 'required' (trusted-links.ts).
        // Logs name the URL only, never the target: it holds the key.
        const { url } = target;
        const link = joinBroker((l) => broker.handle(trustLink(l)), target, { name: options.name, logger: log.child({ join: url }) });
        links.push({ kind: 'join', url, status$: link.status$, close: () => link.close() });
      }
    }
  } catch (err) {
    await Promise.all(links.map((l) => l.close()));
    agent.close();
    throw err;
  }
  const links$ = links.length === 0 ? of([]) : combineLatest(links.map((l) => l.status$.pipe(
    map((status): LinkState => ({ kind: l.kind, url: l.url, status })))));
  return {
    links$,
    close: async () => {
      await Promise.all(links.map((l) => l.close()));
      agent.close();
    },
  };
}
