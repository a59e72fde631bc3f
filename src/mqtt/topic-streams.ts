/**
 * The `subscribe$` side of an MQTT component: one shared hot stream per pattern, one MQTT
 * subscription per filter (refcounted across patterns, STYLE §6), and delivery confirmed by the
 * Rembus matcher so that wildcards and `@` chunks keep spec §4.6 semantics.
 */
import { defer, finalize, type Observable, share, Subject } from 'rxjs';
import { errorText } from '../internal/logger.js';
import type { TopicMatcher } from '../topic/pattern.js';
import { SHARE_PREFIX } from '../protocol/share.js';
import type { Logger, Message, QoS } from '../types.js';
import type { FilterEntry, FilterTable } from './filters.js';
import { decodeArgs } from './payload.js';
import { rembusMatcher } from './translate.js';

interface PatternEntry { readonly pattern: string; readonly matcher: TopicMatcher; readonly subject: Subject<Message> }

/** What the streams need from the component that owns the MQTT client. */
export interface TopicStreamsHost {
  readonly filters: FilterTable;
  readonly log: Logger;
  /** SUBSCRIBE a new filter now if connected (else on the next connection). */
  subscribe(entry: FilterEntry): void;
  /** UNSUBSCRIBE a filter no pattern needs any more. */
  unsubscribe(filter: string): void;
  /** Topics that never reach Pub/Sub (the RPC subtrees). */
  isReserved(topic: string): boolean;
}

/** The pattern streams of one component. */
export class TopicStreams {
  private readonly byFilter = new Map<string, Set<PatternEntry>>();
  private readonly streams = new Map<string, Observable<Message>>();

  constructor(private readonly host: TopicStreamsHost) {}

  /**
   * The shared stream of `pattern`: the first subscriber takes a reference on `mqttFilter`, the
   * last one drops it; it completes or errors with the component. `key` names the stream: the
   * pattern, or `$share/<group>/<pattern>` for a group (README "Shared subscriptions").
   */
  stream$(pattern: string, mqttFilter: string, key = pattern): Observable<Message> {
    let stream = this.streams.get(key);
    if (stream !== undefined) return stream;
    let entry: PatternEntry | undefined;
    stream = defer(() => {
      entry = { pattern, matcher: rembusMatcher(pattern), subject: new Subject<Message>() };
      let set = this.byFilter.get(mqttFilter);
      if (set === undefined) this.byFilter.set(mqttFilter, (set = new Set()));
      set.add(entry);
      // No Local: a component never receives its own publishes (Rembus semantics; spec §9 no_local),
      // except on a shared subscription, where No Local is a protocol error (MQTT 5 §3.8.3.1).
      const { entry: f, created } = this.host.filters.acquire(mqttFilter, !mqttFilter.startsWith(SHARE_PREFIX),
        (topic, payload, qos, _properties, retain) => this.deliver(mqttFilter, topic, payload, qos, retain === true));
      if (created) this.host.subscribe(f);
      return entry.subject;
    }).pipe(
      finalize(() => {
        this.streams.delete(key);
        const set = this.byFilter.get(mqttFilter);
        if (entry !== undefined) set?.delete(entry);
        if (set?.size === 0) this.byFilter.delete(mqttFilter);
        if (this.host.filters.release(mqttFilter)) this.host.unsubscribe(mqttFilter);
      }),
      share({ resetOnRefCountZero: true, resetOnComplete: true, resetOnError: true }),
    );
    this.streams.set(key, stream);
    return stream;
  }

  /** Error the streams of a filter the broker refused. */
  refuse(mqttFilter: string, err: unknown): void {
    for (const entry of [...this.byFilter.get(mqttFilter) ?? []]) entry.subject.error(err);
  }

  /** End every stream: complete on `close()`, error on a fatal failure. */
  end(err?: unknown): void {
    for (const set of [...this.byFilter.values()]) {
      for (const entry of [...set]) {
        if (err === undefined) entry.subject.complete();
        else entry.subject.error(err);
      }
    }
  }

  private deliver(mqttFilter: string, topic: string, payload: Uint8Array, qos: QoS, retained: boolean): void {
    if (this.host.isReserved(topic)) return; // RPC traffic seen through a broad filter (`#`)
    let args: unknown[] | undefined;
    for (const entry of [...this.byFilter.get(mqttFilter) ?? []]) {
      if (!entry.matcher(topic)) continue;
      if (args === undefined) {
        try {
          args = decodeArgs(payload);
        } catch (err) {
          // Spec §9 (PY): an MQTT payload that is not JSON is logged and dropped.
          this.host.log.warn({ topic, err: errorText(err) }, 'MQTT message dropped: payload is not JSON');
          return;
        }
      }
      // MQTT's retain flag on a delivery: a retained value sent because the subscription is new.
      entry.subject.next(retained ? { topic, args, pattern: entry.pattern, qos, retained } : { topic, args, pattern: entry.pattern, qos });
    }
  }
}
