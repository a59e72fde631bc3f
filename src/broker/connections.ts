/**
 * The broker's connections, from link to detach: a link gets an anonymous twin and its frames go
 * through the decoder to the intake (intake.ts); a login binds it to its named twin (bindName),
 * whose outbox acknowledges deliveries; when the link ends, what was bound to it is released and
 * a named twin goes offline (or is forgotten when it holds nothing).
 */
import type { SchedulerLike, Subject, Subscription } from 'rxjs';
import type { SharedTwins } from '../cluster/cluster-host.js';
import type { MsgId } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Logger } from '../types.js';
import { frameDecoder } from './decode-frames.js';
import type { FlowControl } from './flow-control.js';
import type { Intake } from './intake.js';
import type { Login } from './login.js';
import type { MessageLog } from './message-log.js';
import { Outbox } from './outbox.js';
import type { Presence } from './presence.js';
import type { Replays } from './replay.js';
import type { Router } from './router.js';
import type { RpcRouting } from './rpc-routing.js';
import type { TwinPersistence } from './twin-persistence.js';
import type { TwinRegistry } from './twin-registry.js';
import { Session, Twin } from './twin.js';
import type { BrokerOptions } from './types.js';

/** What {@link Connections} binds and releases; the two maps are the broker's own. */
export interface ConnectionsDeps {
  /** Named twins by name, online or not. */
  readonly named: Map<string, Twin>;
  /** Live connections, each with its subscription to the link's frames. */
  readonly sessions: Map<Session, Subscription>;
  readonly router: Router;
  readonly twins: TwinPersistence;
  readonly registry: TwinRegistry;
  readonly presence: Presence;
  readonly replays: Replays;
  readonly rpc: RpcRouting;
  readonly flow: FlowControl;
  readonly messageLog: MessageLog;
  readonly login: Login;
  readonly intake: Intake;
  readonly detached$: Subject<Session>;
  readonly log: Logger;
  readonly opts: Required<Pick<BrokerOptions, 'ackTimeout' | 'sendRetries' | 'outboxCapacity'>>;
  readonly scheduler: SchedulerLike | undefined;
  readonly maxInflight: number | undefined;
  /** The cluster's shared twins, while the broker is in one. */
  readonly sharedTwins: () => SharedTwins | undefined;
}

export class Connections {
  private readonly named: Map<string, Twin>;
  private readonly sessions: Map<Session, Subscription>;
  private readonly router: Router;
  private readonly twins: TwinPersistence;
  private readonly registry: TwinRegistry;
  private readonly presence: Presence;
  private readonly replays: Replays;
  private readonly rpc: RpcRouting;
  private readonly flow: FlowControl;
  private readonly messageLog: MessageLog;
  private readonly login: Login;
  private readonly intake: Intake;
  private readonly detached$: Subject<Session>;
  private readonly log: Logger;
  private readonly opts: ConnectionsDeps['opts'];
  private readonly scheduler: SchedulerLike | undefined;
  private readonly maxInflight: number | undefined;
  private readonly shared: () => SharedTwins | undefined;

  constructor(deps: ConnectionsDeps) {
    this.named = deps.named;
    this.sessions = deps.sessions;
    this.router = deps.router;
    this.twins = deps.twins;
    this.registry = deps.registry;
    this.presence = deps.presence;
    this.replays = deps.replays;
    this.rpc = deps.rpc;
    this.flow = deps.flow;
    this.messageLog = deps.messageLog;
    this.login = deps.login;
    this.intake = deps.intake;
    this.detached$ = deps.detached$;
    this.log = deps.log;
    this.opts = deps.opts;
    this.scheduler = deps.scheduler;
    this.maxInflight = deps.maxInflight;
    this.shared = deps.sharedTwins;
  }

  private get sharedTwins(): SharedTwins | undefined { return this.shared(); }

  /** Serve a link (the broker is open): an anonymous twin until its login names it. */
  open(link: Link): void {
    const twin = new Twin(globalThis.crypto.randomUUID(), true);
    const session = new Session(link, twin, this.log, this.flow);
    this.bind(twin, session);
    const next = frameDecoder(session.codec, this.log.child({ remote: link.remote }), {
      handle: (msg, frame) => this.intake.inbound(session, msg, frame), answer: (frame) => session.sendFrame(frame),
      topicRead: link.topicRead?.bind(link) });
    const subscription = link.frames$.subscribe({ next, complete: () => this.detach(session) });
    this.sessions.set(session, subscription);
    this.login.opened(session);
    if (!link.isOpen) this.detach(session);
  }

  /** Bind an identified (and, with a key on file, authenticated) connection to its name. */
  bindName(session: Session, cid: string): void {
    const existing = this.named.get(cid);
    // Anything the connection declared before identifying belonged to a throw-away twin.
    this.router.drop(session.twin);
    session.twin.session = null;
    const twin = existing ?? this.twins.attach(new Twin(cid, false));
    this.named.set(cid, twin);
    this.bind(twin, session);
    this.log.info({ cid, authenticated: session.login.authenticated }, 'component up');
    this.presence.up(twin);
    this.registry.online(twin);
    // A cluster's shared twin (src/cluster/twin-kv.ts) first; then, coming back with replaying subscriptions: hold live messages until its replay.
    this.sharedTwins?.bound(twin);
    this.replays.bound(twin);
  }

  private bind(twin: Twin, session: Session): void {
    twin.session = session;
    session.twin = twin;
    twin.replayed = false;
    twin.outbox ??= new Outbox({
      ackTimeout: this.opts.ackTimeout, sendRetries: this.opts.sendRetries, capacity: this.opts.outboxCapacity, scheduler: this.scheduler,
      ...(this.maxInflight === undefined ? {} : { maxInflight: this.maxInflight }),
      delivered: (recv, ack2, acked) => {
        twin.delivered(recv, acked);
        // ACK2 lets the subscriber forget the id: only once the mark that covers it is durable
        // (an anonymous twin has no durable mark: at once).
        if (ack2.length === 0) return;
        if (twin.anonymous) this.sendAck2(twin, ack2);
        // In a cluster, also once that mark is shared (src/cluster/twin-kv.ts).
        else this.messageLog.afterCommit(() => (this.sharedTwins === undefined ? this.sendAck2(twin, ack2)
          : this.sharedTwins.afterShared(twin, () => this.sendAck2(twin, ack2))));
      },
      log: this.log.child({ cid: twin.name }),
    });
  }

  detach(session: Session): void {
    const subscription = this.sessions.get(session);
    if (subscription === undefined) return;
    this.sessions.delete(session);
    this.flow.forget(session);
    subscription.unsubscribe();
    session.closeTimer?.();
    session.backlog = null;
    session.link.close();
    const twin = session.twin;
    if (twin.session === session) {
      twin.session = null;
      // What was queued or held is in the log: the next replay delivers it.
      twin.outbox?.clear();
      this.router.groups?.offline(twin);
      this.replays.unbound(twin);
    }
    if (twin.anonymous) this.router.drop(twin);
    else {
      this.log.info({ cid: twin.name }, 'component down');
      if (twin.session === null) this.presence.down(twin);
      if (twin.session === null) this.registry.offline(twin);
      // A name that holds nothing is forgotten: identities alone must not grow the broker.
      if (twin.session === null && twin.isEmpty()) this.named.delete(twin.name);
    }
    this.rpc.detach(session);
    this.detached$.next(session);
  }

  private sendAck2(twin: Twin, ids: readonly MsgId[]): void {
    const session = twin.session;
    if (session !== null && session.link.isOpen) for (const id of ids) session.send({ type: 'ack2', id });
  }
}
