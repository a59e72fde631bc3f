/**
 * RPC routing (spec §5.2, §5.3): broker-local methods, direct targets, exposer choice, and the
 * table of forwarded calls waiting for their RESPONSE. Private methods are refused with 10
 * "unauthorized"; with tenants, exposers and direct targets of other tenants are invisible.
 *
 * Streaming calls (README "Streaming RPC on the wire"): items are relayed by id and the entry
 * stays until the stream's end, an error, the caller's cancel, or a disconnect. A cancel goes on
 * to the exposer; a caller that disconnects cancels its calls; an exposer that disconnects
 * fails them with 43.
 */
import type { SchedulerLike } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { encodeResult } from '../dataframe/index.js';
import { now as clockNow } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import { InFlight } from '../internal/in-flight.js';
import { invokeHandler } from '../internal/invoke.js';
import { STATUS, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import type { Handler, Logger } from '../types.js';
import type { RemoteRpc } from '../cluster/cluster-host.js';
import type { Guard } from './guard.js';
import type { Router } from './router.js';
import { ExposerPicker, type RpcPolicy } from './rpc-policy.js';
import type { Session, Twin } from './twin.js';

interface PendingRpc { caller: Session; exposer: Session; topic: string; deadline: number }

/** A broker-local method that is told who calls it (presence, exposers). */
export type CallerAwareHandler = (caller: Twin, ...args: unknown[]) => unknown;

/** Built-in methods every broker answers to anyone, private or not (spec §5.2 step 2). */
const BUILTINS = new Set(['rid', 'version', 'uptime']);

/** What RPC routing needs from the broker. */
export interface RpcHost {
  readonly name: string;
  /** Virtual time (rembus/testing); default the real clock. */
  readonly scheduler?: SchedulerLike | undefined;
  readonly log: Logger;
  readonly router: Router;
  readonly guard: Guard;
  named(cid: string): Twin | undefined;
  reply(session: Session, id: MsgId, status: number, data: unknown): void;
}

export class RpcRouting {
  /** Broker-local methods (built-ins, `broker.expose`, schema tables). */
  readonly local = new Map<string, Handler>();
  /** Broker-local methods whose answer depends on the caller (what it may see). */
  readonly callerAware = new Map<string, CallerAwareHandler>();
  private readonly pending = new InFlight<MsgId, PendingRpc>();
  /** Calls in flight per exposer session (the `less_busy` load). */
  private readonly inflight = new Map<Session, number>();
  private readonly picker: ExposerPicker;
  /** Set by a cluster (src/cluster): routes calls to the other brokers. */
  remote: RemoteRpc | undefined;

  /** @throws RpcPolicyError for an unknown policy name */
  constructor(private readonly host: RpcHost, private readonly requestTimeout: number, policy?: RpcPolicy) {
    this.picker = new ExposerPicker(policy);
  }

  /** Calls forwarded and not yet answered. */
  get size(): number {
    return this.pending.size;
  }

  onRpc(session: Session, msg: RpcMsg, frame: Frame): void {
    // No closure per call: every answer below is one `host.reply` (W4's tail, README).
    const { host } = this;
    const caller = session.twin;
    const open = BUILTINS.has(msg.topic) || host.guard.mayCall(caller, msg.topic);
    if (!open) return host.reply(session, msg.id, STATUS.ERROR, 'unauthorized');
    if (msg.target !== null && msg.target !== host.name) {
      // Another tenant's names are not visible: as if never seen (spec §5.3, 45).
      const visible = host.guard.sees(caller, msg.target);
      const target = visible ? host.named(msg.target) : undefined;
      if (visible && target?.session == null && this.remote?.target(session, msg) === true) return;
      if (target === undefined) return host.reply(session, msg.id, STATUS.TARGET_NOT_FOUND, msg.target);
      if (target.session === null) return host.reply(session, msg.id, STATUS.TARGET_DOWN, msg.target);
      return this.forward(session, target.session, msg, frame);
    }
    if (this.callLocal(session, msg)) return;
    if (msg.target === host.name) return host.reply(session, msg.id, STATUS.METHOD_NOT_FOUND, msg.topic);
    if (this.remote?.method(session, msg, this.localServers) === true) return;
    const choice = this.picker.pick(msg.topic, host.router.exposersOf(msg.topic), caller,
      host.guard.servers(caller, msg.topic), this.load);
    switch (choice) {
      case 'not_found': return host.reply(session, msg.id, STATUS.METHOD_NOT_FOUND, msg.topic);
      case 'unavailable': return host.reply(session, msg.id, STATUS.METHOD_UNAVAILABLE, msg.topic);
      case 'loopback': return host.reply(session, msg.id, STATUS.METHOD_LOOPBACK, msg.topic);
      default: return this.forward(session, choice.session!, msg, frame);
    }
  }

  /**
   * How many connected exposers of `method` here may serve `caller` (itself not counted): the
   * turns this broker takes with the cluster's other brokers. One function for every call.
   */
  private readonly localServers = (caller: Twin, method: string): number => {
    const admits = this.host.guard.servers(caller, method);
    let count = 0;
    for (const twin of this.host.router.exposersOf(method)) {
      if (twin !== caller && twin.session !== null && (admits === undefined || admits(twin))) count++;
    }
    return count;
  };

  /** Calls in flight to a twin (the `less_busy` load); one function for every call. */
  private readonly load = (twin: Twin): number => (twin.session === null ? 0 : this.inflight.get(twin.session) ?? 0);

  /** Run a broker-local method of `msg.topic`, if there is one, and answer with its result. */
  private callLocal(session: Session, msg: RpcMsg): boolean {
    const { host } = this;
    const aware = this.callerAware.get(msg.topic);
    const local = aware === undefined ? this.local.get(msg.topic) : (...args: unknown[]) => aware(session.twin, ...args);
    if (local === undefined) return false;
    invokeHandler(local, msg.args).then(
      // A DataFrame result (query_<t>) travels as tag 80 (spec §7).
      (result) => host.reply(session, msg.id, STATUS.OK, encodeResult(result) ?? null),
      (err: unknown) => host.reply(session, msg.id, STATUS.METHOD_EXCEPTION, errorText(err)),
    );
    return true;
  }

  private forward(caller: Session, exposer: Session, msg: RpcMsg, frame: Frame): void {
    const taken = this.pending.get(msg.id);
    if (taken !== undefined) {
      // Ids are unique per link only (spec §2.4): another caller's call under this id keeps
      // it, and this one is refused rather than answered with the other's result.
      if (taken.caller !== caller) return this.host.reply(caller, msg.id, STATUS.ERROR, 'call id in use');
      this.forget(msg.id);
    }
    this.pending.set(msg.id, { caller, exposer, topic: msg.topic, deadline: clockNow(this.host.scheduler) + this.requestTimeout });
    this.inflight.set(exposer, (this.inflight.get(exposer) ?? 0) + 1);
    if (frame instanceof Uint8Array && exposer.codec.kind === 'cbor') exposer.sendFrame(frame);
    else exposer.send(msg);
  }

  onResponse(session: Session, msg: ResponseMsg, frame: Frame): void {
    if (msg.stream === 'cancel') return this.onCancel(session, msg.id);
    const pending = this.pending.get(msg.id);
    if (pending === undefined || pending.exposer !== session) {
      this.host.log.debug({ id: msg.id.toString(16) }, 'response with unknown id ignored');
      return;
    }
    // A started stream lives until its end, an error, a cancel or a disconnect: however slow
    // its items, it is not forgotten.
    if (msg.stream === 'item') pending.deadline = Number.POSITIVE_INFINITY;
    else this.forget(msg.id);
    const caller = pending.caller;
    if (caller.twin.session !== caller) return;
    if (frame instanceof Uint8Array && caller.codec.kind === 'cbor') caller.sendFrame(frame);
    else if (msg.stream === undefined) this.host.reply(caller, msg.id, msg.status, msg.data);
    else this.relayItem(pending, msg);
  }

  /** A stream item or end to a JSON caller; one it cannot carry fails the call with 40. */
  private relayItem(pending: PendingRpc, msg: ResponseMsg): void {
    try {
      pending.caller.send(msg);
    } catch (err) {
      this.host.reply(pending.caller, msg.id, STATUS.METHOD_EXCEPTION, errorText(err));
      if (this.forget(msg.id)) this.cancel(pending.exposer, msg.id);
    }
  }

  /** The caller withdraws call `id`: forget it and tell the exposer serving it. */
  private onCancel(session: Session, id: MsgId): void {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.caller !== session) {
      if (this.remote?.cancel(session, id) === true) return;
      this.host.log.debug({ id: id.toString(16) }, 'cancel of an unknown call ignored');
      return;
    }
    this.forget(id);
    this.cancel(pending.exposer, id);
  }

  /** Drop call `id` from the table and from its exposer's load; false when unknown. */
  private forget(id: MsgId): boolean {
    const pending = this.pending.get(id);
    if (pending === undefined) return false;
    this.pending.delete(id);
    // An idle exposer keeps its 0 until it detaches: no table churn per call.
    this.inflight.set(pending.exposer, Math.max(0, (this.inflight.get(pending.exposer) ?? 1) - 1));
    return true;
  }

  private cancel(exposer: Session, id: MsgId): void {
    if (exposer.link.isOpen) exposer.send({ type: 'response', id, status: STATUS.OK, data: null, stream: 'cancel' });
  }

  /** A session is gone: calls routed to it will never be answered, so tell their callers now. */
  detach(session: Session): void {
    this.remote?.detach(session);
    for (const [id, pending] of this.pending) {
      if (pending.exposer === session) {
        this.forget(id);
        this.host.reply(pending.caller, id, STATUS.METHOD_UNAVAILABLE, pending.topic);
      } else if (pending.caller === session) {
        // Nobody will read the answer: the exposer releases the handler (streams above all).
        this.forget(id);
        this.cancel(pending.exposer, id);
      }
    }
    this.inflight.delete(session); // after the loop: forget() above writes the session's 0
  }

  /**
   * Forget calls past their request timeout (the caller's own timer has fired, or it would
   * have cancelled) and tell their exposers, which release the handlers.
   */
  sweep(now: number): void {
    for (const [id, pending] of this.pending) {
      if (pending.deadline > now) continue;
      this.forget(id);
      this.cancel(pending.exposer, id);
    }
  }

  clear(): void {
    this.pending.clear();
    this.inflight.clear();
  }
}
