/**
 * What the MQTT bridge sees of the broker (src/bridge/mqtt-bridge.ts). An MQTT broker has no
 * Rembus names and its clients prove nothing, so the bridge is treated as an anonymous
 * component: a publish it brings in meets the typed contracts as a component's QoS0 publish
 * does (dropped, counted, dead-lettered), and with isolated tenants it is the default tenant's
 * ('.'): what it brings in reaches that tenant only (live, from the log, as a retained value),
 * and only that tenant's publishes and the broker's own go out to MQTT. No tenant's data leaves
 * through the bridge, and nothing from MQTT enters another tenant.
 */
import { filter } from 'rxjs';
import type { BridgeHost } from '../bridge/types.js';
import { DEFAULT_TENANT } from '../security/names.js';
import type { BrokerImpl } from './broker-impl.js';

/** The MQTT bridge's view of `broker`, built on the federation agent's `host`. */
export function mqttHost(host: BridgeHost, broker: BrokerImpl): BridgeHost {
  const store = broker.auth.store;
  // '' is an anonymous publisher (guard.ts `Publisher`): the default tenant's.
  const publisher = (): string | undefined => (store.multiTenant ? '' : undefined);
  return {
    ...host,
    messages$: host.messages$.pipe(filter((m) => m.publisher == null || store.tenantOf(m.publisher) === DEFAULT_TENANT)),
    publish: (topic, args, origin, options) => {
      const by = publisher();
      if (broker.ingest?.check(topic, () => args, 0, by ?? null) !== undefined) return;
      broker.publish(topic, args, origin, options, by);
    },
  };
}
