/**
 * What differs between runtimes, as one interface. Two implementations, chosen by the package's
 * `imports` map (`#platform`): `platform-node.ts` under the `node` condition (the `ws` library:
 * TLS options, and the write batching the benchmarks rest on; nodejs-polars DataFrames),
 * `platform-web.ts` everywhere else (`globalThis.WebSocket`; no `node:*`, no `Buffer`).
 * Nothing is chosen by a failing import.
 */
import type { DataFrameCodec } from '../dataframe/frames.js';
import type { Link } from '../transport/link.js';
import type { Component, ComponentKey, ComponentOptions } from './types.js';

/** Options a platform dialer gets from the component. */
export interface PlatformDialOptions {
  /** Give up opening after this many ms. */
  connectTimeout: number;
  /** Extra CA bundle for `wss://` (Node only; browsers use the system store). */
  ca?: string | Uint8Array;
  /** WebSocket pings to the broker, ms; 0 never (Node only: a browser cannot send pings). */
  pingInterval?: number;
}

/** One runtime's transports. */
export interface Platform {
  /** Open a WebSocket link to `scheme://host:port`. */
  dial(url: string, options: PlatformDialOptions): Promise<Link>;
  /** The MQTT component (rembus/mqtt), where this runtime has it; undefined elsewhere. */
  mqtt?: (url: string, options: ComponentOptions) => Promise<Component>;
  /** The default DataFrame representation. */
  frames(): DataFrameCodec;
  /** Login signing, loaded when a challenge or a registration needs it. */
  signer(): Promise<Signer>;
}

/** Signs login challenges and derives the public key to register (spec §3.3, §3.5). */
export interface Signer {
  attestationFor(challenge: Uint8Array, cid: string, key: ComponentKey): Uint8Array | Promise<Uint8Array>;
  registrationKey(key: ComponentKey): { pubkey: Uint8Array; keyType: number } | Promise<{ pubkey: Uint8Array; keyType: number }>;
}

export declare const platform: Platform;
