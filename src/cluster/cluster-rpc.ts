/**
 * RPC across the brokers of a cluster, on NATS request/reply:
 *
 * - **Directory.** At once when one of its components comes, goes, exposes or withdraws a
 *   method (the broker's `component_info` presence events), and every `advertiseInterval`, each broker publishes on `rembus.<c>.adv` the
 *   methods its own components expose and the names connected to it (and its interval); an
 *   entry not refreshed for three of the sender's intervals is dropped (a broker killed with -9 leaves the directory that fast).
 *   A broker hearing a broker it does not know yet answers with its own advert at once.
 * - **Round robin.** A call whose method is exposed on other brokers takes turns, per method,
 *   between this broker (when one of its components exposes it: the broker's own policy then
 *   picks among them) and each of those brokers.
 * - **Targeted.** A call to a name connected to another broker goes to that broker.
 * - **Serving.** Each broker answers on `rembus.<c>.rpc.<id>` through an in-process component
 *   (cluster-delegates.ts), whose calls are never routed to another broker again (no loops).
 * - **Tenants and private methods.** A call carries its caller's name and whether it proved it.
 *   The serving broker checks the caller's right to a private method, and with isolated tenants
 *   calls through its delegate of the caller's tenant, so only that tenant's exposers and names
 *   serve it. Adverts then say, per method, the tenants of its exposers, and a caller's calls
 *   take turns only between the brokers (this one included) with an exposer that may serve it:
 *   another tenant's exposer of the same name neither serves nor hinders them.
 *
 * A call that accepts a stream (`rpc$`) is relayed item by item, and cancelled across brokers
 * (cluster-stream.ts): the caller's cancel or disconnect stops it on the serving broker, and so
 * does the calling broker leaving the directory. A stream whose serving broker leaves the
 * directory (killed, or closed mid-stream) ends for its caller with status 43 (method
 * unavailable) instead of waiting forever; so do the streams still open when this broker closes.
 */
import { Decoder, Encoder } from 'cbor-x';
import type { Subscription } from 'rxjs';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { isDelegate } from '../broker/trusted-links.js';
import type { Session, Twin } from '../broker/twin.js';
import type { Component } from '../component/types.js';
import { MethodNotFoundError, RpcError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { COMPONENT_INFO_TOPIC, STATUS, type MsgId, type RpcMsg } from '../protocol/messages.js';
import type { Identity } from '../security/authenticator.js';
import { Delegates } from './cluster-delegates.js';
import type { ClusterHost, RemoteRpc } from './cluster-host.js';
import { StreamRelay } from './cluster-stream.js';

const cbor = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

/**
 * A broker in the directory; `tenants`: of each method's exposers there, when it isolates
 * tenants; `tentative`: known only as a caller of a stream served here, not from an advert yet.
 */
interface Entry { methods: Set<string>; names: Set<string>; tenants?: Map<string, Set<string>>; expires: number; tentative?: boolean }

/** A caller as a call carries it to the serving broker: its name and whether it proved it. */
type Caller = [name: string, proven: boolean];

export class ClusterRpc implements RemoteRpc {
  private readonly peers = new Map<string, Entry>();
  private readonly turns = new Map<string, number>();
  private readonly delegates: Delegates;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  private readonly presence: Subscription;
  private pendingAdvert: ReturnType<typeof setTimeout> | undefined;
  /** Streaming calls to and from other brokers. */
  readonly streams: StreamRelay;

  constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost, private readonly prefix: string,
    private readonly id: string, private readonly interval: number, private readonly timeout: number) {
    this.delegates = new Delegates(host, id);
    this.streams = new StreamRelay(nc, host, id, failure);
    nc.subscribe(`${prefix}.adv`, { callback: (err, m) => { if (err === null) this.onAdvert(m); } });
    nc.subscribe(`${prefix}.rpc.${id}`, { callback: (err, m) => { if (err === null) void this.serve(m); } });
    // Presence events (a component up or down, a method exposed or withdrawn): advertise at once.
    this.presence = this.delegates.main.subscribe$(COMPONENT_INFO_TOPIC).subscribe(() => this.soon());
    this.timer = setInterval(() => this.advertise(), interval);
    this.timer.unref();
    this.advertise();
  }

  /** Advertise once after the events of this turn. */
  private soon(): void {
    if (this.pendingAdvert !== undefined) return;
    this.pendingAdvert = setTimeout(() => {
      this.pendingAdvert = undefined;
      this.advertise();
    }, 0);
  }

  private advertise(): void {
    if (this.closed || this.nc.isClosed()) return;
    const now = Date.now();
    for (const [id, entry] of this.peers) {
      if (entry.expires >= now) continue;
      this.peers.delete(id);
      this.streams.brokerGone(id, `broker ${id} left the cluster`);
    }
    const tenants = this.host.exposerTenants();
    this.nc.publish(`${this.prefix}.adv`, cbor.encode({ id: this.id, m: this.host.exposed(), n: this.host.online(), i: this.interval,
      ...(tenants === undefined ? {} : { t: tenants }) }));
  }

  private onAdvert(m: Msg): void {
    let value: { id?: unknown; m?: unknown; n?: unknown; i?: unknown; t?: unknown };
    try {
      value = decoder.decode(m.data) as typeof value;
    } catch {
      return;
    }
    if (typeof value.id !== 'string' || value.id === this.id) return;
    const prev = this.peers.get(value.id);
    const known = prev !== undefined && prev.tentative !== true;
    const strings = (v: unknown): Set<string> => new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    // Three of the sender's intervals (it may advertise less often than this broker does).
    const every = typeof value.i === 'number' && value.i > 0 ? Math.max(value.i, this.interval) : this.interval;
    const entry: Entry = { methods: strings(value.m), names: strings(value.n), expires: Date.now() + 3 * every };
    if (typeof value.t === 'object' && value.t !== null) {
      entry.tenants = new Map(Object.entries(value.t).map(([method, tenants]) => [method, strings(tenants)]));
    }
    this.peers.set(value.id, entry);
    if (!known) this.advertise();
  }

  method(caller: Session, msg: RpcMsg, localServers: (caller: Twin, method: string) => number): boolean {
    if (isDelegate(caller.twin)) return false;
    // With isolated tenants, only brokers that say they have an exposer of the caller's tenant.
    const tenant = this.host.isolated() ? this.host.tenantOf(caller.twin.name) : undefined;
    const remote: string[] = [];
    for (const [id, entry] of this.peers) {
      if (entry.methods.has(msg.topic) && (tenant === undefined || entry.tenants?.get(msg.topic)?.has(tenant) === true)) remote.push(id);
    }
    if (remote.length === 0) return false;
    remote.sort();
    const turn = this.turns.get(msg.topic) ?? 0;
    this.turns.set(msg.topic, turn + 1);
    const n = remote.length + (localServers(caller.twin, msg.topic) > 0 ? 1 : 0);
    const pick = turn % n;
    if (pick === remote.length) return false;
    this.forward(caller, msg, remote[pick]!);
    return true;
  }

  target(caller: Session, msg: RpcMsg): boolean {
    if (isDelegate(caller.twin) || msg.target === null) return false;
    for (const [id, entry] of this.peers) {
      if (entry.names.has(msg.target)) {
        this.forward(caller, msg, id);
        return true;
      }
    }
    return false;
  }

  private forward(caller: Session, msg: RpcMsg, broker: string): void {
    const reply = (status: number, data: unknown): void => this.host.reply(caller, msg.id, status, data);
    const subject = `${this.prefix}.rpc.${broker}`;
    const who: Caller = [caller.twin.name, caller.login.authenticated];
    if (msg.stream === true) return this.streams.forward(caller, msg, subject, broker, who);
    this.nc.request(subject, cbor.encode([msg.topic, msg.target, msg.args, false, this.id, who]), { timeout: this.timeout })
      .then((m) => {
        const [status, data] = decoder.decode(m.data) as [number, unknown];
        reply(status, data);
      }, (err: unknown) => reply(STATUS.METHOD_UNAVAILABLE, `${msg.topic}: broker ${broker}: ${errorText(err)}`));
  }

  /** The caller withdraws call `id`: true when it is a stream relayed from another broker. */
  cancel(caller: Session, id: MsgId): boolean {
    return this.streams.cancel(caller, id);
  }

  detach(session: Session): void {
    this.streams.detach(session);
  }

  private async serve(m: Msg): Promise<void> {
    let status: number = STATUS.OK;
    let data: unknown;
    let request: [string, string | null, unknown[], boolean?, string?, unknown?];
    try {
      request = decoder.decode(m.data) as typeof request;
    } catch {
      return;
    }
    const [method, target, args, stream, from, who] = request;
    const options = target === null ? {} : { target };
    const via = this.via(callerOf(who), method);
    if (stream === true && m.reply !== undefined && typeof from === 'string') {
      if (Array.isArray(via)) return void m.respond(cbor.encode(['final', ...via]));
      // A caller not advertised yet (rare: every broker advertises on start and answers a new
      // one's advert) still expires if it never is (killed before its first advert).
      if (!this.peers.has(from)) {
        this.peers.set(from, { methods: new Set(), names: new Set(), expires: Date.now() + 3 * Math.max(this.interval, 10_000), tentative: true });
      }
      return this.streams.serve(m.reply, method, args, options, from, via);
    }
    if (Array.isArray(via)) [status, data] = via;
    else {
      try {
        data = await via.call(method, args, options);
      } catch (err) {
        [status, data] = failure(err);
      }
    }
    if (this.closed) return;
    try {
      m.respond(cbor.encode([status, data ?? null]));
    } catch (err) {
      m.respond(cbor.encode([STATUS.METHOD_EXCEPTION, errorText(err)]));
    }
  }

  /**
   * The component to serve a call of `caller` through (cluster-delegates.ts), or the status and
   * data to refuse it with: a private method the caller may not call (10, as on a single
   * broker); with isolated tenants, a caller its broker did not name (an older broker: it
   * reaches no tenant, 42), or one more tenant than the delegates' capacity (43).
   */
  private via(caller: Identity | undefined, method: string): Component | [number, unknown] {
    if (!this.host.mayCall(caller, method)) return [STATUS.ERROR, 'unauthorized'];
    if (!this.host.isolated()) return this.delegates.main;
    if (caller === undefined) return [STATUS.METHOD_NOT_FOUND, method];
    return this.delegates.of(this.host.tenantOf(caller.name)) ?? [STATUS.METHOD_UNAVAILABLE, `${method}: no delegate for the caller's tenant`];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.pendingAdvert);
    this.presence.unsubscribe();
    this.streams.close();
    await this.delegates.close();
  }
}

/** The caller a request names, undefined when it names none (sent by an older broker). */
function callerOf(who: unknown): Identity | undefined {
  return Array.isArray(who) && typeof who[0] === 'string' ? { name: who[0], proven: who[1] === true } : undefined;
}

/** The status and data a failed call answers with. */
function failure(err: unknown): [number, unknown] {
  const status = err instanceof MethodNotFoundError ? STATUS.METHOD_NOT_FOUND
    : err instanceof RpcError ? err.remoteCode : STATUS.METHOD_EXCEPTION;
  return [status, err instanceof RpcError ? err.details : errorText(err)];
}
