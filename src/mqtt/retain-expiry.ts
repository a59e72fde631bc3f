/**
 * Retained values and message expiry across MQTT (README "Retained values", "Expiry"): Rembus's
 * `retain` is MQTT's retain flag — an empty retained publish is MQTT's empty retained payload,
 * which clears the topic — and `ttl` is MQTT 5's Message Expiry Interval (whole seconds, rounded
 * up; MQTT 3.1.1 has none, so it is not sent). Pure.
 */

/** The MQTT side of one publish. */
export interface MqttPublishOptions {
  readonly retain: boolean;
  /** Seconds; only on MQTT 5. */
  readonly messageExpiryInterval?: number;
}

/**
 * The MQTT options for a Rembus publish with `retain` / an expiry (ms since the epoch, 0 none),
 * or null when it has already expired and must not be sent.
 */
export function toMqtt(retain: boolean, expires: number, v5: boolean, now: number): MqttPublishOptions | null {
  if (expires === 0) return { retain };
  const left = expires - now;
  if (left <= 0) return null;
  return v5 ? { retain, messageExpiryInterval: Math.ceil(left / 1000) } : { retain };
}

/** The Rembus options of an inbound MQTT publish: its retain flag, its expiry interval as a ttl in ms. */
export function fromMqtt(retain: boolean, messageExpiryInterval: number | undefined): { retain?: boolean; ttl?: number } | undefined {
  const ttl = messageExpiryInterval !== undefined && messageExpiryInterval > 0 ? messageExpiryInterval * 1000 : undefined;
  if (!retain && ttl === undefined) return undefined;
  return { ...(retain ? { retain: true } : {}), ...(ttl === undefined ? {} : { ttl }) };
}

/** The MQTT payload clearing a retained value: empty. */
export const CLEAR_PAYLOAD = '';
