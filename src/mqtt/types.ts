import type { IClientOptions } from 'mqtt';
import type { Logger } from '../types.js';

/** Options of {@link mqttComponent}. */
export interface MqttComponentOptions {
  /** RPC timeout, ms (no exposer at all also ends this way: MQTT cannot tell). Default 10_000. */
  requestTimeout?: number;
  /** Give up one connection attempt (TCP + CONNACK) after this many ms. Default 10_000. */
  connectTimeout?: number;
  /**
   * Delay between reconnection attempts, ms (MQTT.js `reconnectPeriod`, a fixed delay). `0`
   * turns reconnection off: the first lost connection then stops the component. Default 1_000.
   */
  reconnectPeriod?: number;
  /** MQTT keep-alive, seconds. Default 60. */
  keepalive?: number;
  /** Publishes held while disconnected; past it `publish` throws `QueueFullError`. Default 10_000. */
  offlineCapacity?: number;
  /** First level(s) of the RPC topics (see `rpc-topics.ts`). Default `'rembus'`. */
  rpcPrefix?: string;
  /**
   * Shared-subscription group of exposers (`$share/<group>/…`): each request reaches one exposer
   * of the group. `false` subscribes plainly: every exposer answers and the caller keeps the
   * first response. Also plain when the broker's CONNACK says shared subscriptions are not
   * available. Default `'rembus'`.
   */
  shareGroup?: string | false;
  /** pino-shaped logger. Default silent. */
  logger?: Logger;
  /**
   * Further MQTT.js options: `username`, `password`, TLS (`ca`, `cert`, `key`,
   * `rejectUnauthorized`), `will`, `properties`… The component sets `protocolVersion` (5),
   * `clientId`, `clean` (true), `resubscribe` (false: it re-subscribes itself),
   * `queueQoSZero` (false), `reconnectPeriod`, `connectTimeout` and `keepalive` over these.
   * Default none.
   */
  clientOptions?: IClientOptions;
}
