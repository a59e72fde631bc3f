/**
 * The broker's stats snapshot: what `__broker__/stats` carries every second, `rembus stats`
 * prints and the dashboard draws. Built from counters the broker and the wire meter already
 * keep, per-topic publish counts included (read from PUB frame heads, not from `messages$`:
 * observing that would make the broker decode every publish's args).
 */
import type { StoreMeter } from './store-meter.js';
import type { WireMeter } from './meter.js';
import { quantile, type MethodLatency } from './rpc-latency.js';

/** What the snapshot reads of one twin (the broker's `Twin` has this shape). */
export interface TwinView {
  readonly name: string;
  readonly session: object | null;
  readonly subscriptions: ReadonlyMap<string, number>;
  readonly exposed: ReadonlySet<string>;
  readonly outbox?: { readonly size: number } | undefined;
  /** recv (ns since the epoch) of the last message delivered. */
  readonly mark: bigint;
}

/** What the snapshot reads of the broker. */
export interface BrokerView {
  readonly name: string;
  stats(): Readonly<Record<string, unknown>>;
  twins(): Iterable<TwinView>;
}

/** One component in the snapshot. */
export interface ComponentSnapshot {
  name: string;
  online: boolean;
  /** ms since the epoch the broker first saw it online this time (±1 snapshot period). */
  since: number | null;
  subscriptions: string[];
  exposed: string[];
  /** Messages queued for it awaiting ACK. */
  outbox: number;
  /** ms since the epoch of the last message delivered to it; null when none. */
  lastDelivered: number | null;
}

/** The compact stats snapshot (field names are part of the `__broker__/stats` contract). */
export interface StatsSnapshot {
  broker: string;
  /** ms since the epoch. */
  time: number;
  uptime: number;
  stats: Record<string, unknown>;
  wire: { framesIn: number; framesOut: number; bytesIn: number; bytesOut: number; publishesIn: number;
    publishesOut: number; links: number; slowConsumersCut: number; replays: number };
  topics: { topic: string; published: number }[];
  rpc: { method: string; calls: number; errors: number; p50: number; p99: number }[];
  components: ComponentSnapshot[];
  storage: { ok: boolean; error: string | null; flushes: number; p99: number };
  memory: { rss: number; heapUsed: number };
}

export class StatsCollector {
  private readonly since = new WeakMap<object, number>();
  private readonly started = Date.now();

  constructor(private readonly broker: BrokerView, private readonly meter: WireMeter, private readonly storage: StoreMeter) {}

  snapshot(): StatsSnapshot {
    const now = Date.now();
    const { meter } = this;
    const components: ComponentSnapshot[] = [];
    for (const twin of this.broker.twins()) {
      let since: number | null = null;
      if (twin.session !== null) {
        since = this.since.get(twin.session) ?? now;
        this.since.set(twin.session, since);
      }
      components.push({
        name: twin.name, online: twin.session !== null, since,
        subscriptions: [...twin.subscriptions.keys()], exposed: [...twin.exposed],
        outbox: twin.outbox?.size ?? 0,
        lastDelivered: twin.mark === 0n ? null : Number(twin.mark / 1_000_000n),
      });
    }
    const rpc = [...meter.rpc.methods].map(([method, m]) => ({
      method, calls: m.calls, errors: m.errors, p50: quantile(m.counts, 0.5), p99: quantile(m.counts, 0.99),
    }));
    const flush = this.storage.flushes.methods.get('append');
    const mem = process.memoryUsage();
    return {
      broker: this.broker.name, time: now, uptime: Math.floor((now - this.started) / 1000),
      stats: { ...this.broker.stats() },
      wire: { framesIn: meter.framesIn, framesOut: meter.framesOut, bytesIn: meter.bytesIn, bytesOut: meter.bytesOut,
        publishesIn: meter.publishesIn, publishesOut: meter.publishesOut, links: meter.linksOpened,
        slowConsumersCut: meter.slowConsumersCut, replays: meter.replays },
      topics: [...meter.topics].map(([topic, t]) => ({ topic, published: t.published })),
      rpc,
      components,
      storage: { ok: this.storage.lastError === undefined, error: this.storage.lastError ?? null,
        flushes: flush?.calls ?? 0, p99: flush === undefined ? 0 : quantile(flush.counts, 0.99) },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
    };
  }

  /** RPC latency per method, as the wire meter keeps it. */
  rpcMethods(): ReadonlyMap<string, MethodLatency> {
    return this.meter.rpc.methods;
  }

  /** Message log flush latency and failures; undefined before the first flush. */
  storageFlushes(): MethodLatency | undefined {
    return this.storage.flushes.methods.get('append');
  }

  close(): void {
    // Nothing held: the snapshot reads counters when asked.
  }
}
