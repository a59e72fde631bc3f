/**
 * `broker({ cluster })`: the cluster link of src/cluster/cluster.ts, fed by a running broker.
 * Imported by broker.ts only when `cluster` is set; the NATS client (an optional peer) is
 * loaded here, lazily, so a broker without a cluster never maps it.
 */
import type { BrokerImpl } from '../broker/broker-impl.js';
import { isDelegate, trustLink } from '../broker/trusted-links.js';
import { importOptional } from '../internal/optional.js';
import { memorySecurityStore } from '../security/memory-store.js';
import type { SecurityStore } from '../security/types.js';
import type { Logger } from '../types.js';
import type { Cluster } from './cluster.js';
import type { ClusterHost } from './cluster-host.js';
import type { SharedSecurity } from './security-kv.js';
import type { ClusterDataGate } from './data-gate.js';
import type { ClusterOptions } from './types.js';

/** The component keys of `own` (memory when undefined), shared through the cluster's KV bucket (security-kv.ts). */
export async function shareSecurity(options: ClusterOptions, own: SecurityStore | undefined, log: Logger): Promise<SharedSecurity> {
  const { openSharedSecurity } = await importOptional('@nats-io/transport-node', 'the cluster (--cluster)',
    () => importOptional('@nats-io/kv', 'the cluster\'s shared security (--cluster)', () => import('./security-kv.js')));
  return openSharedSecurity(options, own ?? memorySecurityStore(), log);
}

/** Join the cluster of `options` with the broker `impl`. */
export async function attachCluster(impl: BrokerImpl, options: ClusterOptions, requestTimeout: number,
  data?: ClusterDataGate, leads = false): Promise<Cluster> {
  const { openCluster } = await importOptional('@nats-io/transport-node', 'the cluster (--cluster)',
    () => importOptional('@nats-io/jetstream', 'the cluster (--cluster)',
      () => importOptional('@nats-io/kv', 'the cluster (--cluster)', () => import('./cluster.js'))));
  const host: ClusterHost = {
    name: impl.name,
    log: impl.log.child({ cluster: options.name ?? 'default' }),
    requestTimeout,
    messages$: impl.messages$,
    inject: (msg, origin, from, publisher) => impl.inject(msg, origin, from, publisher),
    attach: (link) => impl.handle(trustLink(link)),
    reply: (session, id, status, data) => impl.reply(session, id, status, data),
    exposed: () => impl.router.exposedMethods().filter((m) => impl.router.exposersOf(m).some((t) => t.session !== null)),
    exposerTenants: () => {
      if (!impl.guard.tenantsIsolated) return undefined;
      const tenants: Record<string, string[]> = {};
      for (const method of impl.router.exposedMethods()) {
        const of = new Set(impl.router.exposersOf(method).filter((t) => t.session !== null).map((t) => impl.auth.store.tenantOf(t.name)));
        if (of.size > 0) tenants[method] = [...of];
      }
      return tenants;
    },
    // The cluster's own delegates (cluster-delegates.ts) are not components to call.
    online: () => [...impl.twinList()].filter((t) => t.session !== null && !isDelegate(t)).map((t) => t.name),
    isolated: () => impl.guard.tenantsIsolated,
    tenantOf: (name) => impl.auth.store.tenantOf(name),
    mayCall: (caller, method) => impl.guard.mayCallAs(caller?.name ?? '', caller?.proven === true, method),
    twin: (name) => impl.namedTwin(name),
    subscribe: (twin, topic, msgFrom) => impl.router.subscribe(twin, topic, msgFrom),
    unsubscribe: (twin, topic) => void impl.router.unsubscribe(twin, topic),
    logHead: () => impl.logHead,
    use: (hooks) => impl.useCluster(hooks),
    interest: (limit) => impl.router.interest(limit),
    watch: (changed) => {
      impl.router.changed = changed;
      if (impl.router.groups !== undefined) impl.router.groups.changed = changed;
      return () => {
        impl.router.changed = undefined;
        if (impl.router.groups !== undefined) impl.router.groups.changed = undefined;
      };
    },
    ...(data === undefined ? {} : { data }),
    leads,
  };
  return openCluster(host, options);
}
