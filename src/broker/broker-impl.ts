/**
 * The broker: link → decode → dispatch (connections.ts, intake.ts); publishes take the publish
 * path (log → route → fan-out → `messages$` for the stages downstream, publish-path.ts), ADMIN
 * messages admin-requests.ts. This file assembles the stages and holds the broker's own API.
 * `handle(link)` accepts any Link; the WebSocket server adapter (ws-server.ts) only feeds it.
 */
import type { SchedulerLike } from 'rxjs';
import { Subject, Subscription } from '../internal/rx.js';
import { LeanSubject } from '../internal/lean-subject.js';
import { housekeeping, now as clockNow, soon, type Cancel } from '../internal/clock.js';
import { errorText, silentLogger } from '../internal/logger.js';
import type { ClusterHooks, SharedTwins } from '../cluster/cluster-host.js';
import { STATUS, type MsgId, type PubMsg } from '../protocol/messages.js';
import { createAuthenticator, type Authenticator } from '../security/authenticator.js';
import { warnAdminsWithoutCredentials } from '../security/admin-audit.js';
import { memorySecurityStore } from '../security/memory-store.js';
import { StoreFailedError } from '../store/errors.js';
import { memoryStore } from '../store/memory-store.js';
import type { Store } from '../store/types.js';
import type { Link } from '../transport/link.js';
import type { Handler, Logger } from '../types.js';
import { brokerConfig, setDebug, type BrokerControl } from './admin.js';
import { AdminRequests } from './admin-requests.js';
import { Connections } from './connections.js';
import { FlowControl } from './flow-control.js';
import { Guard, type Publisher } from './guard.js';
import { Intake } from './intake.js';
import { DEFAULT_LOGIN_TIMEOUT, Login } from './login.js';
import { LogBound } from './log-bound.js';
import { MessageLog } from './message-log.js';
import { DEFAULT_MAX_INFLIGHT } from './outbox.js';
import { Groups } from './groups.js';
import { Replays } from './replay.js';
import { Router } from './router.js';
import { metaPolicy } from './meta-frames.js';
import type { PublishOptionsIn } from './pub-options.js';
import { RetainedValues } from './retained.js';
import { Presence } from './presence.js';
import { PublishPath } from './publish-path.js';
import { RpcRouting, type CallerAwareHandler } from './rpc-routing.js';
import { TwinPersistence } from './twin-persistence.js';
import { DEFAULT_MAX_TWINS, DEFAULT_TWIN_TTL, TwinRegistry } from './twin-registry.js';
import type { Session, Twin } from './twin.js';
import type { BrokerOptions, BrokerStats, Published } from './types.js';
import { ContractIngest } from '../contracts/ingest.js';
import { deadLetters } from './dead-letter.js';

const VERSION = 'typescript_0.1.0';
/** Default of `maxBufferedBytes`: unread bytes a peer may leave before it is cut as a slow consumer. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export class BrokerImpl {
  readonly name: string;
  readonly log: Logger;
  readonly router: Router;
  readonly messages$ = new LeanSubject<Published>();
  /** Each session as it ends (live queries release theirs). */
  readonly detached$ = new Subject<Session>();
  private readonly named = new Map<string, Twin>();
  private readonly sessions = new Map<Session, Subscription>();
  private readonly store: Store;
  private readonly messageLog: MessageLog;
  private readonly logBound: LogBound;
  private readonly twins: TwinPersistence;
  private readonly opts: Required<Pick<BrokerOptions,
    'requestTimeout' | 'ackTimeout' | 'sendRetries' | 'outboxCapacity' | 'reactiveWait' | 'retention' | 'maxBufferedBytes'>>;
  readonly auth: Authenticator;
  readonly guard: Guard;
  /** The contract check of `broker({ contracts })`, if any (src/contracts/ingest.ts). */
  readonly ingest: ContractIngest<Publisher> | undefined;
  private readonly rpc: RpcRouting;
  private readonly presence: Presence;
  private readonly login: Login;
  private readonly admins: readonly string[];
  /** Called by the `shutdown` admin command; the factory closes the listener too. */
  onShutdown: () => void = () => void this.close();
  private readonly timers: Cancel[] = [];
  private readonly started: number;
  private readonly scheduler: SchedulerLike | undefined;
  closed = false;
  /** Why the broker stopped by itself, when it did. */
  failure: StoreFailedError | undefined;
  private readonly maxInflight: number | undefined;
  private readonly flow: FlowControl;
  private readonly publishes: PublishPath;
  private readonly replays: Replays;
  private readonly registry: TwinRegistry;
  /** Retained values and delivery metadata (retained.ts, meta-frames.ts). */
  readonly retained: RetainedValues;
  /** Links to detach (connections.ts); their frames go through the intake (intake.ts). */
  private readonly connections: Connections;

  constructor(options: BrokerOptions) {
    this.name = options.name ?? 'broker';
    this.log = options.logger ?? silentLogger;
    const { scheduler } = options;
    this.scheduler = scheduler;
    this.started = clockNow(scheduler);
    this.router = new Router(options.requireReactive ?? false);
    this.opts = {
      requestTimeout: options.requestTimeout ?? 10_000, ackTimeout: options.ackTimeout ?? 2_000,
      sendRetries: options.sendRetries ?? 10, outboxCapacity: options.outboxCapacity ?? 10_000,
      reactiveWait: options.reactiveWait ?? 2_000, retention: options.retention ?? 86_400_000,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    };
    this.auth = createAuthenticator(options.security ?? memorySecurityStore(),
      { mode: options.auth ?? 'optional', openTenants: options.openTenants ?? [] });
    this.guard = new Guard(this.auth);
    this.rpc = new RpcRouting({
      name: this.name, log: this.log, router: this.router, guard: this.guard,
      named: (cid) => this.named.get(cid),
      reply: (session, id, status, data) => this.reply(session, id, status, data), scheduler,
    }, this.opts.requestTimeout, options.rpcPolicy);
    this.presence = new Presence({ router: this.router, guard: this.guard, twins: () => this.named.values(),
      logHead: () => this.messageLog.head });
    this.presence.register(this.rpc);
    this.admins = options.admins ?? [];
    this.login = new Login({
      auth: this.auth, log: this.log, loginTimeout: options.loginTimeout ?? DEFAULT_LOGIN_TIMEOUT,
      isConnected: (cid) => this.named.get(cid)?.session != null,
      holder: (cid) => this.named.get(cid)?.session ?? undefined,
      evict: (session, dead) => {
        session.link.close(1008, 'name taken over by a connection that proved its key');
        // A dead peer would never complete the closing handshake: free the socket now.
        if (dead) session.link.abort?.();
        this.connections.detach(session);
      },
      isLive: (session) => this.sessions.has(session) && session.link.isOpen,
      bindName: (session, cid) => this.connections.bindName(session, cid),
      admit: (cid) => this.registry.admit(cid),
      reply: (session, id, status, data) => this.reply(session, id, status, data), scheduler,
    });
    this.maxInflight = options.maxInflight;
    this.flow = new FlowControl(options.flowControl ?? {}, this.opts.maxBufferedBytes, this.log,
      scheduler === undefined ? Date.now : () => scheduler.now(), scheduler);
    this.router.groups = new Groups({ window: this.maxInflight ?? DEFAULT_MAX_INFLIGHT, capacity: this.opts.outboxCapacity,
      behind: (s) => this.flow.isBehind(s), requireReactive: options.requireReactive ?? false, log: this.log.child({ component: 'groups' }) });
    this.store = options.store ?? memoryStore(options.maxLogBytes === undefined ? {} : { maxBytes: options.maxLogBytes });
    this.twins = new TwinPersistence(this.store);
    this.logBound = new LogBound(this.store, options.maxLogBytes, this.log, (oldest) => this.registry.behind(oldest));
    this.messageLog = new MessageLog(this.store, options.archiverInterval ?? 1_000, options.logCapacity ?? 1_000_000,
      this.log, { collect: () => this.twins.collect(), onFatal: (err) => this.storeFailed(err), scheduler,
        committed: () => this.logBound.check(),
        ...(options.storeFailureTimeout === undefined ? {} : { failureTimeout: options.storeFailureTimeout }) });
    const deadLetter = options.deadLetter;
    this.ingest = options.contracts === undefined ? undefined : new ContractIngest(options.contracts, deadLetter === undefined
      ? undefined : deadLetters(deadLetter, () => this.publishes));
    this.retained = new RetainedValues(this.auth, this.log, options.retained);
    this.publishes = new PublishPath({ ingest: this.ingest, guard: this.guard, messageLog: this.messageLog, router: this.router, flow: this.flow,
      messages$: this.messages$, log: this.log, retained: this.retained });
    this.replays = new Replays({ log: this.messageLog, logger: this.log, reactiveWait: this.opts.reactiveWait,
      admits: (twin) => this.guard.replayable(twin), scheduler,
      gap: (twin, session, admits, maxPeriod) => this.sharedTwins?.gap(twin, session, admits, maxPeriod) });
    this.registry = new TwinRegistry({ named: this.named, router: this.router, store: this.store, log: this.log,
      ttl: options.twinTtl ?? DEFAULT_TWIN_TTL, maxTwins: options.maxTwins ?? DEFAULT_MAX_TWINS,
      forget: (twin) => this.twins.forget(twin), scheduler });
    const admin = new AdminRequests({ auth: this.auth, guard: this.guard, router: this.router, messageLog: this.messageLog,
      retained: this.retained, presence: this.presence, replays: this.replays, twins: this.twins,
      metaPolicy: metaPolicy(this.auth, options.publisherNames ?? true), control: this.control,
      reply: (session, id, status, data) => this.reply(session, id, status, data) });
    const intake = new Intake({ guard: this.guard, publishes: this.publishes, rpc: this.rpc, admin, login: this.login,
      log: this.log, sessions: this.sessions });
    this.connections = new Connections({ named: this.named, sessions: this.sessions, router: this.router, twins: this.twins,
      registry: this.registry, presence: this.presence, replays: this.replays, rpc: this.rpc, flow: this.flow,
      messageLog: this.messageLog, login: this.login, intake, detached$: this.detached$, log: this.log,
      opts: this.opts, scheduler, maxInflight: this.maxInflight, sharedTwins: () => this.sharedTwins });
    this.every(this.registry.sweepInterval, () => void this.registry.sweep());
    this.every(Math.min(1000, this.opts.requestTimeout), () => this.rpc.sweep(clockNow(scheduler)));
    this.every(1_000, () => this.logBound.sweep());
    this.every(60_000, () => void this.messageLog.prune(this.opts.retention).catch((err: unknown) =>
      this.log.warn({ err: errorText(err) }, 'log pruning failed')));
    this.rpc.local.set('rid', () => this.name);
    this.rpc.local.set('version', () => VERSION);
    this.rpc.local.set('uptime', () => `up for ${Math.floor((clockNow(this.scheduler) - this.started) / 1000)} seconds`);
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(housekeeping(this.scheduler, ms, fn));
  }

  /** Restore the durable state: the log clock and every named twin (spec §3.1 step 4). */
  async start(): Promise<void> {
    if (this.admins.length > 0) await this.auth.store.addAdmins(this.admins);
    await warnAdminsWithoutCredentials(this.auth.store, this.log);
    await this.messageLog.init();
    await this.logBound.start();
    await this.retained.restore(this.store);
    for (const twin of await this.twins.load()) {
      this.named.set(twin.name, twin);
      this.registry.offline(twin);
      for (const [topic, msgFrom] of twin.subscriptions) this.router.subscribe(twin, topic, msgFrom);
      for (const method of twin.exposed) this.router.expose(twin, method);
    }
  }

  handle(link: Link): void {
    if (this.closed) {
      link.close(1001, 'broker closed');
      return;
    }
    this.connections.open(link);
  }

  expose(method: string, handler: Handler): () => void {
    this.rpc.local.set(method, handler);
    return () => {
      if (this.rpc.local.get(method) === handler) this.rpc.local.delete(method);
    };
  }

  /** {@link expose} for a handler told who calls it (live queries). */
  exposeAware(method: string, handler: CallerAwareHandler): () => void {
    this.rpc.callerAware.set(method, handler);
    return () => { if (this.rpc.callerAware.get(method) === handler) this.rpc.callerAware.delete(method); };
  }

  /** Publish from the broker itself (local producers), or as `publisher` for the tenant checks (the MQTT bridge's, mqtt-host.ts). */
  publish(topic: string, args: unknown[], origin = '', options?: PublishOptionsIn, publisher?: string): void {
    this.publishes.accept(null, { type: 'pub', flags: 0, topic, args }, null, origin, options, publisher);
  }

  /**
   * A publish from another broker of the cluster (src/cluster): logged and routed, `from`
   * skipped; `publisher` names its publisher for the tenant checks when `from` is not here.
   */
  inject(msg: PubMsg, origin: string, from: Twin | null, publisher?: string): void {
    this.publishes.accept(from, msg, null, origin, undefined, publisher);
  }

  /** Install or remove the cluster's hooks (src/cluster/cluster-host.ts). */
  useCluster(hooks: ClusterHooks | undefined): void {
    this.publishes.replicate = hooks?.replicate;
    this.rpc.remote = hooks?.remote;
    this.sharedTwins = hooks?.twins;
  }

  private sharedTwins: SharedTwins | undefined;
  namedTwin(name: string): Twin | undefined { return this.named.get(name); }
  get logHead(): bigint { return this.messageLog.head; }

  /** Logged for replay, delivered to exact subscribers only, not federated (the stats topic, like MQTT's $SYS). */
  publishLocal(topic: string, args: unknown[]): void {
    const msg = { type: 'pub', flags: 0, topic, args } as const;
    this.router.publishExact(msg, this.messageLog.append(msg, undefined, undefined, this.guard.logOrigin(null)), this.guard.receivers(null, topic));
  }

  private readonly control: BrokerControl = {
    isAdmin: (twin) => this.guard.isAdmin(twin),
    config: () => brokerConfig(new Set([...this.named.values(), ...[...this.sessions.keys()].map((s) => s.twin)])),
    shutdown: () => {
      this.log.warn('shutdown requested by an admin');
      // After the reply has left: the close would otherwise race it.
      soon(this.scheduler, () => this.onShutdown());
    },
    debug: (on) => setDebug(this.log, on),
  };

  reply(session: Session, id: MsgId, status: number, data: unknown): void {
    if (!session.link.isOpen) return;
    try {
      session.send({ type: 'response', id, status, data });
    } catch (err) {
      // A handler result the peer's encoding cannot carry (e.g. a DataFrame to a JSON peer).
      session.send({ type: 'response', id, status: STATUS.METHOD_EXCEPTION, data: errorText(err) });
    }
  }

  /** The store is lost: nothing more is acknowledged; the broker closes (a supervisor restarts it). */
  private storeFailed(err: unknown): void {
    this.failure = new StoreFailedError(`durable store failed: ${errorText(err)}`, { cause: err });
    this.log.error({ err: errorText(err) }, 'durable store failed: broker stopping');
    this.onShutdown();
  }

  /** Every named twin, online or not (for the stats snapshot). */
  twinList(): Iterable<Twin> { return this.named.values(); }

  stats(): BrokerStats {
    let outboxed = 0;
    let held = 0;
    for (const twin of this.named.values()) {
      outboxed += twin.outbox?.size ?? 0;
      held += twin.held?.length ?? 0;
    }
    for (const session of this.sessions.keys()) {
      if (session.twin.anonymous) outboxed += session.twin.outbox?.size ?? 0;
    }
    const flow = this.flow.counts;
    return { connections: this.sessions.size, twins: this.named.size, expiredTwins: this.registry.expired,
      refusedTwins: this.registry.refused, pendingRpcs: this.rpc.size, outboxed, held,
      logBuffered: this.messageLog.buffered, logDropped: this.logBound.dropped, congested: flow.congested, pausedPublishers: flow.paused,
      slowConsumers: flow.slowConsumers, ...(this.ingest === undefined ? {} : { contracts: this.ingest.stats() }) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.flow.close();
    for (const session of [...this.sessions.keys()]) {
      session.link.close(1001, 'broker closing');
      this.connections.detach(session);
    }
    this.rpc.clear();
    this.messages$.complete();
    try {
      await this.messageLog.close();
    } finally {
      await this.store.close();
    }
  }
}
