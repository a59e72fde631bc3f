/**
 * A Rembus component on a plain MQTT 5 broker, with no Rembus broker at all (spec §9): topics
 * are MQTT topics, patterns become MQTT filters confirmed by the Rembus matcher, RPC is MQTT 5
 * request/response. The session owns the connection; this class keeps the `Component` contract.
 */
import { firstValueFrom, lastValueFrom, type Observable, throwError } from 'rxjs';
import type { PublishOptions } from '../component/publish-options.js';
import type { Component } from '../component/types.js';
import { parseComponentUrl } from '../component/url.js';
import {
  AuthError, ConnectionClosedError, ConnectionError, InvalidTopicError, NotSupportedError,
} from '../errors.js';
import { errorText, silentLogger } from '../internal/logger.js';
import type {
  ActionEvent, ActionHandler, ActionOptions, CallOptions, ExposeOptions, GatherOptions, GatherReply, Handler, Logger,
  Message, PresenceState, Status, SubscribeOptions,
} from '../types.js';
import { action$, exposeAction } from '../component/action.js';
import { Caller } from './caller.js';
import { Exposer } from './exposer.js';
import { MqttPublisher } from './mqtt-publisher.js';
import { MqttSession } from './mqtt-session.js';
import { rpcPublisher } from './rpc.js';
import { rpcTopics, type RpcTopics } from './rpc-topics.js';
import { TopicStreams } from './topic-streams.js';
import { toMqttFilter, validateMqttTopic } from './translate.js';
import { shareTopic, validateGroup } from '../protocol/share.js';
import type { MqttComponentOptions } from './types.js';
import { ContractSupport } from '../contracts/support.js';
import type { TopicContract } from '../contracts/topic.js';
import type { MethodContract } from '../contracts/method.js';
import type { ContractQueryOptions } from '../contracts/query.js';

export class MqttComponentImpl implements Component {
  readonly name: string | undefined;
  readonly status$: Observable<Status>;
  private readonly log: Logger;
  private readonly topics: RpcTopics;
  private readonly session: MqttSession;
  private readonly streams: TopicStreams;
  private readonly publisher: MqttPublisher;
  private readonly caller: Caller;
  private readonly exposer: Exposer;
  private readonly readyPromise: Promise<void>;
  private settleReady!: (err?: unknown) => void;
  private closed = false;
  /** Typed contracts (src/contracts), as on a Rembus component. */
  private readonly contracts = new ContractSupport(this);
  readonly invalid$ = this.contracts.invalid$;

  constructor(url: string, options: MqttComponentOptions = {}) {
    const address = parseComponentUrl(url, 'mqtt://127.0.0.1:1883');
    if (address.scheme !== 'mqtt' && address.scheme !== 'mqtts') {
      throw new InvalidTopicError(url, 'expected an mqtt:// or mqtts:// URL');
    }
    this.name = address.name;
    const clientId = validateMqttTopic(address.name ?? crypto.randomUUID());
    this.log = options.logger ?? silentLogger;
    this.topics = rpcTopics(validateMqttTopic(options.rpcPrefix ?? 'rembus'), clientId);
    const shareGroup = options.shareGroup === false ? undefined : validateMqttTopic(options.shareGroup ?? 'rembus');
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.readyPromise.catch(() => undefined);
    // Everything that may throw is checked above: from here on a socket is being opened.
    const reconnectPeriod = options.reconnectPeriod ?? 1_000;
    this.session = new MqttSession({
      url: address.url, reconnectPeriod, log: this.log,
      clientOptions: {
        ...options.clientOptions,
        protocolVersion: 5, clientId, clean: true, resubscribe: false, queueQoSZero: false, reconnectPeriod,
        connectTimeout: options.connectTimeout ?? 10_000, keepalive: options.keepalive ?? 60,
      },
    }, {
      onConnect: (features) => this.exposer.onConnect(features),
      onDown: (error) => this.caller.failAll(new ConnectionClosedError('connection down', { cause: error })),
      onRefused: (f, code) => this.onRefused(f, code),
      onFatal: (error) => this.fail(error),
    });
    this.status$ = this.session.status$;
    const filters = this.session.filters;
    this.streams = new TopicStreams({
      filters, log: this.log, isReserved: (t) => this.topics.isReserved(t),
      subscribe: (entry) => void this.session.subscribe(entry),
      unsubscribe: (f) => this.session.unsubscribe(f),
    });
    this.publisher = new MqttPublisher(this.session.up$, options.offlineCapacity ?? 10_000,
      (topic, payload, qos, done, extra) => this.session.publish(topic, payload, extra === undefined ? { qos } : {
        qos, retain: extra.retain,
        ...(extra.messageExpiryInterval === undefined ? {} : { properties: { messageExpiryInterval: extra.messageExpiryInterval } }),
      }, done), () => this.closed, (topic) => {
      validateMqttTopic(topic);
      if (this.topics.isReserved(topic)) throw new InvalidTopicError(topic, 'reserved for RPC over MQTT');
    });
    const publish = rpcPublisher(this.session);
    this.caller = new Caller({
      filters, topics: this.topics, publish, up$: this.session.up$, log: this.log, requestTimeout: options.requestTimeout ?? 10_000,
      isClosed: () => this.closed,
    });
    this.exposer = new Exposer({
      filters, topics: this.topics, publish, shareGroup,
      subscribe: (entry) => void this.session.subscribe(entry),
      unsubscribe: (f) => this.session.unsubscribe(f),
    });
    this.session.up$.subscribe((up) => {
      if (!up) return;
      this.publisher.flush();
      this.settleReady();
    });
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  private onRefused(mqttFilter: string, code: number): void {
    this.log.warn({ filter: mqttFilter, reason: code }, 'subscription refused by the MQTT broker');
    const what = `subscription to '${mqttFilter}' refused by the MQTT broker (reason ${code})`;
    this.streams.refuse(mqttFilter, code === 0x87 ? new AuthError(what, code) : new ConnectionError(what));
  }

  // ---- Pub/Sub ----------------------------------------------------------------------------

  subscribe$(pattern: string | TopicContract, options: SubscribeOptions = {}): Observable<any> {
    if (typeof pattern !== 'string') return this.contracts.subscribe$(pattern, options);
    const mqttFilter = toMqttFilter(pattern);
    if (this.topics.isReserved(mqttFilter)) throw new InvalidTopicError(pattern, 'reserved for RPC over MQTT');
    if (this.closed) return throwError(() => new ConnectionClosedError('component closed'));
    if (options.group === undefined) return this.streams.stream$(pattern, mqttFilter) as Observable<Message>;
    // A group is an MQTT 5 shared subscription (README "Shared subscriptions").
    const group = validateGroup(options.group);
    return this.streams.stream$(pattern, shareTopic(group, mqttFilter), shareTopic(group, pattern)) as Observable<Message>;
  }

  publish(topic: string | TopicContract, ...args: any[]): void {
    if (typeof topic !== 'string') return this.contracts.publish(topic, args[0], args[1]);
    this.publisher.publishArgs(topic, args);
  }

  publish$(topic: string | TopicContract, args: any = [], options: PublishOptions = {}, more?: PublishOptions): Observable<void> {
    if (typeof topic !== 'string') return this.contracts.publish$(topic, args, options, more);
    return this.publisher.publishArgs$(topic, args, options);
  }

  publishAsync(topic: string | TopicContract, args: any = [], options: PublishOptions = {}, more?: PublishOptions): Promise<void> {
    return lastValueFrom(this.publish$(topic, args, options, more), { defaultValue: undefined });
  }

  // ---- RPC --------------------------------------------------------------------------------

  rpc$(method: string | MethodContract, ...args: unknown[]): Observable<any> {
    return this.call$(method, args);
  }

  call$<R = unknown>(method: string | MethodContract, args: any, options: CallOptions = {}): Observable<R> {
    if (typeof method !== 'string') return this.contracts.call$(method, args, options) as Observable<R>;
    return this.caller.call$<R>(method, args, options);
  }

  rpc<R = unknown>(method: string | MethodContract, ...args: unknown[]): Promise<R> {
    return firstValueFrom(this.call$<R>(method, args));
  }

  call<R = unknown>(method: string | MethodContract, args: any, options: CallOptions = {}): Promise<R> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return firstValueFrom(this.call$<R>(method, args, options)).catch((err: unknown) => {
      throw signal?.aborted ? signal.reason : err;
    });
  }

  expose(method: string | MethodContract, handler: Handler, options: ExposeOptions = {}): () => void {
    if (typeof method !== 'string') return this.contracts.expose(method, handler, options);
    validateMqttTopic(method);
    if (this.closed) return () => undefined;
    // MQTT 5 request/response has no cancel: the context's signal never aborts.
    const served: Handler = options.context !== true ? handler
      : (...args: unknown[]) => handler(...args, { signal: new AbortController().signal, method, stream: false });
    return this.exposer.expose(method, served);
  }

  // ---- built on RPC; no broker to ask, so no gather or presence ----------------------------

  /** Actions over MQTT: the result only (MQTT RPC has one response: no feedback, no cancel). */
  action$<F = unknown, R = unknown>(name: string, goal: unknown,
    options?: ActionOptions): Observable<ActionEvent<F, R>> {
    return action$<F, R>(this, name, goal, options);
  }

  exposeAction<G = any, F = unknown, R = unknown>(name: string, handler: ActionHandler<G, F, R>): () => void {
    return exposeAction(this, name, handler);
  }

  /** A contract's one-shot query runs over MQTT RPC; live queries and tables by name need a Rembus broker. */
  query$(target: string | TopicContract, options?: ContractQueryOptions & { live?: boolean }): Observable<any> {
    if (typeof target !== 'string' && options?.live !== true) return this.contracts.query$(target, options);
    return throwError(() => new NotSupportedError('query$ on an MQTT component (schema tables live on a Rembus broker)'));
  }

  gather$<R = unknown>(_method: string, _args: unknown[], _options?: GatherOptions): Observable<GatherReply<R>> {
    return throwError(() => new NotSupportedError('gather$ on an MQTT component'));
  }

  reactive(): Promise<void> {
    return Promise.reject(new NotSupportedError('reactive on an MQTT component'));
  }

  unreactive(): Promise<void> {
    return Promise.reject(new NotSupportedError('unreactive on an MQTT component'));
  }

  presence$(): Observable<PresenceState> {
    return throwError(() => new NotSupportedError('presence$ on an MQTT component'));
  }

  services$(_pattern: string): Observable<PresenceState> {
    return throwError(() => new NotSupportedError('services$ on an MQTT component'));
  }

  whenAvailable$(_method: string): Observable<string> {
    return throwError(() => new NotSupportedError('whenAvailable$ on an MQTT component'));
  }

  // ---- teardown ---------------------------------------------------------------------------

  close(): Promise<void> {
    if (!this.closed) {
      this.session.status.next({ type: 'closed' });
      this.shutdown(new ConnectionClosedError('component closed'));
    }
    return this.session.end();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.log.error({ err: errorText(err) }, 'component stopped');
    this.session.status.next({ type: 'down', error: err });
    this.shutdown(err);
  }

  private shutdown(reason: unknown): void {
    this.closed = true;
    this.contracts.close();
    void this.session.end();
    this.settleReady(reason);
    this.caller.failAll(reason);
    this.publisher.end(reason);
    this.streams.end(reason instanceof ConnectionClosedError ? undefined : reason);
  }
}
