import { ComponentImpl } from './component-impl.js';
import { deferredComponent } from './deferred-component.js';
import type { Component, ComponentOptions } from './types.js';

/**
 * Create a component and start connecting in the background. The returned component can be
 * used at once: subscriptions and methods are declared when the link comes up (and again
 * after every reconnect); QoS0 publishes are held while disconnected; RPCs wait for the link
 * within their timeout.
 *
 * @example
 * ```ts
 * import { component } from 'rembus';
 * const node = component('ws://127.0.0.1:8338/monitor');
 * node.subscribe$('**\/telemetry').subscribe((m) => console.log(m.topic, m.args));
 * ```
 * @param url `ws://host:port/name`, a bare `name`, or `ws://host:port` for an anonymous component (spec §1.2)
 * @param options see {@link ComponentOptions}
 * @returns the component; `status$` reports the link
 * @throws InvalidTopicError for a URL that is neither a URL nor a name
 * @see connect to wait until the component is up
 */
export function component(url: string, options?: ComponentOptions): Component {
  if (MQTT_URL.test(url)) return mqttDeferred(url, options ?? {});
  return new ComponentImpl(url, options);
}

const MQTT_URL = /^mqtts?:\/\//i;

/**
 * `mqtt://host:port/name`: the same API on an MQTT 5 broker, no Rembus broker (rembus/mqtt).
 * mqtt.js is an optional peer, loaded only here.
 */
function mqttDeferred(url: string, options: ComponentOptions): Component {
  const name = /^mqtts?:\/\/[^/]*\/(.+)$/i.exec(url)?.[1];
  return deferredComponent(name === undefined ? undefined : decodeURIComponent(name), async () => {
    const { mqttComponent } = await import('../mqtt/index.js');
    return mqttComponent(url, {
      ...(options.requestTimeout === undefined ? {} : { requestTimeout: options.requestTimeout }),
      ...(options.connectTimeout === undefined ? {} : { connectTimeout: options.connectTimeout }),
      ...(options.offlineCapacity === undefined ? {} : { offlineCapacity: options.offlineCapacity }),
      ...(options.reconnect?.initialDelay === undefined ? {} : { reconnectPeriod: options.reconnect.initialDelay }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  });
}

/**
 * Create a component and wait until it is up (logged in, declarations sent).
 *
 * @example
 * ```ts
 * import { connect } from 'rembus';
 * await using node = await connect('ws://127.0.0.1:8338/client');
 * console.log(await node.rpc('rid'));
 * ```
 * @returns the connected component
 * @throws AuthError when the broker refuses the name; ConnectionError when `reconnect.maxRetries` runs out
 */
export async function connect(url: string, options?: ComponentOptions): Promise<Component> {
  const node = component(url, options);
  try {
    await node.ready();
  } catch (err) {
    await node.close();
    throw err;
  }
  return node;
}
