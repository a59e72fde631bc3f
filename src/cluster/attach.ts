/**
 * `broker({ cluster })`: the cluster link of src/cluster/cluster.ts, fed by a running broker.
 * Imported by broker.ts only when `cluster` is set; the NATS client (an optional peer) is
 * loaded here, lazily, so a broker without a cluster never maps it.
 */
import type { BrokerImpl } from '../broker/broker-impl.js';
import { trustLink } from '../broker/trusted-links.js';
import { importOptional } from '../internal/optional.js';
import type { Cluster } from './cluster.js';
import type { ClusterHost } from './cluster-host.js';
import type { ClusterDataGate } from './data-gate.js';
import type { ClusterOptions } from './types.js';

/** Join the cluster of `options` with the broker `impl`. */
export async function attachCluster(impl: BrokerImpl, options: ClusterOptions, requestTimeout: number,
  data?: ClusterDataGate, leads = false): Promise<Cluster> {
  const { openCluster } = await importOptional('@nats-io/transport-node', 'the cluster (--cluster)',
    () => importOptional('@nats-io/jetstream', 'the cluster (--cluster)', () => import('./cluster.js')));
  const host: ClusterHost = {
    name: impl.name,
    log: impl.log.child({ cluster: options.name ?? 'default' }),
    requestTimeout,
    messages$: impl.messages$,
    inject: (msg, origin, from) => impl.inject(msg, origin, from),
    attach: (link) => impl.handle(trustLink(link)),
    reply: (session, id, status, data) => impl.reply(session, id, status, data),
    exposed: () => impl.router.exposedMethods().filter((m) => impl.router.exposersOf(m).some((t) => t.session !== null)),
    online: () => [...impl.twinList()].filter((t) => t.session !== null).map((t) => t.name),
    use: (hooks) => impl.useCluster(hooks),
    ...(data === undefined ? {} : { data }),
    leads,
  };
  return openCluster(host, options);
}
