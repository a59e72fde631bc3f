/**
 * The component: a reconnecting client of a broker. Topics are shared hot streams, RPC calls
 * cold streams; the Promise helpers wrap them. Inbound frames go to their stage in inbound.ts,
 * the component's own requests (login, declarations, key, admin) are session-requests.ts.
 */
import {
  catchError, concat, defer, EMPTY, fromEvent, lastValueFrom, type Observable, ReplaySubject, share, takeUntil, throwError,
} from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { AuthError, ConnectionClosedError } from '../errors.js';
import { errorText, silentLogger } from '../internal/logger.js';
import type { Msg, MsgId, ResponseMsg } from '../protocol/messages.js';
import { validatePattern, validateTopic } from '../topic/validate.js';
import type {
  ActionEvent, ActionHandler, ActionOptions, CallOptions, ExposeOptions, GatherOptions, GatherReply, Handler, Logger,
  PresenceState, Status, SubscribeOptions,
} from '../types.js';
import { identify$, register$, unregister$ } from './auth.js';
import type { ClientSession } from './connection.js';
import { Lifecycle } from './lifecycle.js';
import { Requests } from './requests.js';
import { inbound } from './inbound.js';
import { SessionRequests } from './session-requests.js';
import { lastAnswer } from './answer.js';
import { action$, exposeAction } from './action.js';
import { gather$ } from './gather.js';
import { liveQuery$, oneShotQuery$, type LiveQueryOptions, type QueryOptions } from './query.js';
import { presence$, services$, whenAvailable$ } from './presence.js';
import { Declarations } from './declarations.js';
import { shareTopic, validateGroup } from '../protocol/share.js';
import { Reactivity } from './reactivity.js';
import { Subscriptions } from './subscriptions.js';
import { Serving, withContext } from './serve.js';
import { Publisher } from './publisher.js';
import type { PublishOptions } from './publish-options.js';
import type { Component, ComponentKey, ComponentOptions } from './types.js';
import { ContractSupport } from '../contracts/support.js';
import type { TopicContract } from '../contracts/topic.js';
import type { MethodContract } from '../contracts/method.js';
import { ContractTableError, type ContractQueryOptions } from '../contracts/query.js';
import { parseComponentUrls } from './url.js';

export class ComponentImpl implements Component {
  readonly name: string | undefined;
  private readonly log: Logger;
  private readonly requestTimeout: number;
  readonly status$: Observable<Status>;
  /** Links, login, status, the session up and the one past its login. */
  private readonly lifecycle: Lifecycle;
  private readonly exposed = new Map<string, Handler>();
  private readonly requests = new Requests();
  /** The component's own requests: login, declarations, key, admin (session-requests.ts). */
  private readonly own: SessionRequests;
  /** Calls this component serves (handlers released on cancel or link loss). */
  private readonly serving = new Serving();
  private presence: Observable<PresenceState> | undefined;
  private readonly key: ComponentKey | undefined;
  private readonly publisher: Publisher;
  private readonly declarations: Declarations;
  private readonly subscriptions: Subscriptions;
  private readonly reactivity: Reactivity;
  /** Each decoded frame of a session to its stage (inbound.ts). */
  private readonly onFrame: (session: ClientSession, frame: Frame) => void;
  private closed = false;
  /** Typed contracts (src/contracts): invalid values, validated streams. */
  private readonly contracts = new ContractSupport(this);
  readonly invalid$ = this.contracts.invalid$;

  constructor(url: string | readonly string[], options: ComponentOptions = {}) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const addresses = parseComponentUrls(url, options.baseUrl ?? env?.['REMBUS_BASE_URL']);
    this.name = addresses[0]!.name;
    this.log = options.logger ?? silentLogger;
    this.requestTimeout = options.requestTimeout ?? 10_000;
    this.own = new SessionRequests(this.requests, () => this.lifecycle.current, this.requestTimeout);
    this.lifecycle = new Lifecycle(this.log, {
      onFrame: (session, frame) => this.onFrame(session, frame),
      identify$: (session) => this.name === undefined ? EMPTY
        : identify$((msg, what) => this.own.on$(session, msg, what), this.name, this.key),
      restore$: (session) => this.restore$(session),
      up: (session) => this.publisher.flush(session),
      down: (session, error) => {
        this.requests.sessionDown(session, error);
        this.serving.sessionDown(session);
      },
      stop: (err) => this.shutdown(err),
    });
    this.status$ = this.lifecycle.status$;
    const current = (): ClientSession | null => this.lifecycle.current;
    this.declarations = new Declarations((session, msg, what) => this.own.on$(session, msg, what), current, this.log,
      (topic) => this.subscriptions.confirmed(topic));
    this.subscriptions = new Subscriptions({ declarations: this.declarations, current, isClosed: () => this.closed });
    this.reactivity = new Reactivity((session, topic, cmd) => this.declarations.admin$(session, topic, cmd), current,
      options.metadata === true);
    this.publisher = new Publisher(this.lifecycle.session$, {
      capacity: options.offlineCapacity ?? 10_000, overflow: options.offlineOverflow ?? 'error',
      ackTimeout: options.ackTimeout ?? 2_000, sendRetries: options.sendRetries ?? 10,
      maxInflight: options.maxInflight ?? 1_024, queueCapacity: options.inflightQueueCapacity ?? 100_000,
      log: this.log,
    }, () => this.closed);
    this.onFrame = inbound({ log: this.log, requests: this.requests, serving: this.serving, publisher: this.publisher,
      subscriptions: this.subscriptions, exposed: this.exposed });
    this.key = options.key;
    this.lifecycle.start(addresses.map((a) => a.url), options);
  }

  ready(): Promise<void> {
    return this.lifecycle.ready();
  }

  /** After a (re)connect, once identified: declare subscriptions and methods again, then ask for reactivity. */
  private restore$(session: ClientSession): Observable<unknown> {
    const declare$ = defer(() => this.declarations.redeclare$(session, this.subscriptions.redeclared(), this.exposed.keys()));
    const reactive$ = this.reactivity.login$(session).pipe(
      catchError((err: unknown) => {
        this.log.warn({ err: errorText(err) }, 'reactive refused');
        return EMPTY;
      }));
    return concat(declare$, reactive$);
  }

  // ---- requests ---------------------------------------------------------------------------

  /** REGISTER a key for `cid` on this (anonymous) connection; see `register()`. */
  register$(cid: string, pin: string, key: ComponentKey): Observable<void> {
    return register$((msg, what) => this.own.now$(msg, what), cid, pin, key);
  }

  /** One ADMIN request (spec §6) on the current session: its RESPONSE, whatever the status (admin.ts). */
  adminRequest(msg: Msg & { type: 'admin'; id: MsgId }): Promise<ResponseMsg> {
    return lastValueFrom(this.own.now$(msg, `admin ${String(msg.cmd['cmd'])}`));
  }

  unregister(): Promise<void> {
    if (this.name === undefined) return Promise.reject(new AuthError('an anonymous component has no key to unregister'));
    return lastValueFrom(unregister$((msg, what) => this.own.now$(msg, what), this.name));
  }

  // ---- public API -------------------------------------------------------------------------

  subscribe$(pattern: string | TopicContract, options: SubscribeOptions = {}): Observable<any> {
    if (typeof pattern !== 'string') return this.contracts.subscribe$(pattern, options);
    validatePattern(pattern);
    if (this.closed) return throwError(() => new ConnectionClosedError('component closed'));
    // A group subscription is its own stream, named with the group's spelling (README "Shared subscriptions").
    if (options.group !== undefined) pattern = shareTopic(validateGroup(options.group), pattern);
    return this.subscriptions.stream$(pattern, options.msgfrom ?? 0);
  }

  reactive(): Promise<void> {
    return lastValueFrom(this.reactivity.set$(true), { defaultValue: undefined });
  }

  unreactive(): Promise<void> {
    return lastValueFrom(this.reactivity.set$(false), { defaultValue: undefined });
  }

  publish(topic: string | TopicContract, ...args: any[]): void {
    if (typeof topic !== 'string') return this.contracts.publish(topic, args[0], args[1]);
    this.publisher.publish(topic, args);
  }

  publish$(topic: string | TopicContract, args: any = [], options: PublishOptions = {}, more?: PublishOptions): Observable<void> {
    if (typeof topic !== 'string') return this.contracts.publish$(topic, args, options, more);
    return this.publisher.publish$(topic, args, options);
  }

  publishAsync(topic: string | TopicContract, args: any = [], options: PublishOptions = {}, more?: PublishOptions): Promise<void> {
    return lastValueFrom(this.publish$(topic, args, options, more), { defaultValue: undefined });
  }

  rpc$(method: string | MethodContract, ...args: unknown[]): Observable<any> {
    return this.call$(method, args);
  }

  call$(method: string | MethodContract, args: any, options: CallOptions = {}): Observable<any> {
    if (typeof method !== 'string') return this.contracts.call$(method, args, options);
    validateTopic(method);
    // After close() session$ has completed: the call errors with ConnectionClosedError.
    const call$ = this.requests.call$(this.lifecycle.session$, {
      method, args, target: options.target ?? null, stream: options.stream ?? true,
      timeoutMs: options.timeout ?? this.requestTimeout,
    });
    const signal = options.signal;
    return signal === undefined ? call$ : call$.pipe(takeUntil(fromEvent(signal, 'abort')));
  }

  rpc(method: string | MethodContract, ...args: unknown[]): Promise<any> {
    return this.call(method, args);
  }

  call(method: string | MethodContract, args: any, options: CallOptions = {}): Promise<any> {
    return lastAnswer(this.call$(method, args, { ...options, stream: options.stream ?? false }), options.signal);
  }

  expose(method: string | MethodContract, handler: Handler, options: ExposeOptions = {}): () => void {
    if (typeof method !== 'string') return this.contracts.expose(method, handler, options);
    validateTopic(method);
    if (options.context === true) handler = withContext(handler);
    this.exposed.set(method, handler);
    this.declarations.declare(method, { cmd: 'expose' });
    return () => {
      if (this.exposed.get(method) !== handler) return;
      this.exposed.delete(method);
      if (!this.closed) this.declarations.withdraw(method, 'unexpose');
    };
  }

  action$<F = unknown, R = unknown>(name: string, goal: unknown,
    options?: ActionOptions): Observable<ActionEvent<F, R>> {
    return action$<F, R>(this, name, goal, options);
  }

  exposeAction<G = any, F = unknown, R = unknown>(name: string, handler: ActionHandler<G, F, R>): () => void {
    return exposeAction(this, name, handler);
  }

  /** A table by name (live or one-shot), or a contract's table (typed; live via its table name). */
  query$(target: string | TopicContract, options: QueryOptions | LiveQueryOptions | ContractQueryOptions = {}): Observable<any> {
    const live = (options as { live?: boolean }).live === true;
    if (typeof target !== 'string') {
      if (!live) return this.contracts.query$(target, options as ContractQueryOptions);
      const table = target.table?.name;
      if (table === undefined) return throwError(() => new ContractTableError(target.pattern));
      return liveQuery$(this, table, options as LiveQueryOptions);
    }
    return live ? liveQuery$(this, target, options as LiveQueryOptions) : oneShotQuery$(this, target, options as QueryOptions);
  }

  gather$<R = unknown>(method: string, args: unknown[], options: GatherOptions = {}): Observable<GatherReply<R>> {
    validateTopic(method);
    return gather$<R>(this, method, args, options, this.requestTimeout);
  }

  presence$(): Observable<PresenceState> {
    return this.presence ??= presence$(this).pipe(
      share({ connector: () => new ReplaySubject<PresenceState>(1), resetOnRefCountZero: true }));
  }

  services$(pattern: string): Observable<PresenceState> {
    return services$(this.presence$(), pattern);
  }

  whenAvailable$(method: string): Observable<string> {
    return whenAvailable$(this.presence$(), method);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.lifecycle.closing();
      this.shutdown(new ConnectionClosedError('component closed'));
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private shutdown(reason: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.lifecycle.stop(reason);
    this.requests.failAll(reason);
    this.serving.clear();
    this.subscriptions.end(reason, !(reason instanceof ConnectionClosedError));
    this.publisher.clear();
    this.contracts.close();
    this.lifecycle.complete();
  }
}
