import type { Link } from '../transport/link.js';
import type { Handler, Logger } from '../types.js';

/** Options of {@link broker}. */
export interface BrokerOptions {
  /** WebSocket port; `0` picks a free one; `null` opens no listener (use `handle`). Default 8338. */
  port?: number | null;
  /** Interface to listen on. Default `'0.0.0.0'`. */
  host?: string;
  /** Broker name, answered by the `rid` RPC and used as a direct-RPC target. Default `'broker'`. */
  name?: string;
  /** How long a routed RPC waits for its exposer's answer before the mapping is forgotten, ms. Default 10_000. */
  requestTimeout?: number;
  /** Deliver live publishes only to twins that sent `reactive` (JL behaviour). Default false (PY, spec §4.4). */
  requireReactive?: boolean;
  /** WebSocket keep-alive: ping period, ms; a socket silent for a whole period is closed. 0 disables. Default 30_000. */
  pingInterval?: number;
  /** pino-shaped logger. Default silent. */
  logger?: Logger;
}

/** A running broker. */
export interface Broker {
  /** The broker's name (`rid`). */
  readonly name: string;
  /** The bound WebSocket port, or undefined without a listener. */
  readonly port: number | undefined;
  /** `ws://host:port` clients can dial, or undefined without a listener. */
  readonly url: string | undefined;
  /** Serve one more connection: the broker accepts any Link. */
  handle(link: Link): void;
  /** Expose a broker-local method (value, Promise or Observable result). Returns its teardown. */
  expose(method: string, handler: Handler): () => void;
  /** Close every connection and the listener. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
