/**
 * The calling side of an MQTT component: RPC over MQTT 5 request/response (MQTT 5 §4.10). A call
 * is published once the session is up and answered on the component's reply topic, to which the
 * caller stays subscribed. The exposing side is exposer.ts.
 */
import { defer, filter, fromEvent, map, type Observable, switchMap, take, takeUntil, throwError, throwIfEmpty, timeout } from 'rxjs';
import { ConnectionClosedError, RpcTimeoutError } from '../errors.js';
import type { CallOptions, Logger } from '../types.js';
import type { FilterTable } from './filters.js';
import { PendingCalls, rpcResult, type RpcPublish } from './rpc.js';
import type { RpcTopics } from './rpc-topics.js';
import { validateMqttTopic } from './translate.js';

/** What the caller needs from the component. */
export interface CallerHost {
  readonly filters: FilterTable;
  readonly topics: RpcTopics;
  readonly publish: RpcPublish;
  /** True while connected and every filter is subscribed (`MqttSession.up$`); completes on close. */
  readonly up$: Observable<boolean>;
  readonly log: Logger;
  /** Timeout of a call without `CallOptions.timeout`, in ms. */
  readonly requestTimeout: number;
  isClosed(): boolean;
}

export class Caller {
  private readonly calls: PendingCalls;

  constructor(private readonly host: CallerHost) {
    this.calls = new PendingCalls(host.log);
    // Always subscribed: the responses to our calls.
    host.filters.acquire(host.topics.replyTopic, false, (_t, payload, _q, props) => this.calls.onResponse(payload, props));
  }

  /** One call of `method` as a cold Observable: its result, or the typed error of its status. */
  call$<R = unknown>(method: string, args: any, options: CallOptions = {}): Observable<R> {
    const { topics } = this.host;
    validateMqttTopic(method);
    const topic = options.target === undefined ? topics.requestTopic(method)
      : topics.directTopic(validateMqttTopic(options.target), method);
    const timeoutMs = options.timeout ?? this.host.requestTimeout;
    const timeoutError = new RpcTimeoutError(method, timeoutMs); // built here so its stack names the caller
    const call$ = defer(() => {
      if (this.host.isClosed()) return throwError(() => new ConnectionClosedError('component closed'));
      return this.host.up$.pipe(
        filter(Boolean),
        take(1),
        throwIfEmpty(() => new ConnectionClosedError('component closed')),
        switchMap(() => this.calls.request$(topic, args, topics.replyTopic, this.host.publish)),
        timeout({ first: timeoutMs, with: () => throwError(() => timeoutError) }),
        map((resp) => rpcResult(method, resp) as R),
      );
    });
    const signal = options.signal;
    return signal === undefined ? call$ : call$.pipe(takeUntil(fromEvent(signal, 'abort')));
  }

  /** Fail every call waiting for its response (link lost, component closed). */
  failAll(err: unknown): void {
    this.calls.failAll(err);
  }
}
