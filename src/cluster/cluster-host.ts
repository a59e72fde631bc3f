/**
 * What the cluster link uses of the broker it serves (`BrokerImpl` provides it through a few
 * lines of wiring in broker.ts), and the two hooks the broker consults when a cluster is set:
 * acknowledged publishes go to JetStream first, and RPCs may be answered by another broker.
 */
import type { Observable } from 'rxjs';
import type { Published } from '../broker/types.js';
import type { ReplayAdmits } from '../broker/replay-send.js';
import type { Session, Twin } from '../broker/twin.js';
import type { MsgId, PubMsg, RpcMsg } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Identity } from '../security/authenticator.js';
import type { Logger } from '../types.js';
import type { ClusterDataGate } from './data-gate.js';

/** Takes the QoS1/2 publishes of the broker's components (publish-path.ts). */
export type Replicate = (session: Session, msg: PubMsg) => void;

/** Routes RPCs to other brokers of the cluster (rpc-routing.ts). */
export interface RemoteRpc {
  /**
   * Take a call of `caller` to another broker? False leaves it to this broker. `localServers`
   * counts the exposers of this broker that may serve the caller: they take their turn in the
   * round robin.
   */
  method(caller: Session, msg: RpcMsg, localServers: (caller: Twin, method: string) => number): boolean;
  /** Take a call whose target is not connected here? */
  target(caller: Session, msg: RpcMsg): boolean;
  /** The caller cancels call `id`: true when it was a stream served by another broker (then cancelled there). */
  cancel(caller: Session, id: MsgId): boolean;
  /** A session is gone: cancel its calls served by other brokers. */
  detach(session: Session): void;
}

/** Twins shared between brokers (twin-kv.ts). */
export interface SharedTwins {
  /** A named twin was bound to a connection here: take over what another broker knew of it (before its replay). */
  bound(twin: Twin): void;
  /** Run `run` (the ACK2s of deliveries up to the twin's mark) once that mark is shared. */
  afterShared(twin: Twin, run: () => void): void;
  /** Send what the twin missed before this broker joined (once, before its first replay); undefined: nothing. */
  gap(twin: Twin, session: Session, admits: ReplayAdmits | undefined, maxPeriod: bigint): Promise<void> | undefined;
}

export interface ClusterHooks {
  readonly replicate: Replicate;
  readonly remote: RemoteRpc;
  readonly twins?: SharedTwins;
}

export interface ClusterHost {
  readonly name: string;
  readonly log: Logger;
  readonly requestTimeout: number;
  /** Every publish the broker accepted. Hot. */
  readonly messages$: Observable<Published>;
  /**
   * Log, route and pass on a publish that entered the cluster elsewhere; `from` is not delivered
   * to. `publisher`: its publisher's name ('' anonymous) when `from` is not here, for the tenant
   * checks (absent: the broker's own, every tenant's).
   */
  inject(msg: PubMsg, origin: string, from: Twin | null, publisher?: string): void;
  /** Serve a link the cluster opens to the broker (its in-process component), trusted. */
  attach(link: Link): void;
  reply(session: Session, id: MsgId, status: number, data: unknown): void;
  /** Methods exposed by this broker's own components. */
  exposed(): string[];
  /** With isolated tenants, the tenants of the connected exposers of each method; else undefined. */
  exposerTenants(): Record<string, string[]> | undefined;
  /** Named components connected to this broker. */
  online(): string[];
  /** Are tenants isolated here (more than one configured)? */
  isolated(): boolean;
  /** The tenant of a component's name. */
  tenantOf(name: string): string;
  /**
   * May `caller`, a component of another broker, call `method` here (its private-method rights;
   * undefined: a caller its broker did not name, public methods only)?
   */
  mayCall(caller: Identity | undefined, method: string): boolean;
  /** Topics and patterns this broker's components subscribe to, undefined above `limit` (interest.ts). */
  interest(limit: number): string[] | undefined;
  /** Call `changed` whenever a subscription comes or goes; returns the undo. */
  watch(changed: () => void): () => void;
  /** The named twin `name`, online or not. */
  twin(name: string): Twin | undefined;
  subscribe(twin: Twin, topic: string, msgFrom: number): void;
  unsubscribe(twin: Twin, topic: string): void;
  /** recv of the last message logged (the one just injected, right after `inject`). */
  logHead(): bigint;
  /** The schema tables' gate, when the broker has tables (data-gate.ts): one writer, RPCs at the leader. */
  readonly data?: ClusterDataGate;
  /** Elect a leader even without tables: the `--mqtt`/`--join` bridges run on it (leader-bridges.ts). */
  readonly leads?: boolean;
  /** Install the hooks (once the link is up) or remove them (undefined, on close). */
  use(hooks: ClusterHooks | undefined): void;
}
