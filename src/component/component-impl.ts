/**
 * The component: a reconnecting client of a broker. Topics are shared hot streams, RPC calls
 * cold streams; the Promise helpers wrap them.
 */
import {
  BehaviorSubject, defer, from, lastValueFrom, fromEvent, Observable, share,
  Subject, takeUntil, throwError, concat, ignoreElements, catchError,
  EMPTY, finalize, ReplaySubject, type Subscription,
} from 'rxjs';
import { dedupeById } from '../../operators/dedupe-by-id.js';
import type { Frame } from '../codec/wire.js';
import {
  AuthError, ConnectionClosedError, NameTakenError, RpcTimeoutError, TwinLimitError, UnsupportedSchemeError,
} from '../errors.js';
import { errorText, silentLogger } from '../internal/logger.js';
import {
  STATUS, slotOf, type Msg, type MsgId, type PubMsg, type ResponseMsg, type RpcMsg,
} from '../protocol/messages.js';
import { isPattern, validatePattern, validateTopic } from '../topic/validate.js';
import { platform } from '#platform';
import type {
  ActionEvent, ActionHandler, ActionOptions, CallOptions, ExposeOptions, GatherOptions, GatherReply, Handler, Logger,
  Message, PresenceState, QoS, Status, SubscribeOptions,
} from '../types.js';
import { identify$, register$, unregister$ } from './auth.js';
import type { ClientSession } from './connection.js';
import { frames } from './frames.js';
import { links$ } from './links.js';
import { dataOrUndefined, Requests } from './requests.js';
import { lastAnswer } from './answer.js';
import { action$, exposeAction } from './action.js';
import { gather$ } from './gather.js';
import { liveQuery$, oneShotQuery$, type LiveQueryEvent, type LiveQueryOptions, type QueryOptions } from './query.js';
import { presence$, services$, whenAvailable$ } from './presence.js';
import { Declarations, subscribeCmd } from './declarations.js';
import { SHARE_PREFIX, shareOf, shareTopic, validateGroup } from '../protocol/share.js';
import { Reactivity } from './reactivity.js';
import { RetainedCache } from './retained-cache.js';
import { withMeta } from './message-meta.js';
import { retainedMerge } from '../../operators/retained-merge.js';
import { LeanSubject } from '../internal/lean-subject.js';
import type { PubMeta } from '../protocol/pub-meta.js';
import { Serving, withContext } from './serve.js';
import { Publisher, type PublishOptions } from './publisher.js';
import type { Component, ComponentKey, ComponentOptions, Dialer } from './types.js';
import { ContractSupport } from '../contracts/support.js';
import type { TopicContract } from '../contracts/topic.js';
import type { MethodContract } from '../contracts/method.js';
import { ContractTableError, type ContractQueryOptions } from '../contracts/query.js';
import { parseComponentUrls, type ComponentAddress } from './url.js';

/** `pending`: a replaying subscription awaiting its subscribe's answer; what comes before it the replay sends again. */
interface TopicEntry { subject: Subject<Message>; msgFrom: number; pending: boolean; retained: RetainedCache }

/** Capacity of the QoS2 de-duplication set (ids awaiting ACK2); oldest evicted past it. */
const QOS2_SEEN_CAPACITY = 100_000;

export class ComponentImpl implements Component {
  readonly name: string | undefined;
  private readonly address: ComponentAddress;
  private readonly log: Logger;
  private readonly requestTimeout: number;
  private readonly statusSubject = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  readonly status$: Observable<Status> = this.statusSubject.asObservable();
  private readonly session$ = new BehaviorSubject<ClientSession | null>(null);
  private readonly topics = new Map<string, TopicEntry>();
  private readonly streams = new Map<string, Observable<Message>>();
  private readonly exposed = new Map<string, Handler>();
  private readonly requests = new Requests();
  /** Calls this component serves (handlers released on cancel or link loss). */
  private readonly serving = new Serving();
  private presence: Observable<PresenceState> | undefined;
  /** The request table (read by tests to prove no entry outlives its call). */
  private readonly pending: { readonly size: number } = this.requests.pending;
  private readonly key: ComponentKey | undefined;
  private readonly publisher: Publisher;
  /** QoS2 ids delivered and not yet released by ACK2; kept across reconnects (spec §4.2). */
  private readonly qos2Seen = new Set<MsgId>();
  private readonly qos2$ = new Subject<PubMsg>();
  private readonly ack2$ = new Subject<MsgId>();
  private readonly declarations: Declarations;
  private readonly reactivity: Reactivity;
  private readonly connection: Subscription;
  private readonly readyPromise: Promise<void>;
  private settleReady!: (err?: unknown) => void;
  /** The session past its login, where declarations go (set before re-declaring, spec §3.1). */
  private current: ClientSession | null = null;
  private wasUp = false;
  private closed = false;
  /** Typed contracts (src/contracts): invalid values, validated streams. */
  private readonly contracts = new ContractSupport(this);
  readonly invalid$ = this.contracts.invalid$;

  constructor(url: string | readonly string[], options: ComponentOptions = {}) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const addresses = parseComponentUrls(url, options.baseUrl ?? env?.['REMBUS_BASE_URL']);
    this.address = addresses[0]!;
    this.name = this.address.name;
    this.log = options.logger ?? silentLogger;
    this.requestTimeout = options.requestTimeout ?? 10_000;
    this.declarations = new Declarations((session, msg, what) => this.request$(session, msg, what), () => this.current, this.log,
      (topic) => { const e = this.topics.get(topic); if (e !== undefined) e.pending = false; });
    this.reactivity = new Reactivity((session, topic, cmd) => this.declarations.admin$(session, topic, cmd), () => this.current,
      options.metadata === true);
    this.publisher = new Publisher(this.session$, {
      capacity: options.offlineCapacity ?? 10_000, overflow: options.offlineOverflow ?? 'error',
      ackTimeout: options.ackTimeout ?? 2_000, sendRetries: options.sendRetries ?? 10,
      maxInflight: options.maxInflight ?? 1_024, queueCapacity: options.inflightQueueCapacity ?? 100_000,
      log: this.log,
    }, () => this.closed);
    this.qos2$.pipe(dedupeById({ key: (m: PubMsg) => m.id!, clear$: this.ack2$, seen: this.qos2Seen, capacity: QOS2_SEEN_CAPACITY }))
      .subscribe((m) => this.deliver(m));
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.readyPromise.catch(() => undefined);
    const connectTimeout = options.connectTimeout ?? 10_000;
    this.key = options.key;
    const ca = options.ca;
    const pingInterval = options.pingInterval ?? 30_000; // the reference clients' 30 s (spec §1)
    const dial: Dialer = options.dial ?? ((u) => platform.dial(u, ca === undefined ? { connectTimeout, pingInterval } : { connectTimeout, ca, pingInterval }));
    const { initialDelay = 250, maxDelay = 5_000, maxRetries = Infinity, jitter = 0.5, failback = 10_000 } = options.reconnect ?? {};
    this.connection = links$(addresses.map((a) => a.url), dial, {
      onFrame: (session, frame) => this.onFrame(session, frame),
      login$: (session) => this.login$(session),
      onDown: (session, error) => this.onDown(session, error),
    }, {
      initialDelay, maxDelay, maxRetries, jitter, failback,
      isFatal: (err) => this.isFatal(err),
      onRetry: (attempt, delayMs, error, next) => {
        this.log.info({ attempt, delayMs, url: next, err: errorText(error) }, 'reconnecting');
        this.statusSubject.next({ type: 'reconnecting', attempt, delayMs, error });
      },
    }).subscribe({ next: (session) => this.onUp(session), error: (err: unknown) => this.fail(err) });
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  // ---- connection -------------------------------------------------------------------------

  private isFatal(err: unknown): boolean {
    // A name still held by our own dropped link is retried once we have been up (spec §3.6).
    if (err instanceof TwinLimitError || err instanceof UnsupportedSchemeError) return true;
    return err instanceof AuthError || (err instanceof NameTakenError && !this.wasUp);
  }

  private login$(session: ClientSession): Observable<unknown> {
    const identity$ = this.name === undefined ? EMPTY
      : identify$((msg, what) => this.request$(session, msg, what), this.name, this.key);
    // After a (re)connect the component declares its subscriptions and methods again.
    const declare$ = defer(() => this.declarations.redeclare$(session, [...this.topics].map(([topic, e]): [string, number] => {
      e.pending = e.msgFrom !== 0;
      return [topic, e.msgFrom];
    }), this.exposed.keys()));
    const reactive$ = this.reactivity.login$(session).pipe(
      catchError((err: unknown) => {
        this.log.warn({ err: errorText(err) }, 'reactive refused');
        return EMPTY;
      }));
    const identified$ = defer(() => {
      this.current = session;
      return EMPTY;
    });
    return concat(identity$, identified$, declare$, reactive$).pipe(ignoreElements());
  }

  private onUp(session: ClientSession): void {
    this.wasUp = true;
    this.publisher.flush(session);
    this.statusSubject.next({ type: 'up', url: session.url });
    this.session$.next(session);
    this.settleReady();
  }

  private onDown(session: ClientSession, error: unknown): void {
    if (this.session$.value === session) this.session$.next(null);
    if (this.current === session) this.current = null;
    this.requests.sessionDown(session, error);
    this.serving.sessionDown(session);
    if (!this.closed) this.statusSubject.next({ type: 'down', error });
  }

  private fail(err: unknown): void {
    this.log.error({ err: errorText(err) }, 'component stopped');
    this.statusSubject.next({ type: 'down', error: err });
    this.shutdown(err);
  }

  // ---- inbound ----------------------------------------------------------------------------

  private onFrame(session: ClientSession, frame: Frame): void {
    let msg: Msg;
    try {
      msg = session.decode(frame);
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'frame dropped');
      return;
    }
    switch (msg.type) {
      case 'response':
        if (msg.stream === 'cancel') return void this.serving.cancel(session, msg.id);
        if (this.requests.resolve(session, msg) || this.publisher.refused(msg.id, dataOrUndefined(msg))) return;
        this.log.debug({ id: msg.id.toString(16) }, 'response with unknown id ignored');
        return;
      case 'pub': return this.onPublish(session, msg);
      case 'rpc': return this.onRpc(session, msg);
      case 'ack': return this.publisher.acks$.next(msg.id);
      case 'ack2': return this.ack2$.next(msg.id);
      default:
        this.log.debug({ type: msg.type }, 'unexpected message ignored');
    }
  }

  private onPublish(session: ClientSession, msg: PubMsg): void {
    const qos = msg.flags & 0x30;
    if (msg.topic.startsWith(SHARE_PREFIX) && !this.topics.has(msg.topic)) {
      // A copy for a group left: not ACKed, so the broker gives it to another member — unless
      // it is a QoS2 message this component already has (then the ACK says so, spec §4.2).
      if (qos === 0x30 && msg.id !== undefined && this.qos2Seen.has(msg.id)) session.send({ type: 'ack', id: msg.id });
      return;
    }
    if (qos !== 0 && msg.id !== undefined) {
      // ACK every copy first; QoS2 copies already delivered are dropped until ACK2 (spec §4.2).
      session.send({ type: 'ack', id: msg.id });
      // One no subscription takes yet is not remembered: the replay sends it again (a cluster's
      // ACK2 waits for the shared mark, so that copy could otherwise come while its id is held).
      if (qos === 0x30) return this.taking(msg.topic) ? this.qos2$.next(msg) : undefined;
    }
    this.deliver(msg);
  }

  /** Would `deliver` hand a message on `topic` to a subscription now? */
  private taking(topic: string): boolean {
    const entry = this.topics.get(topic);
    if (entry !== undefined && !entry.pending) return true;
    const all = this.topics.get('*');
    return all !== undefined && !all.pending && !isPattern(topic) && !topic.startsWith(SHARE_PREFIX);
  }

  private deliver(msg: PubMsg): void {
    const args = frames.decodeArgs(msg.args); // tag 80 → DataFrame (spec §7, top level)
    const qos = msg.flags & 0x30;
    const qosLevel: QoS = qos === 0x30 ? 2 : qos === 0x10 ? 1 : 0;
    const slot = slotOf(msg);
    const entry = this.topics.get(msg.topic);
    if (entry !== undefined && !entry.pending) {
      // A wildcard delivery carries the pattern as topic and the real topic first (spec §4.5).
      const wildcard = isPattern(msg.topic) && msg.topic !== '*' && typeof args[0] === 'string';
      const share = msg.topic.startsWith(SHARE_PREFIX) ? shareOf(msg.topic, {}) : undefined;
      emit(entry, message(wildcard ? args[0] as string : share?.pattern ?? msg.topic,
        wildcard ? args.slice(1) : args, share?.pattern ?? msg.topic, qosLevel, slot, msg.meta), msg.meta);
    }
    const all = this.topics.get('*');
    if (all !== undefined && all !== entry && !all.pending && !isPattern(msg.topic) && !msg.topic.startsWith(SHARE_PREFIX)) {
      emit(all, message(msg.topic, args, '*', qosLevel, slot, msg.meta), msg.meta);
    }
  }

  private onRpc(session: ClientSession, msg: RpcMsg): void {
    this.serving.serve(session, msg, this.exposed.get(msg.topic));
  }

  // ---- requests ---------------------------------------------------------------------------

  private request$(session: ClientSession, msg: Msg & { id: MsgId }, what: string,
    timeoutMs = this.requestTimeout): Observable<ResponseMsg> {
    return this.requests.request$(session, msg, timeoutMs, () => new RpcTimeoutError(what, timeoutMs));
  }

  /** One request on the session past its login; ConnectionClosedError when there is none. */
  private requestNow$(msg: Msg & { id: MsgId }, what: string): Observable<ResponseMsg> {
    return defer(() => {
      const session = this.current;
      if (session === null) return throwError(() => new ConnectionClosedError(`${what}: not connected`));
      return this.request$(session, msg, what);
    });
  }

  /** REGISTER a key for `cid` on this (anonymous) connection; see `register()`. */
  register$(cid: string, pin: string, key: ComponentKey): Observable<void> {
    return register$((msg, what) => this.requestNow$(msg, what), cid, pin, key);
  }

  /** One ADMIN request (spec §6) on the current session: its RESPONSE, whatever the status (admin.ts). */
  adminRequest(msg: Msg & { type: 'admin'; id: MsgId }): Promise<ResponseMsg> {
    return lastValueFrom(this.requestNow$(msg, `admin ${String(msg.cmd['cmd'])}`));
  }

  unregister(): Promise<void> {
    if (this.name === undefined) return Promise.reject(new AuthError('an anonymous component has no key to unregister'));
    return lastValueFrom(unregister$((msg, what) => this.requestNow$(msg, what), this.name));
  }

  // ---- public API -------------------------------------------------------------------------

  subscribe$(pattern: string | TopicContract, options: SubscribeOptions = {}): Observable<any> {
    if (typeof pattern !== 'string') return this.contracts.subscribe$(pattern, options);
    validatePattern(pattern);
    if (this.closed) return throwError(() => new ConnectionClosedError('component closed'));
    // A group subscription is its own stream, named with the group's spelling (README "Shared subscriptions").
    if (options.group !== undefined) pattern = shareTopic(validateGroup(options.group), pattern);
    let stream = this.streams.get(pattern);
    if (stream === undefined) {
      const msgFrom = options.msgfrom ?? 0;
      stream = defer(() => {
        const entry: TopicEntry = { subject: new LeanSubject<Message>(), msgFrom, pending: msgFrom !== 0 && this.current !== null,
          retained: new RetainedCache() };
        this.topics.set(pattern, entry);
        this.declarations.declare(pattern, subscribeCmd(msgFrom), (err) => entry.subject.error(err));
        return entry.subject;
      }).pipe(
        finalize(() => {
          this.topics.delete(pattern);
          this.streams.delete(pattern);
          if (!this.closed) this.declarations.withdraw(pattern, 'unsubscribe');
        }),
        share({ connector: () => new LeanSubject<Message>(), resetOnRefCountZero: true, resetOnComplete: true, resetOnError: true }),
        // A later local subscriber first gets the retained values this subscription received.
        retainedMerge(defer(() => from(this.topics.get(pattern)?.retained.snapshot() ?? [])), { key: (m) => m.id ?? m }),
      );
      this.streams.set(pattern, stream);
    }
    return stream;
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
    validateTopic(topic);
    const msg = this.publisher.message(topic, args, options);
    if ((msg.flags & 0x30) !== 0) return this.publisher.acked$(msg);
    return defer(() => {
      if (this.closed) return throwError(() => new ConnectionClosedError('component closed'));
      this.publisher.send(msg);
      return EMPTY;
    });
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
    const call$ = this.requests.call$(this.session$, {
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
      this.statusSubject.next({ type: 'closed' });
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
    this.connection.unsubscribe();
    this.settleReady(reason);
    this.requests.failAll(reason);
    this.serving.clear();
    const fatal = !(reason instanceof ConnectionClosedError);
    for (const entry of [...this.topics.values()]) {
      if (fatal) entry.subject.error(reason);
      else entry.subject.complete();
    }
    this.publisher.clear();
    this.contracts.close();
    this.qos2$.complete();
    this.ack2$.complete();
    this.session$.complete();
    this.statusSubject.complete();
  }
}

function message(topic: string, args: unknown[], pattern: string, qos: QoS, slot: number | undefined, meta?: PubMeta): Message {
  const m: Message = slot === undefined ? { topic, args, pattern, qos } : { topic, args, pattern, qos, slot };
  return meta === undefined ? m : withMeta(m, meta);
}

/** Deliver to a subscription; metadata first updates its retained values (a retained value seen before is dropped). */
function emit(entry: TopicEntry, m: Message, meta: PubMeta | undefined): void {
  if (meta === undefined || entry.retained.note(m, meta)) entry.subject.next(m);
}
