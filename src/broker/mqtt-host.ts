/**
 * What the MQTT bridge sees of the broker (src/bridge/mqtt-bridge.ts). An MQTT broker has no
 * Rembus names and its clients prove nothing, so the bridge is treated as an anonymous
 * component: a publish it brings in meets the typed contracts as a component's QoS0 publish
 * does (dropped, counted, dead-lettered), and with isolated tenants it is one tenant's — the
 * default tenant ('.') unless `mqttTenant` names another: what it brings in reaches that tenant
 * only (live, from the log, as a retained value), and only that tenant's publishes and the
 * broker's own go out to MQTT. No tenant's data leaves through the bridge, and nothing from MQTT
 * enters another tenant. (Its RPC component is a name of that tenant too: mqtt-rpc.ts.)
 */
import { filter } from 'rxjs';
import type { BridgeHost } from '../bridge/types.js';
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_TENANT, validateKeyName } from '../security/names.js';
import type { BrokerImpl } from './broker-impl.js';

/**
 * The tenant of `mqttTenant` (default '.').
 * @throws InvalidOptionError for one no component name can have (empty, or holding `/`, `..`…)
 */
export function mqttTenantOf(tenant: string | undefined): string {
  if (tenant === undefined || tenant === DEFAULT_TENANT) return DEFAULT_TENANT;
  try {
    if (tenant === '' || tenant.startsWith('.')) throw new Error('empty or starting with a dot');
    validateKeyName(`mqtt.${tenant}`);
  } catch (err) {
    throw new InvalidOptionError('mqttTenant', `${JSON.stringify(tenant)} is not a tenant: ${(err as Error).message}`);
  }
  return tenant;
}

/** The MQTT bridge's view of `broker`, built on the federation agent's `host`, for `tenant`. */
export function mqttHost(host: BridgeHost, broker: BrokerImpl, tenant = DEFAULT_TENANT): BridgeHost {
  const store = broker.auth.store;
  // '' is an anonymous publisher (guard.ts `Publisher`): the default tenant's. Another tenant's
  // publisher is `.<tenant>`, a name no component can have (names do not start with a dot).
  const as = tenant === DEFAULT_TENANT ? '' : `.${tenant}`;
  const publisher = (): string | undefined => (store.multiTenant ? as : undefined);
  return {
    ...host,
    messages$: host.messages$.pipe(filter((m) => m.publisher == null || store.tenantOf(m.publisher) === tenant)),
    publish: (topic, args, origin, options) => {
      const by = publisher();
      if (broker.ingest?.check(topic, () => args, 0, by ?? null) !== undefined) return;
      broker.publish(topic, args, origin, options, by);
    },
  };
}
