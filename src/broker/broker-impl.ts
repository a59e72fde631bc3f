/**
 * The broker: link → decode → dispatch (connections.ts, intake.ts); publishes take the publish
 * path (log → route → fan-out → `messages$` for the stages downstream, publish-path.ts), ADMIN
 * messages admin-requests.ts; the store, the message log and the twins' persistence are durability.ts,
 * the stats snapshot broker-stats.ts. This file assembles the stages and holds the broker's own API.
 * `handle(link)` accepts any Link; the WebSocket server adapter (ws-server.ts) only feeds it.
 */
import type { SchedulerLike } from 'rxjs';
import { Subject, Subscription } from '../internal/rx.js';
import { LeanSubject } from '../internal/lean-subject.js';
import { housekeeping, now as clockNow, type Cancel } from '../internal/clock.js';
import { errorText, silentLogger } from '../internal/logger.js';
import type { ClusterHooks, SharedTwins } from '../cluster/cluster-host.js';
import { STATUS, type MsgId, type PubMsg } from '../protocol/messages.js';
import { createAuthenticator, type Authenticator } from '../security/authenticator.js';
import { warnAdminsWithoutCredentials } from '../security/admin-audit.js';
import { memorySecurityStore } from '../security/memory-store.js';
import type { StoreFailedError } from '../store/errors.js';
import type { Link } from '../transport/link.js';
import type { Handler, Logger } from '../types.js';
import { brokerControl } from './admin.js';
import { AdminRequests } from './admin-requests.js';
import { brokerStats } from './broker-stats.js';
import { Connections } from './connections.js';
import { Durability } from './durability.js';
import { FlowControl } from './flow-control.js';
import { Guard, type Publisher } from './guard.js';
import { Intake } from './intake.js';
import { DEFAULT_LOGIN_TIMEOUT, Login } from './login.js';
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
  /** The store, the message log and its bound, the twins' persistence (durability.ts). */
  private readonly durable: Durability;
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
  private readonly scheduler: SchedulerLike | undefined;
  closed = false;
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
    const started = clockNow(scheduler);
    this.router = new Router(options.requireReactive ?? false);
    const opts = {
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
    }, opts.requestTimeout, options.rpcPolicy);
    this.presence = new Presence({ router: this.router, guard: this.guard, twins: () => this.named.values(),
      logHead: () => this.durable.messageLog.head });
    this.presence.register(this.rpc);
    this.admins = options.admins ?? [];
    this.login = new Login({
      auth: this.auth, log: this.log, loginTimeout: options.loginTimeout ?? DEFAULT_LOGIN_TIMEOUT,
      isConnected: (cid) => this.named.get(cid)?.session != null,
      holder: (cid) => this.named.get(cid)?.session ?? undefined,
      evict: (session, dead) => this.connections.evict(session, dead),
      isLive: (session) => this.connections.isLive(session),
      bindName: (session, cid) => this.connections.bindName(session, cid),
      admit: (cid) => this.registry.admit(cid),
      reply: (session, id, status, data) => this.reply(session, id, status, data), scheduler,
    });
    const maxInflight = options.maxInflight;
    this.flow = new FlowControl(options.flowControl ?? {}, opts.maxBufferedBytes, this.log,
      scheduler === undefined ? Date.now : () => scheduler.now(), scheduler);
    this.router.groups = new Groups({ window: maxInflight ?? DEFAULT_MAX_INFLIGHT, capacity: opts.outboxCapacity,
      behind: (s) => this.flow.isBehind(s), requireReactive: options.requireReactive ?? false, log: this.log.child({ component: 'groups' }) });
    this.durable = new Durability(options, this.log, { behind: (oldest) => this.registry.behind(oldest),
      stop: () => this.onShutdown(), scheduler });
    const { store, twins, messageLog } = this.durable;
    const deadLetter = options.deadLetter;
    this.ingest = options.contracts === undefined ? undefined : new ContractIngest(options.contracts, deadLetter === undefined
      ? undefined : deadLetters(deadLetter, () => this.publishes));
    this.retained = new RetainedValues(this.auth, this.log, options.retained);
    this.publishes = new PublishPath({ ingest: this.ingest, guard: this.guard, messageLog, router: this.router, flow: this.flow,
      messages$: this.messages$, log: this.log, retained: this.retained });
    this.replays = new Replays({ log: messageLog, logger: this.log, reactiveWait: opts.reactiveWait,
      admits: (twin) => this.guard.replayable(twin), scheduler,
      gap: (twin, session, admits, maxPeriod) => this.sharedTwins?.gap(twin, session, admits, maxPeriod) });
    this.registry = new TwinRegistry({ named: this.named, router: this.router, store, log: this.log,
      ttl: options.twinTtl ?? DEFAULT_TWIN_TTL, maxTwins: options.maxTwins ?? DEFAULT_MAX_TWINS,
      forget: (twin) => twins.forget(twin), scheduler });
    const admin = new AdminRequests({ auth: this.auth, guard: this.guard, router: this.router, messageLog,
      retained: this.retained, presence: this.presence, replays: this.replays, twins,
      metaPolicy: metaPolicy(this.auth, options.publisherNames ?? true),
      control: brokerControl(this.guard, () => [...this.named.values(), ...[...this.sessions.keys()].map((s) => s.twin)], this.log,
        () => this.onShutdown(), scheduler),
      reply: (session, id, status, data) => this.reply(session, id, status, data) });
    const intake = new Intake({ guard: this.guard, publishes: this.publishes, rpc: this.rpc, admin, login: this.login,
      log: this.log, sessions: this.sessions });
    this.connections = new Connections({ named: this.named, sessions: this.sessions, router: this.router, twins,
      registry: this.registry, presence: this.presence, replays: this.replays, rpc: this.rpc, flow: this.flow,
      messageLog, login: this.login, intake, detached$: this.detached$, log: this.log,
      opts, scheduler, maxInflight, sharedTwins: () => this.sharedTwins });
    this.every(this.registry.sweepInterval, () => void this.registry.sweep());
    this.every(Math.min(1000, opts.requestTimeout), () => this.rpc.sweep(clockNow(scheduler)));
    this.every(1_000, () => this.durable.logBound.sweep());
    this.every(60_000, () => this.durable.prune(opts.retention));
    this.rpc.local.set('rid', () => this.name);
    this.rpc.local.set('version', () => VERSION);
    this.rpc.local.set('uptime', () => `up for ${Math.floor((clockNow(scheduler) - started) / 1000)} seconds`);
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(housekeeping(this.scheduler, ms, fn));
  }

  /** Restore the durable state: the log clock and every named twin (spec §3.1 step 4). */
  async start(): Promise<void> {
    if (this.admins.length > 0) await this.auth.store.addAdmins(this.admins);
    await warnAdminsWithoutCredentials(this.auth.store, this.log);
    await this.durable.open();
    await this.retained.restore(this.durable.store);
    for (const twin of await this.durable.twins.load()) this.registry.restored(twin);
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
  get logHead(): bigint { return this.durable.messageLog.head; }

  /** Logged for replay, delivered to exact subscribers only, not federated (the stats topic, like MQTT's $SYS). */
  publishLocal(topic: string, args: unknown[]): void {
    const msg = { type: 'pub', flags: 0, topic, args } as const;
    this.router.publishExact(msg, this.durable.messageLog.append(msg, undefined, undefined, this.guard.logOrigin(null)), this.guard.receivers(null, topic));
  }

  reply(session: Session, id: MsgId, status: number, data: unknown): void {
    if (!session.link.isOpen) return;
    try {
      session.send({ type: 'response', id, status, data });
    } catch (err) {
      // A handler result the peer's encoding cannot carry (e.g. a DataFrame to a JSON peer).
      session.send({ type: 'response', id, status: STATUS.METHOD_EXCEPTION, data: errorText(err) });
    }
  }

  /** Why the broker stopped by itself, when it did. */
  get failure(): StoreFailedError | undefined { return this.durable.failure; }

  /** Every named twin, online or not (for the stats snapshot). */
  twinList(): Iterable<Twin> { return this.named.values(); }

  stats(): BrokerStats {
    return brokerStats({ named: this.named, sessions: this.sessions, registry: this.registry, rpc: this.rpc,
      messageLog: this.durable.messageLog, logBound: this.durable.logBound, flow: this.flow, ingest: this.ingest });
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
    await this.durable.close();
  }
}
