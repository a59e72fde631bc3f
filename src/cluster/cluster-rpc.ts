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
 * - **Serving.** Each broker answers on `rembus.<c>.rpc.<id>` through an in-process component,
 *   which is never routed to another broker again (no loops).
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
import type { Session } from '../broker/twin.js';
import { component } from '../component/component.js';
import type { Component } from '../component/types.js';
import { MethodNotFoundError, RpcError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { COMPONENT_INFO_TOPIC, STATUS, type MsgId, type RpcMsg } from '../protocol/messages.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { ClusterHost, RemoteRpc } from './cluster-host.js';
import { StreamRelay } from './cluster-stream.js';

const cbor = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

/** A broker in the directory; `tentative`: known only as a caller of a stream served here, not from an advert yet. */
interface Entry { methods: Set<string>; names: Set<string>; expires: number; tentative?: boolean }

export class ClusterRpc implements RemoteRpc {
  private readonly peers = new Map<string, Entry>();
  private readonly turns = new Map<string, number>();
  private readonly local: Component;
  private readonly localName: string;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  private readonly presence: Subscription;
  private pendingAdvert: ReturnType<typeof setTimeout> | undefined;
  /** Streaming calls to and from other brokers. */
  readonly streams: StreamRelay;

  constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost, private readonly prefix: string,
    private readonly id: string, private readonly interval: number, private readonly timeout: number) {
    this.localName = `${host.name}.cluster.${id}`;
    this.local = component(`ws://in-process:0/${encodeURIComponent(this.localName)}`, {
      logger: host.log,
      dial: () => {
        const [mine, broker] = memoryLinkPair([`in-process:${this.localName}`, `in-process:${host.name}`]);
        host.attach(broker);
        return Promise.resolve(mine);
      },
    });
    this.streams = new StreamRelay(nc, host, id, this.local, failure);
    nc.subscribe(`${prefix}.adv`, { callback: (err, m) => { if (err === null) this.onAdvert(m); } });
    nc.subscribe(`${prefix}.rpc.${id}`, { callback: (err, m) => { if (err === null) void this.serve(m); } });
    // Presence events (a component up or down, a method exposed or withdrawn): advertise at once.
    this.presence = this.local.subscribe$(COMPONENT_INFO_TOPIC).subscribe(() => this.soon());
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
    this.nc.publish(`${this.prefix}.adv`, cbor.encode({ id: this.id, m: this.host.exposed(), n: this.host.online(), i: this.interval }));
  }

  private onAdvert(m: Msg): void {
    let value: { id?: unknown; m?: unknown; n?: unknown; i?: unknown };
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
    this.peers.set(value.id, { methods: strings(value.m), names: strings(value.n), expires: Date.now() + 3 * every });
    if (!known) this.advertise();
  }

  method(caller: Session, msg: RpcMsg, localExposers: number): boolean {
    if (caller.twin.name === this.localName) return false;
    const remote: string[] = [];
    for (const [id, entry] of this.peers) if (entry.methods.has(msg.topic)) remote.push(id);
    if (remote.length === 0) return false;
    remote.sort();
    const turn = this.turns.get(msg.topic) ?? 0;
    this.turns.set(msg.topic, turn + 1);
    const n = remote.length + (localExposers > 0 ? 1 : 0);
    const pick = turn % n;
    if (pick === remote.length) return false;
    this.forward(caller, msg, remote[pick]!);
    return true;
  }

  target(caller: Session, msg: RpcMsg): boolean {
    if (caller.twin.name === this.localName || msg.target === null) return false;
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
    if (msg.stream === true) return this.streams.forward(caller, msg, subject, broker);
    this.nc.request(subject, cbor.encode([msg.topic, msg.target, msg.args]), { timeout: this.timeout })
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
    let request: [string, string | null, unknown[], boolean?, string?];
    try {
      request = decoder.decode(m.data) as typeof request;
    } catch {
      return;
    }
    const [method, target, args, stream, from] = request;
    const options = target === null ? {} : { target };
    if (stream === true && m.reply !== undefined && typeof from === 'string') {
      // A caller not advertised yet (rare: every broker advertises on start and answers a new
      // one's advert) still expires if it never is (killed before its first advert).
      if (!this.peers.has(from)) {
        this.peers.set(from, { methods: new Set(), names: new Set(), expires: Date.now() + 3 * Math.max(this.interval, 10_000), tentative: true });
      }
      return this.streams.serve(m.reply, method, args, options, from);
    }
    try {
      data = await this.local.call(method, args, options);
    } catch (err) {
      [status, data] = failure(err);
    }
    if (this.closed) return;
    try {
      m.respond(cbor.encode([status, data ?? null]));
    } catch (err) {
      m.respond(cbor.encode([STATUS.METHOD_EXCEPTION, errorText(err)]));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.pendingAdvert);
    this.presence.unsubscribe();
    this.streams.close();
    await this.local.close();
  }
}

/** The status and data a failed call answers with. */
function failure(err: unknown): [number, unknown] {
  const status = err instanceof MethodNotFoundError ? STATUS.METHOD_NOT_FOUND
    : err instanceof RpcError ? err.remoteCode : STATUS.METHOD_EXCEPTION;
  return [status, err instanceof RpcError ? err.details : errorText(err)];
}
