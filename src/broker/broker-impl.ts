/**
 * The broker: link → decode → dispatch → route → fan-out. `handle(link)` accepts any Link; the
 * WebSocket server adapter (ws-server.ts) only feeds it.
 */
import { Subscription } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { errorText, silentLogger } from '../internal/logger.js';
import { invokeHandler } from '../internal/invoke.js';
import {
  CONFIG_TOPIC, STATUS, type AdminMsg, type IdentityMsg, type Msg, type MsgId, type PubMsg, type ResponseMsg,
  type RpcMsg,
} from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Handler, Logger } from '../types.js';
import { decodeFrames } from './decode-frames.js';
import { Router } from './router.js';
import { Session, Twin } from './twin.js';
import type { BrokerOptions } from './types.js';
import { handleAdmin } from './admin.js';

interface PendingRpc { caller: Session; exposer: Session; topic: string; deadline: number }

const VERSION = 'typescript_0.1.0';

export class BrokerImpl {
  readonly name: string;
  readonly log: Logger;
  readonly router: Router;
  private readonly named = new Map<string, Twin>();
  private readonly sessions = new Map<Session, Subscription>();
  private readonly local = new Map<string, Handler>();
  private readonly pending = new Map<MsgId, PendingRpc>();
  private readonly requestTimeout: number;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly started = Date.now();
  closed = false;

  constructor(options: BrokerOptions) {
    this.name = options.name ?? 'broker';
    this.log = options.logger ?? silentLogger;
    this.router = new Router(options.requireReactive ?? false);
    this.requestTimeout = options.requestTimeout ?? 10_000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.requestTimeout));
    this.sweeper.unref();
    this.local.set('rid', () => this.name);
    this.local.set('version', () => VERSION);
    this.local.set('uptime', () => `up for ${Math.floor((Date.now() - this.started) / 1000)} seconds`);
  }

  handle(link: Link): void {
    if (this.closed) {
      link.close(1001, 'broker closed');
      return;
    }
    const twin = new Twin(globalThis.crypto.randomUUID(), true);
    const session = new Session(link, twin);
    twin.session = session;
    const subscription = link.frames$.pipe(decodeFrames(session.codec, this.log.child({ remote: link.remote })))
      .subscribe({
        next: ({ msg, frame }) => this.dispatch(session, msg, frame),
        complete: () => this.detach(session),
      });
    this.sessions.set(session, subscription);
    if (!link.isOpen) this.detach(session);
  }

  expose(method: string, handler: Handler): () => void {
    this.local.set(method, handler);
    return () => {
      if (this.local.get(method) === handler) this.local.delete(method);
    };
  }

  private dispatch(session: Session, msg: Msg, frame: Frame): void {
    switch (msg.type) {
      case 'pub': return this.onPublish(session, msg, frame);
      case 'rpc': return this.onRpc(session, msg, frame);
      case 'response': return this.onResponse(session, msg, frame);
      case 'admin': return this.onAdmin(session, msg);
      case 'identity': return this.onIdentity(session, msg);
      case 'ack': return;
      case 'ack2':
        session.twin.awaitingAck2.delete(msg.id);
        return;
      case 'ping': return session.send({ type: 'response', id: msg.id, status: STATUS.OK, data: null });
      case 'close': return session.link.close(1000, 'peer sent CLOSE');
      case 'attestation':
        return session.send({ type: 'response', id: msg.id, status: STATUS.ERROR, data: 'no challenge pending' });
      case 'register': case 'unregister':
        return session.send({ type: 'response', id: msg.id, status: STATUS.ERROR, data: 'registration not enabled' });
    }
  }

  private onPublish(session: Session, msg: PubMsg, frame: Frame): void {
    const twin = session.twin;
    if ((msg.flags & 0x30) !== 0 && msg.id !== undefined) {
      // ACK first, for every copy; QoS2 copies already seen are then dropped (spec §4.2).
      session.send({ type: 'ack', id: msg.id });
      if ((msg.flags & 0x30) === 0x30 && !twin.rememberQos2(msg.id)) return;
    }
    this.router.publish(twin, msg, frame);
  }

  private onRpc(session: Session, msg: RpcMsg, frame: Frame): void {
    const caller = session.twin;
    if (msg.target !== null && msg.target !== this.name) {
      const target = this.named.get(msg.target);
      if (target === undefined) return this.reply(session, msg.id, STATUS.TARGET_NOT_FOUND, msg.target);
      if (target.session === null) return this.reply(session, msg.id, STATUS.TARGET_DOWN, msg.target);
      return this.forward(session, target.session, msg, frame);
    }
    const local = this.local.get(msg.topic);
    if (local !== undefined) {
      invokeHandler(local, msg.args).then(
        (result) => this.reply(session, msg.id, STATUS.OK, result ?? null),
        (err: unknown) => this.reply(session, msg.id, STATUS.METHOD_EXCEPTION, errorText(err)),
      );
      return;
    }
    if (msg.target === this.name) return this.reply(session, msg.id, STATUS.METHOD_NOT_FOUND, msg.topic);
    const choice = this.router.pickExposer(msg.topic, caller);
    switch (choice) {
      case 'not_found': return this.reply(session, msg.id, STATUS.METHOD_NOT_FOUND, msg.topic);
      case 'unavailable': return this.reply(session, msg.id, STATUS.METHOD_UNAVAILABLE, msg.topic);
      case 'loopback': return this.reply(session, msg.id, STATUS.METHOD_LOOPBACK, msg.topic);
      default: return this.forward(session, choice.session!, msg, frame);
    }
  }

  private forward(caller: Session, exposer: Session, msg: RpcMsg, frame: Frame): void {
    this.pending.set(msg.id, { caller, exposer, topic: msg.topic, deadline: Date.now() + this.requestTimeout });
    if (frame instanceof Uint8Array && exposer.codec.kind === 'cbor') exposer.sendFrame(frame);
    else exposer.send(msg);
  }

  private onResponse(session: Session, msg: ResponseMsg, frame: Frame): void {
    const pending = this.pending.get(msg.id);
    if (pending === undefined || pending.exposer !== session) {
      this.log.debug({ id: msg.id.toString(16) }, 'response with unknown id ignored');
      return;
    }
    this.pending.delete(msg.id);
    const caller = pending.caller;
    if (caller.twin.session !== caller) return;
    if (frame instanceof Uint8Array && caller.codec.kind === 'cbor') caller.sendFrame(frame);
    else caller.send(msg);
  }

  private onAdmin(session: Session, msg: AdminMsg): void {
    const [status, data] = handleAdmin(this.router, session.twin, msg);
    this.reply(session, msg.id, status, data);
  }

  private onIdentity(session: Session, msg: IdentityMsg): void {
    const cid = msg.cid;
    if (cid === '') return this.reply(session, msg.id, STATUS.ERROR, 'empty cid');
    if (!session.twin.anonymous) return this.reply(session, msg.id, STATUS.ERROR, 'already identified');
    const existing = this.named.get(cid);
    if (existing?.session != null) {
      return this.reply(session, msg.id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
    }
    // Anything the connection declared before identifying belonged to a throw-away twin.
    this.router.drop(session.twin);
    const twin = existing ?? new Twin(cid, false);
    this.named.set(cid, twin);
    twin.session = session;
    session.twin = twin;
    this.log.info({ cid }, 'component up');
    this.reply(session, msg.id, STATUS.OK, null);
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

  private detach(session: Session): void {
    const subscription = this.sessions.get(session);
    if (subscription === undefined) return;
    this.sessions.delete(session);
    subscription.unsubscribe();
    session.link.close();
    const twin = session.twin;
    if (twin.session === session) twin.session = null;
    if (twin.anonymous) this.router.drop(twin);
    else this.log.info({ cid: twin.name }, 'component down');
    // Calls routed to this exposer will never be answered: tell their callers now.
    for (const [id, pending] of this.pending) {
      if (pending.exposer === session) {
        this.pending.delete(id);
        this.reply(pending.caller, id, STATUS.METHOD_UNAVAILABLE, pending.topic);
      } else if (pending.caller === session) {
        this.pending.delete(id);
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, pending] of this.pending) if (pending.deadline <= now) this.pending.delete(id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.keys()]) {
      session.link.close(1001, 'broker closing');
      this.detach(session);
    }
    this.pending.clear();
  }
}

export { CONFIG_TOPIC };
