/**
 * What the cluster link uses of the broker it serves (`BrokerImpl` provides it through a few
 * lines of wiring in broker.ts), and the two hooks the broker consults when a cluster is set:
 * acknowledged publishes go to JetStream first, and RPCs may be answered by another broker.
 */
import type { Observable } from 'rxjs';
import type { Published } from '../broker/types.js';
import type { Session, Twin } from '../broker/twin.js';
import type { MsgId, PubMsg, RpcMsg } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Logger } from '../types.js';
import type { ClusterDataGate } from './data-gate.js';

/** Takes the QoS1/2 publishes of the broker's components (publish-path.ts). */
export type Replicate = (session: Session, msg: PubMsg) => void;

/** Routes RPCs to other brokers of the cluster (rpc-routing.ts). */
export interface RemoteRpc {
  /**
   * Take a call of `caller` to another broker? False leaves it to this broker. `localExposers`
   * is how many twins of this broker expose the method: they take their turn in the round robin.
   */
  method(caller: Session, msg: RpcMsg, localExposers: number): boolean;
  /** Take a call whose target is not connected here? */
  target(caller: Session, msg: RpcMsg): boolean;
}

export interface ClusterHooks {
  readonly replicate: Replicate;
  readonly remote: RemoteRpc;
}

export interface ClusterHost {
  readonly name: string;
  readonly log: Logger;
  readonly requestTimeout: number;
  /** Every publish the broker accepted. Hot. */
  readonly messages$: Observable<Published>;
  /** Log, route and pass on a publish that entered the cluster elsewhere; `from` is not delivered to. */
  inject(msg: PubMsg, origin: string, from: Twin | null): void;
  /** Serve a link the cluster opens to the broker (its in-process component), trusted. */
  attach(link: Link): void;
  reply(session: Session, id: MsgId, status: number, data: unknown): void;
  /** Methods exposed by this broker's own components. */
  exposed(): string[];
  /** Named components connected to this broker. */
  online(): string[];
  /** The schema tables' gate, when the broker has tables (data-gate.ts): one writer, RPCs at the leader. */
  readonly data?: ClusterDataGate;
  /** Elect a leader even without tables: the `--mqtt`/`--join` bridges run on it (leader-bridges.ts). */
  readonly leads?: boolean;
  /** Install the hooks (once the link is up) or remove them (undefined, on close). */
  use(hooks: ClusterHooks | undefined): void;
}
