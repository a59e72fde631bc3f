/**
 * The broker's intake: each decoded message of a connection goes to its stage (publish path,
 * RPC routing, admin requests, login, outbox acks), in the order it came. While a login step of
 * the connection awaits the security store, later frames are held (`Session.backlog`, bounded)
 * and handled once it settles.
 */
import type { Frame } from '../codec/wire.js';
import { errorText } from '../internal/logger.js';
import { STATUS, type Msg } from '../protocol/messages.js';
import type { Logger } from '../types.js';
import type { AdminRequests } from './admin-requests.js';
import type { Inbound } from './decode-frames.js';
import type { Guard } from './guard.js';
import type { Login } from './login.js';
import type { PublishPath } from './publish-path.js';
import type { RpcRouting } from './rpc-routing.js';
import type { Session } from './twin.js';

/** Frames a connection may send while one of its login steps awaits the security store. */
const MAX_BACKLOG = 10_000;

/** The stages {@link Intake} dispatches to. */
export interface IntakeStages {
  readonly guard: Guard;
  readonly publishes: PublishPath;
  readonly rpc: RpcRouting;
  readonly admin: AdminRequests;
  readonly login: Login;
  readonly log: Logger;
  /** The broker's live connections: a held frame of a connection that ended is dropped. */
  readonly sessions: ReadonlyMap<Session, unknown>;
}

export class Intake {
  private readonly guard: Guard;
  private readonly publishes: PublishPath;
  private readonly rpc: RpcRouting;
  private readonly admin: AdminRequests;
  private readonly login: Login;
  private readonly log: Logger;
  private readonly sessions: ReadonlyMap<Session, unknown>;

  constructor(stages: IntakeStages) {
    // Own fields, not `stages.x`: dispatch runs for every frame.
    this.guard = stages.guard;
    this.publishes = stages.publishes;
    this.rpc = stages.rpc;
    this.admin = stages.admin;
    this.login = stages.login;
    this.log = stages.log;
    this.sessions = stages.sessions;
  }

  /**
   * Handle one inbound frame, or hold it while a login step of this connection awaits the
   * security store, so frames keep their order. A failure handling one frame is logged and
   * costs that frame only: it never reaches the link's stream (where it would be fatal).
   */
  inbound(session: Session, msg: Msg, frame: Frame): void {
    if (session.backlog !== null) {
      if (session.backlog.length < MAX_BACKLOG) session.backlog.push({ msg, frame });
      else session.link.close(1008, 'too many frames during login');
      return;
    }
    let busy: Promise<void> | void;
    try {
      busy = this.dispatch(session, msg, frame);
    } catch (err) {
      this.log.error({ remote: session.link.remote, type: msg.type, err: errorText(err) }, 'frame handling failed');
      return;
    }
    if (busy instanceof Promise) {
      session.backlog = [];
      void busy.then(() => this.resume(session), (err: unknown) => {
        this.log.error({ remote: session.link.remote, type: msg.type, err: errorText(err) }, 'frame handling failed');
        this.resume(session);
      });
    }
  }

  private resume(session: Session): void {
    const backlog = session.backlog ?? [];
    session.backlog = null;
    if (!this.sessions.has(session)) return;
    for (let i = 0; i < backlog.length; i++) {
      // Paused again by a later login step: the rest waits behind it, in order.
      if (session.backlog !== null) {
        (session.backlog as Inbound[]).push(...backlog.slice(i));
        return;
      }
      const held = backlog[i]!;
      this.inbound(session, held.msg, held.frame);
    }
  }

  /** Route one message; login steps and authorization commands return the Promise they await. */
  private dispatch(session: Session, msg: Msg, frame: Frame): Promise<void> | void {
    if (!this.guard.admits(session, msg)) return;
    switch (msg.type) {
      case 'pub': return this.publishes.onPublish(session, msg, frame);
      case 'rpc': return this.rpc.onRpc(session, msg, frame);
      case 'response': return this.rpc.onResponse(session, msg, frame);
      case 'admin': return this.admin.onAdmin(session, msg);
      case 'identity': return this.login.identity(session, msg);
      case 'attestation': return this.login.attestation(session, msg);
      case 'register': return this.login.register(session, msg);
      case 'unregister': return this.login.unregister(session, msg);
      case 'ack': return session.twin.outbox?.ack(msg.id);
      case 'ack2': return session.twin.releaseQos2(msg.id);
      case 'ping': return session.send({ type: 'response', id: msg.id, status: STATUS.OK, data: null });
      case 'close': return session.link.close(1000, 'peer sent CLOSE');
    }
  }
}
