/**
 * The broker's stats snapshot (`broker.stats()`, `/metrics`, the stats topic): counts read from
 * its stages when asked, nothing kept for them.
 */
import type { ContractIngest } from '../contracts/ingest.js';
import type { FlowControl } from './flow-control.js';
import type { Publisher } from './guard.js';
import type { LogBound } from './log-bound.js';
import type { MessageLog } from './message-log.js';
import type { RpcRouting } from './rpc-routing.js';
import type { TwinRegistry } from './twin-registry.js';
import type { Session, Twin } from './twin.js';
import type { BrokerStats } from './types.js';

/** What {@link brokerStats} counts. */
export interface StatsSources {
  readonly named: ReadonlyMap<string, Twin>;
  readonly sessions: ReadonlyMap<Session, unknown>;
  readonly registry: TwinRegistry;
  readonly rpc: RpcRouting;
  readonly messageLog: MessageLog;
  readonly logBound: LogBound;
  readonly flow: FlowControl;
  readonly ingest: ContractIngest<Publisher> | undefined;
}

export function brokerStats({ named, sessions, registry, rpc, messageLog, logBound, flow, ingest }: StatsSources): BrokerStats {
  let outboxed = 0;
  let held = 0;
  for (const twin of named.values()) {
    outboxed += twin.outbox?.size ?? 0;
    held += twin.held?.length ?? 0;
  }
  for (const session of sessions.keys()) {
    if (session.twin.anonymous) outboxed += session.twin.outbox?.size ?? 0;
  }
  const counts = flow.counts;
  return { connections: sessions.size, twins: named.size, expiredTwins: registry.expired,
    refusedTwins: registry.refused, pendingRpcs: rpc.size, outboxed, held,
    logBuffered: messageLog.buffered, logDropped: logBound.dropped, congested: counts.congested, pausedPublishers: counts.paused,
    slowConsumers: counts.slowConsumers, ...(ingest === undefined ? {} : { contracts: ingest.stats() }) };
}
