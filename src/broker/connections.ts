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
  constructor(private readonly deps: ConnectionsDeps) {}

  private get sharedTwins(): SharedTwins | undefined { return this.deps.sharedTwins(); }

  /** Serve a link (the broker is open): an anonymous twin until its login names it. */
  open(link: Link): void {
    const { log, flow, intake, sessions, login } = this.deps;
    const twin = new Twin(globalThis.crypto.randomUUID(), true);
    const session = new Session(link, twin, log, flow);
    this.bind(twin, session);
    const next = frameDecoder(session.codec, log.child({ remote: link.remote }), {
      handle: (msg, frame) => intake.inbound(session, msg, frame), answer: (frame) => session.sendFrame(frame),
      topicRead: link.topicRead?.bind(link) });
    const subscription = link.frames$.subscribe({ next, complete: () => this.detach(session) });
    sessions.set(session, subscription);
    login.opened(session);
    if (!link.isOpen) this.detach(session);
  }

  /** Bind an identified (and, with a key on file, authenticated) connection to its name. */
  bindName(session: Session, cid: string): void {
    const { named, router, twins, log, presence, registry, replays } = this.deps;
    const existing = named.get(cid);
    // Anything the connection declared before identifying belonged to a throw-away twin.
    router.drop(session.twin);
    session.twin.session = null;
    const twin = existing ?? twins.attach(new Twin(cid, false));
    named.set(cid, twin);
    this.bind(twin, session);
    log.info({ cid, authenticated: session.login.authenticated }, 'component up');
    presence.up(twin);
    registry.online(twin);
    // A cluster's shared twin (src/cluster/twin-kv.ts) first; then, coming back with replaying subscriptions: hold live messages until its replay.
    this.sharedTwins?.bound(twin);
    replays.bound(twin);
  }

  private bind(twin: Twin, session: Session): void {
    const { opts, scheduler, maxInflight, messageLog, log } = this.deps;
    twin.session = session;
    session.twin = twin;
    twin.replayed = false;
    twin.outbox ??= new Outbox({
      ackTimeout: opts.ackTimeout, sendRetries: opts.sendRetries, capacity: opts.outboxCapacity, scheduler,
      ...(maxInflight === undefined ? {} : { maxInflight }),
      delivered: (recv, ack2, acked) => {
        twin.delivered(recv, acked);
        // ACK2 lets the subscriber forget the id: only once the mark that covers it is durable
        // (an anonymous twin has no durable mark: at once).
        if (ack2.length === 0) return;
        if (twin.anonymous) this.sendAck2(twin, ack2);
        // In a cluster, also once that mark is shared (src/cluster/twin-kv.ts).
        else messageLog.afterCommit(() => (this.sharedTwins === undefined ? this.sendAck2(twin, ack2)
          : this.sharedTwins.afterShared(twin, () => this.sendAck2(twin, ack2))));
      },
      log: log.child({ cid: twin.name }),
    });
  }

  /** Close a connection whose name a connection that proved its key takes over (login.ts); `dead`: its peer is gone. */
  evict(session: Session, dead: boolean): void {
    session.link.close(1008, 'name taken over by a connection that proved its key');
    // A dead peer would never complete the closing handshake: free the socket now.
    if (dead) session.link.abort?.();
    this.detach(session);
  }

  /** Is this connection still served (a login step's answer is acted on only then)? */
  isLive(session: Session): boolean {
    return this.deps.sessions.has(session) && session.link.isOpen;
  }

  detach(session: Session): void {
    const { sessions, flow, router, replays, log, presence, registry, named, rpc, detached$ } = this.deps;
    const subscription = sessions.get(session);
    if (subscription === undefined) return;
    sessions.delete(session);
    flow.forget(session);
    subscription.unsubscribe();
    session.closeTimer?.();
    session.backlog = null;
    session.link.close();
    const twin = session.twin;
    if (twin.session === session) {
      twin.session = null;
      // What was queued or held is in the log: the next replay delivers it.
      twin.outbox?.clear();
      router.groups?.offline(twin);
      replays.unbound(twin);
    }
    if (twin.anonymous) router.drop(twin);
    else {
      log.info({ cid: twin.name }, 'component down');
      if (twin.session === null) presence.down(twin);
      if (twin.session === null) registry.offline(twin);
      // A name that holds nothing is forgotten: identities alone must not grow the broker.
      if (twin.session === null && twin.isEmpty()) named.delete(twin.name);
    }
    rpc.detach(session);
    detached$.next(session);
  }

  private sendAck2(twin: Twin, ids: readonly MsgId[]): void {
    const session = twin.session;
    if (session !== null && session.link.isOpen) for (const id of ids) session.send({ type: 'ack2', id });
  }
}
