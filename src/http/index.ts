/**
 * The broker's observability and HTTP room, wired by `broker()` in a few lines: a wire meter
 * on every link, a timed store, the stats snapshot (and its topic), and the HTTP handler for
 * the listener. Lower rooms are reached only through the functions passed in here.
 *
 * The handler's modules (routes, JSON-RPC, sessions, dashboard, Basic auth — and through the
 * session the component's platform code) are loaded on the first HTTP request: a broker that
 * serves only WebSockets does not carry them (issue 20, W7).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/types.js';
import type { Link } from '../transport/link.js';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';
import type { HttpAuthPolicy } from './auth.js';
import { WireMeter } from './meter.js';
import type { metricsRegistry } from './metrics.js';
import type { HttpHost } from './server.js';
import { StatsCollector, type StatsSnapshot, type TwinView } from './snapshot.js';
import { StoreMeter } from './store-meter.js';

/** A plain HTTP request handler (not upgrades). */
export type HttpRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export type { StatsSnapshot } from './snapshot.js';
export { STATS_TOPIC } from '../broker/stats-topic.js';

/** What the broker serves over HTTP and measures (see `BrokerOptions.http`). */
export interface HttpOptions {
  /** Count wire traffic and serve `GET /metrics`. Default true. */
  metrics?: boolean;
  /** Period of the `__broker__/stats` snapshots, ms; 0 stops them. Default 1_000. */
  statsInterval?: number;
  /** Serve the dashboard at `GET /`. Default true. */
  dashboard?: boolean;
  /** Refuse anonymous HTTP (and names without a key). Default false; `--auth required` sets it. */
  requireAuth?: boolean;
}

/** What {@link Observability.attach} reads of the running broker. */
export interface ObservedBroker {
  readonly name: string;
  stats(): Readonly<Record<string, unknown>>;
  twins(): Iterable<TwinView>;
  handle(link: Link): void;
  requestTimeout: number;
  auth: Omit<HttpAuthPolicy, 'requireAuth'> & Pick<HttpHost, 'isAdmin' | 'tenantsIsolated'>;
  log: Logger;
}

export class Observability {
  readonly meter = new WireMeter();
  readonly storage = new StoreMeter();
  private collector: StatsCollector | undefined;
  closing = false;

  constructor(readonly options: HttpOptions) {}

  /** The link the broker should serve: metered unless metrics are off. */
  wrapLink(link: Link): Link {
    return this.options.metrics === false ? link : this.meter.wrap(link);
  }

  wrapStore(store: Store): Store {
    return this.storage.wrap(store);
  }

  /** Start reading the broker; returns the snapshot function and the HTTP handler. */
  attach(broker: ObservedBroker): { snapshot: () => StatsSnapshot; http: HttpRequestHandler } {
    const collector = new StatsCollector(broker, this.meter, this.storage);
    this.collector = collector;
    // Built on the first scrape: prom-client's default metrics start an event-loop monitor, and
    // prom-client is loaded only then (a broker nobody scrapes does not carry its modules).
    let registry: ReturnType<typeof metricsRegistry> | undefined;
    const requireAuth = this.options.requireAuth ?? false;
    const host = async (): Promise<HttpHost> => {
      const [{ basicAuth }, { dashboardAsset }] = await Promise.all([import('./auth.js'), import('./dashboard.js')]);
      return {
        handle: (link) => broker.handle(link),
        authenticate: basicAuth({ requireAuth: () => requireAuth, hasKey: (cid) => broker.auth.hasKey(cid) }),
        isAdmin: (cid) => broker.auth.isAdmin(cid),
        tenantsIsolated: () => broker.auth.tenantsIsolated(),
        notReady: () => this.closing ? 'closing'
          : this.storage.lastError === undefined ? undefined : `storage failed: ${this.storage.lastError}`,
        metrics: this.options.metrics === false ? undefined : shared(METRICS_TTL_MS, async () => {
          registry ??= (await import('./metrics.js')).metricsRegistry(collector);
          return { contentType: registry.contentType, body: await registry.metrics() };
        }),
        dashboard: this.options.dashboard === false ? undefined : dashboardAsset,
        requestTimeout: broker.requestTimeout,
        log: broker.log,
      };
    };
    return { snapshot: () => collector.snapshot(), http: lazyHandler(host, broker.log) };
  }

  close(): void {
    this.closing = true;
    this.collector?.close();
  }
}

/**
 * How long one rendering of `/metrics` serves every scrape, ms. Any peer can make up 1,000
 * method labels; then a rendering costs ~80 ms of CPU and 1.3 MB, and a flood of scrapes each
 * rendered anew took the broker's CPU (edges-http.test.ts). Scrapers ask every 5 s or more.
 */
const METRICS_TTL_MS = 1_000;

/** `render`, its result (or the rendering in progress) shared by every call within `ttl` ms of it; a failure is not kept. */
function shared<T>(ttl: number, render: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last !== undefined && now - last.at < ttl) return last.value;
    const entry = { at: now, value: render() };
    last = entry;
    entry.value.catch(() => { if (last === entry) last = undefined; });
    return entry.value;
  };
}

/**
 * The HTTP handler, its modules loaded by the first request (which waits for them; the request
 * stream stays paused meanwhile, so nothing of its body is lost). A failed load answers 500 and
 * is tried again by the next request.
 */
function lazyHandler(host: () => Promise<HttpHost>, log: Logger): HttpRequestHandler {
  let loading: Promise<HttpRequestHandler> | undefined;
  let handler: HttpRequestHandler | undefined;
  return (req, res) => {
    if (handler !== undefined) {
      handler(req, res);
      return;
    }
    loading ??= Promise.all([import('./server.js'), host()]).then(([{ httpHandler }, h]) => handler = httpHandler(h));
    loading.then((h) => h(req, res), (err: unknown) => {
      loading = undefined;
      log.error({ err: errorText(err) }, 'http handler could not be loaded');
      res.statusCode = 500;
      res.end();
    });
  };
}
