/**
 * The MQTT connection of a component: MQTT.js connects and reconnects (fixed
 * `reconnectPeriod`); this class subscribes every filter again after each CONNACK (a clean
 * session starts empty), routes deliveries by subscription identifier, and turns MQTT.js events
 * into `status$` with the WebSocket component's states.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { connect as mqttConnect, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { AuthError, ConnectionError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import type { Logger, Status } from '../types.js';
import { FilterTable, type FilterEntry } from './filters.js';

/** CONNACK reason codes that no retry can fix by itself: bad credentials, not authorized (MQTT 3 and 5). */
const AUTH_REFUSALS = new Set([4, 5, 0x86, 0x87, 0x8c]);

/** What the broker's CONNACK offers (MQTT 5 §3.2.2.3); both assumed until told otherwise. */
export interface ServerFeatures { readonly shared: boolean; readonly ids: boolean }

/** What the session tells the component. */
export interface SessionHooks {
  /** A CONNACK arrived; runs before the filters are subscribed again. */
  onConnect(features: ServerFeatures): void;
  /** The connection dropped after a CONNACK. */
  onDown(error: unknown): void;
  /** A subscription was refused with a SUBACK reason code ≥ 0x80. */
  onRefused(filter: string, code: number): void;
  /** The session stopped for good (refused CONNECT, or lost with reconnection off). */
  onFatal(error: unknown): void;
}

export interface SessionConfig {
  readonly url: string;
  readonly clientOptions: IClientOptions;
  readonly reconnectPeriod: number;
  readonly log: Logger;
}

export class MqttSession {
  readonly filters = new FilterTable();
  readonly status = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  /** True while connected and every filter is subscribed: publishes go out, calls may start. */
  readonly up$ = new BehaviorSubject<boolean>(false);
  private readonly client: MqttClient;
  private features: ServerFeatures = { shared: true, ids: true };
  /** Counts CONNACKs, so that the end of an older connection's re-subscription is ignored. */
  private connection = 0;
  private connected = false;
  private attempt = 1;
  private lastError: unknown;
  private ended: Promise<void> | undefined;

  constructor(private readonly config: SessionConfig, private readonly hooks: SessionHooks) {
    this.client = mqttConnect(config.url, config.clientOptions);
    this.client.on('connect', (connack) => this.onConnect(connack));
    this.client.on('close', () => this.onClose());
    this.client.on('error', (err) => { this.lastError = err; });
    this.client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack') this.checkConnack(packet);
    });
    this.client.on('message', (topic, payload, packet) => {
      const properties = packet.properties ?? {};
      for (const entry of this.filters.route(topic, properties.subscriptionIdentifier)) {
        entry.deliver(topic, payload, packet.qos, properties, packet.retain);
      }
    });
  }

  get status$(): Observable<Status> {
    return this.status.asObservable();
  }

  get isClosed(): boolean {
    return this.ended !== undefined;
  }

  /** PUBLISH if connected (else nothing: callers decide what to hold). */
  publish(topic: string, payload: string, options: Parameters<MqttClient['publish']>[2], done?: (err?: Error) => void): void {
    if (!this.connected || this.isClosed) return;
    this.client.publish(topic, payload, options ?? {}, done);
  }

  /** SUBSCRIBE one filter with its own identifier; resolves on SUBACK or a lost connection. */
  subscribe(entry: FilterEntry): Promise<void> {
    if (!this.connected || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      this.client.subscribe(entry.filter, {
        qos: 0, nl: entry.noLocal,
        ...(this.features.ids ? { properties: { subscriptionIdentifier: entry.id } } : {}),
      }, (err, granted) => {
        const code = granted?.[0]?.qos ?? 0;
        if (err !== null) this.config.log.debug({ filter: entry.filter, err: errorText(err) }, 'subscribe not acknowledged');
        else if (code >= 0x80) this.hooks.onRefused(entry.filter, code);
        resolve();
      });
    });
  }

  unsubscribe(filter: string): void {
    if (!this.connected || this.isClosed) return; // a new connection starts from a clean session anyway
    this.client.unsubscribe(filter, (err) => {
      if (err) this.config.log.debug({ filter, err: errorText(err) }, 'unsubscribe not acknowledged');
    });
  }

  /** Stop: DISCONNECT when connected (once pending acks are in), else just stop reconnecting. */
  end(): Promise<void> {
    if (this.ended === undefined) {
      const force = !this.client.connected;
      this.ended = new Promise<void>((resolve) => { this.client.end(force, {}, () => resolve()); });
      this.connected = false;
      this.up$.complete();
      this.status.complete();
    }
    return this.ended;
  }

  private checkConnack(connack: IConnackPacket): void {
    const code = connack.reasonCode ?? connack.returnCode ?? 0;
    if (code === 0 || this.isClosed) return;
    // MQTT.js would give up silently (or retry forever); a refused CONNECT is final here.
    const what = `MQTT broker at ${this.config.url} refused the connection (reason ${code})`;
    this.hooks.onFatal(AUTH_REFUSALS.has(code) ? new AuthError(what, code) : new ConnectionError(
      code === 1 ? `${what}: it does not speak MQTT 5 (Aedes 1.x speaks MQTT 3.1.1 only)` : what));
  }

  private onConnect(connack: IConnackPacket): void {
    if (this.isClosed) return;
    const connection = ++this.connection;
    this.connected = true;
    this.features = {
      shared: connack.properties?.sharedSubscriptionAvailable !== false,
      ids: connack.properties?.subscriptionIdentifiersAvailable !== false,
    };
    this.hooks.onConnect(this.features);
    // Up only once every filter is subscribed again, as the WebSocket component after its login.
    void Promise.all(this.filters.entries().map((e) => this.subscribe(e))).then(() => {
      if (this.isClosed || connection !== this.connection || !this.connected) return;
      this.attempt = 1;
      this.status.next({ type: 'up', url: this.config.url });
      this.up$.next(true);
    });
  }

  private onClose(): void {
    if (this.isClosed) return;
    const error = this.lastError;
    this.lastError = undefined;
    if (this.connected) {
      this.connected = false;
      this.up$.next(false);
      this.hooks.onDown(error);
      this.status.next(error === undefined ? { type: 'down' } : { type: 'down', error });
    }
    if (this.config.reconnectPeriod <= 0) {
      this.hooks.onFatal(new ConnectionError(`connection to ${this.config.url} lost and reconnectPeriod is 0`, { cause: error }));
      return;
    }
    const attempt = this.attempt++;
    const delayMs = this.config.reconnectPeriod;
    this.config.log.info({ attempt, delayMs, err: errorText(error) }, 'reconnecting');
    this.status.next({ type: 'reconnecting', attempt, delayMs, error });
  }
}
