import type { Component } from '../component/types.js';
import { MqttComponentImpl } from './mqtt-component-impl.js';
import type { MqttComponentOptions } from './types.js';

/**
 * Create a component on an MQTT 5 broker (EMQX, Mosquitto, HiveMQ…) with no Rembus broker at
 * all, and start connecting in the background. It has the API of `component()`:
 *
 * - `publish(topic, ...args)` sends QoS 0 with a JSON payload: the single argument, or the array
 *   of all of them (spec §9). Held while disconnected, up to `offlineCapacity`. `publish$` with
 *   `qos: 1 | 2` is MQTT QoS 1/2 and completes on PUBACK/PUBCOMP; `slot` has no MQTT form.
 * - `subscribe$(pattern)` shares one MQTT subscription per filter (`*` → `+`, `**` → `#`, see
 *   {@link toMqttFilter}), with No Local set so a component never hears itself; every delivery
 *   is confirmed by the Rembus matcher, so wildcard and `@` semantics are exactly spec §4.6.
 *   Inbound JSON arrays spread into the arguments; anything else is one argument; a payload that
 *   is not JSON is logged and dropped. Subscriptions are MQTT QoS 0. `msgfrom` has no MQTT
 *   meaning and is ignored. As in MQTT, a filter starting with a wildcard never delivers `$SYS/…`.
 * - `rpc$`/`call$` publish `rembus/rpc/<method>` (direct: `rembus/direct/<target>/<method>`)
 *   with an MQTT 5 Response Topic and Correlation Data and wait for `{ "sts", "data" }`.
 *   `expose` subscribes `$share/rembus/rembus/rpc/<method>`, so with several exposers each call
 *   is served once. Without any exposer a call ends in `RpcTimeoutError`: MQTT cannot tell.
 * - `status$` reports `connecting`, `up` (connected and subscribed again), `down`,
 *   `reconnecting` (every `reconnectPeriod`), `closed`.
 *
 * Bytes travel as base64 text; bigints as exact JSON integers; DataFrames cannot travel
 * (`EncodeError`). Topics holding `+` or `#` are refused, as are the RPC subtrees.
 *
 * @example
 * ```ts
 * import { mqttComponent } from 'rembus/mqtt';
 * const node = mqttComponent('mqtt://127.0.0.1:1883/monitor');
 * node.subscribe$('**' + '/telemetry').subscribe((m) => console.log(m.topic, m.args));
 * node.expose('add', (a: number, b: number) => a + b);
 * console.log(await node.rpc('add', 1, 2)); // 3, served by any exposer on the broker
 * await node.close();
 * ```
 * @param url `mqtt://host:port/name` or `mqtts://…`; the name is the MQTT client id (a random
 *   UUID when absent: an anonymous component). Port defaults: 1883, 8883.
 * @param options See {@link MqttComponentOptions}.
 * @returns The component.
 * @throws InvalidTopicError for a URL that is not `mqtt://` or `mqtts://`, or a name holding
 *   `+`, `#` or `*`. Streams and calls may fail with `ConnectionError` or `AuthError` (the broker
 *   refused the CONNECT: e.g. Aedes 1.x, which speaks MQTT 3.1.1 only), `RpcTimeoutError`,
 *   `MethodNotFoundError` (a direct call to a component without that method), `RpcError`,
 *   `EncodeError`, `QueueFullError`, `ConnectionClosedError`.
 * @see component for the same API on a Rembus broker
 */
export function mqttComponent(url: string, options?: MqttComponentOptions): Component {
  return new MqttComponentImpl(url, options);
}
