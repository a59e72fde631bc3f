/**
 * The exposing side of an MQTT component: one MQTT subscription per exposed method, shared by
 * the exposers of a group (`$share/<group>/<prefix>/rpc/<method>`) so that each request is
 * served once, plus the component's own direct-request subscription.
 */
import type { Handler } from '../types.js';
import type { FilterEntry, FilterTable } from './filters.js';
import type { ServerFeatures } from './mqtt-session.js';
import { serveRequest, type RpcPublish } from './rpc.js';
import type { RpcTopics } from './rpc-topics.js';

/** What the exposer needs from the component. */
export interface ExposerHost {
  readonly filters: FilterTable;
  readonly topics: RpcTopics;
  /** The shared-subscription group, or undefined for plain subscriptions. */
  readonly shareGroup: string | undefined;
  readonly publish: RpcPublish;
  subscribe(entry: FilterEntry): void;
  unsubscribe(filter: string): void;
}

export class Exposer {
  private readonly exposed = new Map<string, { handler: Handler; filter: string }>();
  private features: ServerFeatures = { shared: true, ids: true };

  constructor(private readonly host: ExposerHost) {
    // Direct requests (`CallOptions.target`): No Local off, so that a component may call itself.
    host.filters.acquire(host.topics.directFilter, false, (topic, payload, _qos, props) =>
      this.serve(host.topics.directMethod(topic), payload, props));
  }

  /** Serve `method` with `handler`; a second `expose` of a method replaces its handler. */
  expose(method: string, handler: Handler): () => void {
    const current = this.exposed.get(method);
    if (current !== undefined) this.exposed.set(method, { handler, filter: current.filter });
    else {
      const entry = this.acquire(method, this.filterOf(method));
      this.exposed.set(method, { handler, filter: entry.filter });
      this.host.subscribe(entry);
    }
    return () => {
      const exposed = this.exposed.get(method);
      if (exposed?.handler !== handler) return;
      this.exposed.delete(method);
      if (this.host.filters.release(exposed.filter)) this.host.unsubscribe(exposed.filter);
    };
  }

  /** A new connection: shared or plain subscriptions, as this broker's CONNACK allows. */
  onConnect(features: ServerFeatures): void {
    this.features = features;
    for (const [method, exposed] of this.exposed) {
      const wanted = this.filterOf(method);
      if (wanted === exposed.filter) continue;
      this.host.filters.release(exposed.filter); // the new session is clean: nothing to unsubscribe
      this.exposed.set(method, { handler: exposed.handler, filter: this.acquire(method, wanted).filter });
    }
  }

  private filterOf(method: string): string {
    return this.host.topics.methodFilter(method, this.features.shared ? this.host.shareGroup : undefined);
  }

  private acquire(method: string, filter: string): FilterEntry {
    // No Local stays off: it is a protocol error on a shared subscription (MQTT 5 §3.8.3.1).
    return this.host.filters.acquire(filter, false, (_topic, payload, _qos, props) =>
      this.serve(method, payload, props)).entry;
  }

  private serve(method: string, payload: Uint8Array, props: Parameters<typeof serveRequest>[3]): void {
    serveRequest(method, this.exposed.get(method)?.handler, payload, props, this.host.publish);
  }
}
