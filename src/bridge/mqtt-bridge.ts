/**
 * The MQTT bridge of a broker (spec §9, PY column): publishes flow both ways between the broker
 * and an MQTT broker, topics 1:1, payloads JSON.
 *
 * - **Inbound.** One subscription (`#` by default, QoS 1, MQTT 5 No Local). A JSON array
 *   payload is the argument list, any other JSON value the single argument; a payload that is
 *   not JSON is logged and dropped. The publish is injected as QoS0 from origin `mqtt:<url>`,
 *   so exact and wildcard subscribers get it and it is logged.
 * - **Outbound.** Every publish the broker accepts whose origin is not this bridge goes out on
 *   the same topic: the JSON of the single argument, else the JSON array of all of them (`[]`
 *   for none). MQTT QoS = the Rembus QoS (0, 1, 2), capped by the CONNACK's Maximum QoS. A
 *   topic MQTT cannot carry (`+`, `#`, a leading `$`), a DataFrame, or anything sent while the
 *   link is down is not forwarded (debug log): the broker's log keeps it.
 * - **Private topics** (spec §6.2) are not bridged either way: MQTT clients hold no Rembus
 *   authorization.
 * - **No echo loops.** MQTT 5: No Local on the subscription, and the user property
 *   `rembus-origin` = the client id on every outbound publish (a delivery carrying our own id is
 *   dropped too). MQTT 3.1.1: an {@link EchoFilter} drops the copy of each of our publishes that
 *   comes back. A publish injected from MQTT carries this bridge as origin and is never sent back.
 * - **Faults.** MQTT.js dials and re-dials every `reconnectPeriod`; the broker never waits for
 *   the link (start-up does not fail when the MQTT broker is down) and `status$` / the logger
 *   report it: a warning when the link is lost or the first dial fails, info when it is up.
 */
import { asyncScheduler, BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import { connect as mqttConnect, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Published } from '../broker/types.js';
import { parseComponentUrl } from '../component/url.js';
import { InvalidTopicError } from '../errors.js';
import { errorText, silentLogger } from '../internal/logger.js';
import { decodeArgs, encodePublish } from '../mqtt/payload.js';
import { CLEAR_PAYLOAD, fromMqtt, toMqtt } from '../mqtt/retain-expiry.js';
import { rpcTopics } from '../mqtt/rpc-topics.js';
import { mqttFilterMatches } from '../mqtt/translate.js';
import { validateTopic } from '../topic/validate.js';
import type { Logger, Status } from '../types.js';
import { EchoFilter } from './echo-filter.js';
import { MqttRpc } from './mqtt-rpc.js';
import type { BridgeHost } from './types.js';

/** The MQTT 5 user property naming the bridge that published a message. */
export const ORIGIN_PROPERTY = 'rembus-origin';

/** CONNACK codes meaning "not this protocol version": 3.1.1 return code 1, MQTT 5 reason 0x84. */
const WRONG_VERSION = new Set([1, 0x84]);

/** Delay before re-dialing with MQTT 3.1.1 after an MQTT 5 CONNECT was refused, ms. */
const FALLBACK_DELAY_MS = 10;

/** Options of {@link mqttBridge}. */
export interface MqttBridgeOptions {
  /**
   * The MQTT broker: `mqtt://host:1883` or `mqtts://…`; a path names the MQTT client id (PY:
   * "the URL path, or a random UUID").
   */
  readonly url: string;
  /** The MQTT filter subscribed for inbound traffic (PY `REMBUS_MQTT_BASE_TOPIC`). Default `'#'`. */
  readonly subscribe?: string;
  /**
   * MQTT protocol: 5, 4 (3.1.1), or `'auto'`: MQTT 5 first, 3.1.1 from the first CONNACK that
   * refuses the protocol version on (Aedes 1.x speaks 3.1.1 only). Default `'auto'`.
   */
  readonly protocolVersion?: 4 | 5 | 'auto';
  /** Delay between reconnection attempts, ms (MQTT.js `reconnectPeriod`). Default 1_000. */
  readonly reconnectPeriod?: number;
  /** Give up one connection attempt (TCP + CONNACK) after this many ms. Default 5_000. */
  readonly connectTimeout?: number;
  /** MQTT keep-alive, seconds. Default 60. */
  readonly keepalive?: number;
  /**
   * MQTT 3.1.1 has no No Local: the bridge's own publishes come back on its `#` subscription.
   * It remembers what it published (topic and payload) this long, ms, and drops one matching
   * delivery per publish. Default 10_000.
   */
  readonly echoTtl?: number;
  /** At most this many publishes remembered for echo suppression; the oldest go first. Default 10_000. */
  readonly echoCapacity?: number;
  /**
   * First level(s) of the RPC topics of MQTT components (`rembus/mqtt`): the `rpc/`, `direct/`
   * and `reply/` subtrees under it carry requests, not publishes, and are not bridged either
   * way. `false` bridges every topic. Default `'rembus'`.
   */
  readonly rpcPrefix?: string | false;
  /**
   * Methods served by `mqtt://` components (or any MQTT 5 client on the RPC topics) that Rembus
   * components may call through the bridge (mqtt-rpc.ts); MQTT callers reach every public method
   * of the broker anyway (of `tenant`'s exposers when tenants are isolated). Default none.
   */
  readonly methods?: readonly string[];
  /** Give up a call forwarded to MQTT after this many ms. Default 10_000. */
  readonly requestTimeout?: number;
  /**
   * The tenant of the bridge's in-process RPC component on the broker: with isolated tenants,
   * MQTT callers reach that tenant's methods and only its components the `methods`. Default `'.'`.
   */
  readonly tenant?: string;
  /** Further MQTT.js options (credentials, TLS); the bridge's own settings win. Default none. */
  readonly clientOptions?: IClientOptions;
  /** pino-shaped logger. Default silent. */
  readonly logger?: Logger;
}

/** A running MQTT bridge. */
export interface MqttBridge {
  /** The origin its inbound publishes carry in `Published.origin`: `mqtt:<url>`. */
  readonly origin: string;
  /** The MQTT link: `connecting`, `up`, `down`, `reconnecting`, then `closed`. Replays the latest. */
  readonly status$: Observable<Status>;
  /** Disconnect and stop forwarding. Idempotent. */
  close(): Promise<void>;
}

/**
 * Bridge `host` with the MQTT broker at `options.url` (see the file summary for the mapping).
 *
 * @example
 * ```ts
 * import { broker } from 'rembus/broker';
 * // The broker factory opens the bridge itself:
 * const b = await broker({ port: 8338, mqtt: 'mqtt://127.0.0.1:1883' });
 * b.links$.subscribe((links) => console.log(links)); // [{ kind: 'mqtt', url, status }]
 * ```
 * @param host - The broker side: its accepted publishes and a way to inject one.
 * @param options - See {@link MqttBridgeOptions}.
 * @returns The running bridge; it is dialing already.
 * @throws InvalidTopicError for a URL that is not `mqtt://` or `mqtts://`, or an invalid `subscribe` filter.
 * @see federate for bridges between Rembus brokers
 */
export function mqttBridge(host: BridgeHost, options: MqttBridgeOptions): MqttBridge {
  return new MqttBridgeImpl(host, options);
}

class MqttBridgeImpl implements MqttBridge {
  readonly origin: string;
  private readonly status = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  readonly status$: Observable<Status> = this.status.asObservable();
  private readonly url: string;
  private readonly clientId: string;
  private readonly filter: string;
  private readonly log: Logger;
  private readonly client: MqttClient;
  private readonly echoes: EchoFilter;
  private readonly reserved: (topic: string) => boolean;
  private readonly outbound: Subscription;
  private readonly rpc: MqttRpc | undefined;
  private readonly reconnectPeriod: number;
  private version: 4 | 5;
  private readonly auto: boolean;
  private maxQos: 0 | 1 | 2 = 2;
  private connected = false;
  private attempt = 1;
  private lastError: unknown;
  private dropped = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly host: BridgeHost, options: MqttBridgeOptions) {
    const address = parseComponentUrl(options.url, 'mqtt://127.0.0.1:1883');
    if (address.scheme !== 'mqtt' && address.scheme !== 'mqtts') {
      throw new InvalidTopicError(options.url, 'expected an mqtt:// or mqtts:// URL');
    }
    this.url = address.url;
    this.origin = `mqtt:${address.url}`;
    this.clientId = address.name ?? `rembus-${host.name}-${globalThis.crypto.randomUUID().slice(0, 8)}`;
    this.filter = options.subscribe ?? '#';
    if (this.filter === '' || this.filter.startsWith('$share/')) {
      throw new InvalidTopicError(this.filter, 'expected a plain MQTT filter');
    }
    this.log = (options.logger ?? silentLogger).child({ bridge: 'mqtt', url: this.url });
    const rpcPrefix = options.rpcPrefix ?? 'rembus';
    this.reserved = rpcPrefix === false ? () => false : rpcTopics(rpcPrefix, '').isReserved;
    this.echoes = new EchoFilter(options.echoTtl ?? 10_000, options.echoCapacity ?? 10_000, () => asyncScheduler.now());
    this.auto = (options.protocolVersion ?? 'auto') === 'auto';
    this.version = options.protocolVersion === 4 ? 4 : 5;
    this.reconnectPeriod = options.reconnectPeriod ?? 1_000;
    const clientOptions: IClientOptions = {
      ...options.clientOptions,
      protocolVersion: this.version, clientId: this.clientId, clean: true, resubscribe: false, queueQoSZero: false,
      reconnectPeriod: this.reconnectPeriod, connectTimeout: options.connectTimeout ?? 5_000,
      keepalive: options.keepalive ?? 60,
      // A refused CONNECT is retried too: the bridge outlives a broker that is still starting up.
      reconnectOnConnackError: true,
    };
    this.client = mqttConnect(address.url, clientOptions);
    this.client.on('connect', (connack) => this.onConnect(connack));
    this.client.on('error', (err) => this.onError(err));
    this.client.on('close', () => this.onClose());
    this.client.on('message', (topic, payload, packet) => this.inbound(topic, payload, packet));
    this.outbound = host.messages$.subscribe((m) => this.forward(m));
    this.rpc = host.attach === undefined || rpcPrefix === false ? undefined : new MqttRpc({
      client: this.client, clientId: this.clientId, prefix: rpcPrefix, methods: options.methods ?? [],
      requestTimeout: options.requestTimeout ?? 10_000, attach: host.attach, brokerName: host.name, tenant: options.tenant ?? '.', log: this.log,
      v5: () => this.connected && this.version === 5,
    });
  }

  // ---- link -------------------------------------------------------------------------------

  private onConnect(connack: IConnackPacket): void {
    if (this.closing !== undefined) return;
    this.connected = true;
    const max = connack.properties?.maximumQoS;
    this.maxQos = max === 0 || max === 1 ? max : 2;
    const v5 = this.version === 5;
    // A clean session starts empty: subscribe again after every CONNACK.
    if (v5 && this.rpc !== undefined) this.client.subscribe(this.rpc.filters, { qos: 0, nl: true });
    // rap: a live retained publish keeps its flag, so the Rembus side retains it too (MQTT 5).
    this.client.subscribe(this.filter, { qos: 1, ...(v5 ? { nl: true, rap: true } : {}) }, (err, granted) => {
      if (this.closing !== undefined || !this.connected) return;
      const code = granted?.[0]?.qos ?? 0;
      if (err != null || code >= 0x80) {
        this.log.error({ filter: this.filter, err: err == null ? `reason ${code}` : errorText(err) },
          'inbound subscription refused: only outbound publishes are bridged');
      }
      this.log.info({ protocol: v5 ? 'MQTT 5' : 'MQTT 3.1.1', clientId: this.clientId }, 'MQTT bridge up');
      this.attempt = 1;
      this.status.next({ type: 'up', url: this.url });
    });
  }

  private onError(err: Error & { code?: unknown }): void {
    this.lastError = err;
    if (this.auto && this.version === 5 && typeof err.code === 'number' && WRONG_VERSION.has(err.code)) {
      // Aedes 1.x and other 3.1.1-only brokers: the next dial speaks 3.1.1, and soon (MQTT.js
      // arms its reconnect timer right after this event; the period is restored on close).
      this.version = 4;
      this.client.options.protocolVersion = 4;
      this.client.options.reconnectPeriod = Math.min(this.reconnectPeriod, FALLBACK_DELAY_MS);
      this.log.info('the MQTT broker does not speak MQTT 5: using MQTT 3.1.1');
    }
  }

  private onClose(): void {
    if (this.closing !== undefined) return;
    this.client.options.reconnectPeriod = this.reconnectPeriod;
    const error = this.lastError;
    this.lastError = undefined;
    if (this.connected) {
      this.connected = false;
      this.log.warn({ err: error === undefined ? undefined : errorText(error) }, 'MQTT bridge down: reconnecting');
      this.status.next(error === undefined ? { type: 'down' } : { type: 'down', error });
    } else if (this.attempt === 1) {
      this.log.warn({ err: error === undefined ? undefined : errorText(error) }, 'MQTT broker unreachable: retrying');
    }
    this.rpc?.linkLost();
    const attempt = this.attempt++;
    this.log.debug({ attempt, delayMs: this.reconnectPeriod }, 'reconnecting');
    this.status.next({ type: 'reconnecting', attempt, delayMs: this.reconnectPeriod, error });
  }

  // ---- MQTT → Rembus ----------------------------------------------------------------------

  private inbound(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.reserved(topic)) {
      if (this.version === 5 && this.rpc?.isRpc(topic) === true) this.rpc.onMessage(topic, payload, packet);
      return;
    }
    if (this.version === 5) {
      const from = packet.properties?.userProperties?.[ORIGIN_PROPERTY];
      if (from === this.clientId || (Array.isArray(from) && from.includes(this.clientId))) return;
    } else if (this.echoes.take(topic, payload)) {
      return;
    }
    let args: unknown[];
    try {
      validateTopic(topic);
      // An empty retained payload clears the topic (MQTT): empty args with retain, on the Rembus side.
      args = packet.retain && payload.byteLength === 0 ? [] : decodeArgs(payload);
    } catch (err) {
      this.log.warn({ topic, err: errorText(err) }, 'MQTT message dropped');
      return;
    }
    if (this.host.isPrivate(topic)) {
      this.log.debug({ topic }, 'MQTT message on a private topic dropped');
      return;
    }
    // MQTT's retain flag and message expiry become Rembus's retain and ttl (retain-expiry.ts).
    const options = fromMqtt(packet.retain, packet.properties?.messageExpiryInterval);
    if (options === undefined) this.host.publish(topic, args, this.origin);
    else this.host.publish(topic, args, this.origin, options);
  }

  // ---- Rembus → MQTT ----------------------------------------------------------------------

  private forward(m: Published): void {
    if (m.origin === this.origin || this.reserved(m.topic) || !isMqttTopic(m.topic) || this.host.isPrivate(m.topic)) return;
    if (!this.connected) {
      if (this.dropped++ % 1_000 === 0) this.log.debug({ topic: m.topic, dropped: this.dropped }, 'MQTT link down: publish not bridged');
      return;
    }
    const v5 = this.version === 5;
    const mapped = toMqtt(m.retain === true, m.expires ?? 0, v5, Date.now());
    if (mapped === null) return; // expired before it left
    let payload: string;
    try {
      payload = mapped.retain && m.args.length === 0 ? CLEAR_PAYLOAD : encodePublish(m.args);
    } catch (err) {
      this.log.debug({ topic: m.topic, err: errorText(err) }, 'publish not bridged');
      return;
    }
    const qos = Math.min(qosOf(m.flags), this.maxQos) as 0 | 1 | 2;
    const retain = mapped.retain;
    if (v5) {
      const expiry = mapped.messageExpiryInterval === undefined ? {} : { messageExpiryInterval: mapped.messageExpiryInterval };
      this.client.publish(m.topic, payload, { qos, retain, properties: { userProperties: { [ORIGIN_PROPERTY]: this.clientId }, ...expiry } });
      return;
    }
    if (mqttFilterMatches(this.filter, m.topic)) this.echoes.add(m.topic, payload);
    this.client.publish(m.topic, payload, { qos, retain });
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.outbound.unsubscribe();
      this.connected = false;
      this.status.next({ type: 'closed' });
      this.status.complete();
      const client = this.client;
      const rpc = this.rpc?.close();
      this.closing = Promise.all([rpc, new Promise<void>((resolve) => { client.end(!client.connected, {}, () => resolve()); })])
        .then(() => undefined);
    }
    return this.closing;
  }
}

/** PUB flags → MQTT QoS (spec §2.3: QOS2 includes the QOS1 bit). */
function qosOf(flags: number): 0 | 1 | 2 {
  const qos = flags & 0x30;
  return qos === 0x30 ? 2 : qos === 0x10 ? 1 : 0;
}

/** A topic name MQTT accepts in a PUBLISH: no wildcard character, not a `$` system topic. */
function isMqttTopic(topic: string): boolean {
  return !topic.includes('+') && !topic.includes('#') && !topic.startsWith('$');
}
