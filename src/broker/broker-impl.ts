/**
 * The broker: link → decode → dispatch → log → route → fan-out. `handle(link)` accepts any
 * Link; the WebSocket server adapter (ws-server.ts) only feeds it. Accepted publishes are
 * also emitted on `messages$` for the stages downstream (schema tables, bridges).
 */
import { Subject, Subscription } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { errorText, silentLogger } from '../internal/logger.js';
import { invokeHandler } from '../internal/invoke.js';
import {
  slotOf, STATUS, type AdminMsg, type IdentityMsg, type Msg, type MsgId, type PubMsg, type ResponseMsg, type RpcMsg,
} from '../protocol/messages.js';
import { memoryStore } from '../store/memory-store.js';
import type { Store } from '../store/types.js';
import type { Link } from '../transport/link.js';
import type { Handler, Logger } from '../types.js';
import { handleAdmin } from './admin.js';
import { decodeFrames } from './decode-frames.js';
import { MessageLog } from './message-log.js';
import { Outbox } from './outbox.js';
import { replay, startHold } from './replay.js';
import { Router } from './router.js';
import { TwinPersistence } from './twin-persistence.js';
import { Session, Twin } from './twin.js';
import type { BrokerOptions, BrokerStats, Published } from './types.js';

interface PendingRpc { caller: Session; exposer: Session; topic: string; deadline: number }

const VERSION = 'typescript_0.1.0';

export class BrokerImpl {
  readonly name: string;
  readonly log: Logger;
  readonly router: Router;
  readonly messages$ = new Subject<Published>();
  private readonly named = new Map<string, Twin>();
  private readonly sessions = new Map<Session, Subscription>();
  private readonly local = new Map<string, Handler>();
  private readonly pending = new Map<MsgId, PendingRpc>();
  private readonly store: Store;
  private readonly messageLog: MessageLog;
  private readonly twins: TwinPersistence;
  private readonly opts: Required<Pick<BrokerOptions,
    'requestTimeout' | 'ackTimeout' | 'sendRetries' | 'outboxCapacity' | 'reactiveWait' | 'retention'>>;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private acks: { session: Session; id: MsgId }[] = [];
  private readonly started = Date.now();
  closed = false;

  constructor(options: BrokerOptions) {
    this.name = options.name ?? 'broker';
    this.log = options.logger ?? silentLogger;
    this.router = new Router(options.requireReactive ?? false);
    this.opts = {
      requestTimeout: options.requestTimeout ?? 10_000, ackTimeout: options.ackTimeout ?? 2_000,
      sendRetries: options.sendRetries ?? 10, outboxCapacity: options.outboxCapacity ?? 10_000,
      reactiveWait: options.reactiveWait ?? 2_000, retention: options.retention ?? 86_400_000,
    };
    this.store = options.store ?? memoryStore();
    this.twins = new TwinPersistence(this.store, () => this.named.values(), this.log);
    this.messageLog = new MessageLog(this.store, options.archiverInterval ?? 1_000, options.logCapacity ?? 1_000_000,
      this.log, [() => this.twins.flushDirty()]);
    this.every(Math.min(1000, this.opts.requestTimeout), () => this.sweep());
    this.every(60_000, () => void this.messageLog.prune(this.opts.retention).catch((err: unknown) =>
      this.log.warn({ err: errorText(err) }, 'log pruning failed')));
    this.local.set('rid', () => this.name);
    this.local.set('version', () => VERSION);
    this.local.set('uptime', () => `up for ${Math.floor((Date.now() - this.started) / 1000)} seconds`);
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Restore the durable state: the log clock and every named twin (spec §3.1 step 4). */
  async start(): Promise<void> {
    await this.messageLog.init();
    for (const twin of await this.twins.load()) {
      this.named.set(twin.name, twin);
      for (const [topic, msgFrom] of twin.subscriptions) this.router.subscribe(twin, topic, msgFrom);
      for (const method of twin.exposed) this.router.expose(twin, method);
    }
  }

  handle(link: Link): void {
    if (this.closed) {
      link.close(1001, 'broker closed');
      return;
    }
    const twin = new Twin(globalThis.crypto.randomUUID(), true);
    const session = new Session(link, twin);
    this.bind(twin, session);
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

  /** Publish from the broker itself (bridges, local producers): logged and routed like any other. */
  publish(topic: string, args: unknown[], origin = ''): void {
    this.accept(null, { type: 'pub', flags: 0, topic, args }, null, origin);
  }

  private dispatch(session: Session, msg: Msg, frame: Frame): void {
    switch (msg.type) {
      case 'pub': return this.onPublish(session, msg, frame);
      case 'rpc': return this.onRpc(session, msg, frame);
      case 'response': return this.onResponse(session, msg, frame);
      case 'admin': return this.onAdmin(session, msg);
      case 'identity': return this.onIdentity(session, msg);
      case 'ack': return session.twin.outbox?.ack(msg.id);
      case 'ack2': return session.twin.releaseQos2(msg.id);
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
    const qos = msg.flags & 0x30;
    if (qos !== 0 && msg.id !== undefined) {
      // The ACK leaves once the message is in the store (group commit): an acknowledged
      // message survives a crash. Every copy is acked; QoS2 copies seen before are not
      // delivered again (spec §4.2).
      this.ackWhenDurable(session, msg.id);
      if (qos === 0x30 && !twin.rememberQos2(msg.id)) return;
    }
    this.accept(twin, msg, frame, twin.name);
  }

  private accept(twin: Twin | null, msg: PubMsg, frame: Frame | null, origin: string): void {
    const slot = slotOf(msg);
    const recv = this.messageLog.append(msg, slot);
    this.router.publish(twin, msg, frame, recv);
    if (this.messages$.observed) {
      this.messages$.next({ topic: msg.topic, args: msg.args, flags: msg.flags, id: msg.id, slot, recv, origin });
    }
  }

  private ackWhenDurable(session: Session, id: MsgId): void {
    this.acks.push({ session, id });
    if (this.acks.length > 1) return;
    void this.messageLog.durable().then(() => {
      const acks = this.acks;
      this.acks = [];
      for (const ack of acks) if (ack.session.link.isOpen) ack.session.send({ type: 'ack', id: ack.id });
    });
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
    this.pending.set(msg.id, { caller, exposer, topic: msg.topic, deadline: Date.now() + this.opts.requestTimeout });
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
    const twin = session.twin;
    const [status, data] = handleAdmin(this.router, twin, msg);
    const cmd = msg.cmd['cmd'];
    if (status === STATUS.OK && !twin.anonymous) {
      if (cmd === 'subscribe' && twin.subscriptions.get(msg.topic) !== 0 && !twin.replayed) {
        // The replay window of this subscription ends now; later live messages wait for it.
        startHold(twin, this.messageLog.head, this.opts.reactiveWait, this.log);
      }
      if (cmd === 'reactive' && twin.reactive) {
        startHold(twin, this.messageLog.head, this.opts.reactiveWait, this.log);
        clearTimeout(twin.holdTimer); // the replay releases the hold now, however long it takes
        const maxPeriod = msg.cmd['msg_from'];
        void replay(twin, this.messageLog, typeof maxPeriod === 'number' ? maxPeriod : 0, this.log);
      }
      if (cmd === 'subscribe' || cmd === 'unsubscribe' || cmd === 'expose' || cmd === 'unexpose' || cmd === 'setup') {
        // Declarations of a named twin are durable before they are confirmed.
        this.twins.save(twin).then(
          () => this.reply(session, msg.id, status, data),
          (err: unknown) => this.reply(session, msg.id, STATUS.ERROR, `not persisted: ${errorText(err)}`),
        );
        return;
      }
    }
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
    session.twin.session = null;
    const twin = existing ?? new Twin(cid, false);
    this.named.set(cid, twin);
    this.bind(twin, session);
    this.log.info({ cid }, 'component up');
    // A twin coming back with replaying subscriptions: hold live messages until its replay.
    if (twin.wantsReplay()) startHold(twin, this.messageLog.head, this.opts.reactiveWait, this.log);
    this.reply(session, msg.id, STATUS.OK, null);
  }

  private bind(twin: Twin, session: Session): void {
    twin.session = session;
    session.twin = twin;
    twin.replayed = false;
    twin.outbox ??= new Outbox({
      ackTimeout: this.opts.ackTimeout, sendRetries: this.opts.sendRetries, capacity: this.opts.outboxCapacity,
      sendAck2: (id) => twin.session?.send({ type: 'ack2', id }),
      delivered: (recv) => twin.delivered(recv),
      log: this.log.child({ cid: twin.name }),
    });
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
    if (twin.session === session) {
      twin.session = null;
      // What was queued or held is in the log: the next replay delivers it.
      twin.outbox?.clear();
      clearTimeout(twin.holdTimer);
      twin.held = null;
    }
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
    return { connections: this.sessions.size, twins: this.named.size, pendingRpcs: this.pending.size, outboxed, held,
      logBuffered: this.messageLog.buffered };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, pending] of this.pending) if (pending.deadline <= now) this.pending.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const session of [...this.sessions.keys()]) {
      session.link.close(1001, 'broker closing');
      this.detach(session);
    }
    this.pending.clear();
    this.messages$.complete();
    try {
      await this.messageLog.close();
    } finally {
      await this.store.close();
    }
  }
}
