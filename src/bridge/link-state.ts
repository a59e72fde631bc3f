import type { Status } from '../types.js';

/**
 * The state of one of a broker's links to another network, as `Broker.links$` lists them. Kept
 * apart from the bridges' options so that the broker's types never name the optional `mqtt` peer.
 */
export interface LinkState {
  /** `mqtt` for the MQTT bridge (spec §9), `join` for a joined Rembus broker (spec §10). */
  readonly kind: 'mqtt' | 'join';
  /** The URL the link dials, as configured. */
  readonly url: string;
  /** The link's state; `up` once it forwards in both directions. */
  readonly status: Status;
}
