/**
 * `GET /metrics`: the Prometheus text format, through prom-client's registry. Every rembus
 * metric is *collected*: its value is read from the counters the broker and the wire meter
 * already keep when the endpoint is scraped, so routing a message never touches prom-client.
 * prom-client's default metrics add process memory, CPU, handles and event-loop lag.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { LATENCY_BUCKETS, type MethodLatency } from './rpc-latency.js';
import type { StatsCollector } from './snapshot.js';

interface Sample { value: number; labels?: Record<string, string | number>; metricName?: string }

/** A metric whose samples are computed at scrape time (prom-client's registry formats them). */
function collected(name: string, help: string, type: 'gauge' | 'counter' | 'histogram',
  samples: () => Sample[]) {
  return { name, help, type, aggregator: 'sum' as const, get: () => ({ name, help, type, aggregator: 'sum', values: samples() }),
    reset: () => undefined };
}

/** Cumulative `_bucket`, `_sum` and `_count` samples of one bucket histogram. */
function histogramSamples(name: string, labels: Record<string, string>, m: MethodLatency): Sample[] {
  const out: Sample[] = [];
  let acc = 0;
  for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
    acc += m.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf' },
      value: acc });
  }
  out.push({ metricName: `${name}_sum`, labels, value: m.sum }, { metricName: `${name}_count`, labels, value: m.calls });
  return out;
}

/**
 * The registry of one broker's metrics.
 * @param stats the broker's snapshot source (also read by the stats topic)
 */
export function metricsRegistry(stats: StatsCollector): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One snapshot per scrape, shared by the metrics that read it.
  let cached: { at: number; snap: ReturnType<StatsCollector['snapshot']> } | undefined;
  const snap = () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > 100) cached = { at: now, snap: stats.snapshot() };
    return cached.snap;
  };
  const num = (key: string) => () => [{ value: Number(snap().stats[key] ?? 0) }];
  const wire = (key: keyof ReturnType<StatsCollector['snapshot']>['wire']) => () => [{ value: snap().wire[key] }];
  const metrics = [
    collected('rembus_connections', 'Open links (WebSocket and in-process).', 'gauge', num('connections')),
    collected('rembus_twins', 'Named twins known, online or not.', 'gauge', num('twins')),
    collected('rembus_components_online', 'Named components connected now.', 'gauge',
      () => [{ value: snap().components.filter((c) => c.online).length }]),
    collected('rembus_subscriptions', 'Subscriptions declared by named twins.', 'gauge',
      () => [{ value: snap().components.reduce((n, c) => n + c.subscriptions.length, 0) }]),
    collected('rembus_exposed_methods', 'Methods exposed by named twins.', 'gauge',
      () => [{ value: snap().components.reduce((n, c) => n + c.exposed.length, 0) }]),
    collected('rembus_pending_rpcs', 'RPCs forwarded and not yet answered.', 'gauge', num('pendingRpcs')),
    collected('rembus_qos_inflight_messages', 'QoS1/2 messages in twins\' outboxes, waiting for their ACK.', 'gauge', num('outboxed')),
    collected('rembus_outbox_depth_max', 'The deepest outbox of one twin.', 'gauge',
      () => [{ value: snap().components.reduce((n, c) => Math.max(n, c.outbox), 0) }]),
    collected('rembus_held_messages', 'Live messages held back behind replays.', 'gauge', num('held')),
    collected('rembus_log_buffered', 'Message log entries not yet in the store.', 'gauge', num('logBuffered')),
    collected('rembus_log_dropped_total', 'Logged messages dropped by the log\'s size bound (maxLogBytes, memory store bounds).', 'counter', num('logDropped')),
    collected('rembus_congested_links', 'Links past the flow-control high water now.', 'gauge', num('congested')),
    collected('rembus_paused_publishers', 'Publishers paused by flow control now.', 'gauge', num('pausedPublishers')),
    collected('rembus_publishes_in_total', 'PUB frames received.', 'counter', wire('publishesIn')),
    collected('rembus_publishes_out_total', 'PUB frames delivered to subscribers.', 'counter', wire('publishesOut')),
    collected('rembus_frames_in_total', 'Frames received.', 'counter', wire('framesIn')),
    collected('rembus_frames_out_total', 'Frames sent.', 'counter', wire('framesOut')),
    collected('rembus_bytes_in_total', 'Bytes received (frame payloads).', 'counter', wire('bytesIn')),
    collected('rembus_bytes_out_total', 'Bytes sent (frame payloads).', 'counter', wire('bytesOut')),
    collected('rembus_links_total', 'Links accepted since start.', 'counter', wire('links')),
    collected('rembus_slow_consumers_cut_total', 'Links closed as slow consumers.', 'counter', wire('slowConsumersCut')),
    collected('rembus_replays_total', 'Replays requested (reactive on).', 'counter', wire('replays')),
    collected('rembus_rpc_calls_total', 'RPCs answered, by method.', 'counter',
      () => snap().rpc.map((r) => ({ labels: { method: r.method }, value: r.calls }))),
    collected('rembus_rpc_errors_total', 'RPCs answered with an error status, by method.', 'counter',
      () => snap().rpc.map((r) => ({ labels: { method: r.method }, value: r.errors }))),
    collected('rembus_rpc_duration_seconds', 'RPC latency seen by the broker, request in to answer out, by method.',
      'histogram', () => [...stats.rpcMethods()].flatMap(([method, m]) => histogramSamples('rembus_rpc_duration_seconds', { method }, m))),
    collected('rembus_storage_flush_seconds', 'Message log flush latency (store appendMessages).', 'histogram', () => {
      const m = stats.storageFlushes();
      return m === undefined ? [] : histogramSamples('rembus_storage_flush_seconds', {}, m);
    }),
    collected('rembus_storage_flush_errors_total', 'Failed message log flushes.', 'counter',
      () => [{ value: stats.storageFlushes()?.errors ?? 0 }]),
    collected('rembus_storage_ok', '1 while the latest message log flush succeeded.', 'gauge',
      () => [{ value: snap().storage.ok ? 1 : 0 }]),
    collected('rembus_schema_rows_written_total', 'Schema rows persisted.', 'counter', () => [{ value: schema(snap().stats, 'persisted') }]),
    collected('rembus_schema_rows_dropped_total', 'Schema rows dropped past the memory bound.', 'counter',
      () => [{ value: schema(snap().stats, 'dropped') }]),
    collected('rembus_schema_rows_rejected_total', 'Payloads the schema refused.', 'counter',
      () => [{ value: schema(snap().stats, 'rejected') }]),
    collected('rembus_schema_rows_pending', 'Schema rows waiting for DuckDB.', 'gauge', () => [{ value: schema(snap().stats, 'pendingRows') }]),
    collected('rembus_contract_invalid_total', 'Publishes that did not fit a broker contract: QoS1/2 refused, QoS0 dropped.', 'counter',
      () => (['refused', 'dropped'] as const).map((action) => ({ labels: { action }, value: schema(snap().stats, action, 'contracts') }))),
  ];
  for (const metric of metrics) registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return registry;
}

function schema(stats: Record<string, unknown>, key: string, group = 'schema'): number {
  const s = stats[group] as Record<string, unknown> | undefined;
  return Number(s?.[key] ?? 0);
}
