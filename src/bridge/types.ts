/**
 * Public shapes of the bridges (spec §9, §10): what a bridge needs from the broker it serves,
 * the link states it reports, and the options of federation. The MQTT bridge's own types live
 * in mqtt-bridge.ts, so that nothing here names the optional `mqtt` peer.
 */
import type { Observable } from 'rxjs';
import type { Published } from '../broker/types.js';
import type { Link } from '../transport/link.js';
import type { Logger, Status } from '../types.js';

export type { LinkState } from './link-state.js';

/** What a bridge running inside a broker uses of it (`BrokerImpl` has this shape). */
export interface BridgeHost {
  /** The broker's name (logs, default client ids). */
  readonly name: string;
  /** Every publish the broker accepted, after it was logged and routed. Hot. */
  readonly messages$: Observable<Published>;
  /** Log and route a QoS0 publish as if sent by `origin` (see `Published.origin`). */
  publish(topic: string, args: unknown[], origin: string, options?: { retain?: boolean; ttl?: number }): void;
  /** Is `topic` private (spec §6.2)? Bridges carry public topics only. */
  isPrivate(topic: string): boolean;
  /** Serve a link the bridge opens to the broker (its in-process component, for RPC). Optional. */
  attach?: (link: Link) => void;
}

/** Options of {@link federate} and {@link bridge}. */
export interface FederationOptions {
  /**
   * Topics forwarded, as Rembus patterns (spec §4.6; a lone `*` is every topic). Default: every
   * topic, `@` chunks included.
   */
  readonly topics?: readonly string[];
  /** How often each side's exposed methods are read again, ms. Default 1_000. */
  readonly refreshInterval?: number;
  /** Forwarded publishes awaiting the far broker's answer; past it new ones are dropped (logged). Default 10_000. */
  readonly maxInFlight?: number;
  /** pino-shaped logger. Default silent. */
  readonly logger?: Logger;
}

/** A running bridge between two Rembus brokers. */
export interface FederationBridge {
  /**
   * The bridge's state: `up` when both sides are up and attached, else the state of the side
   * that is not (the first one when both are not). Replays the latest; completes on close.
   */
  readonly status$: Observable<Status>;
  /** Stop forwarding, withdraw the methods exposed on both sides, close the components it opened. Idempotent. */
  close(): Promise<void>;
}
