import type { Observable } from 'rxjs';
import type { RetryBackoffConfig } from '../../operators/retry-backoff.js';
import type { ComponentKey } from '../security/crypto.js';
import type { Link } from '../transport/link.js';
import type { OverflowPolicy, PublishOptions } from './publisher.js';
import type { CallOptions, Handler, Logger, Message, Status, SubscribeOptions } from '../types.js';

/** Opens a link to `scheme://host:port`; may return a Promise or an Observable of the link. */
export type Dialer = (url: string) => Promise<Link> | Observable<Link>;

/** Options of {@link component}. */
export interface ComponentOptions {
  /** RPC, admin and login timeout, ms. Default 10_000 (spec §11, PY). */
  requestTimeout?: number;
  /** Give up one attempt to open the link after this many ms. Default 10_000. */
  connectTimeout?: number;
  /** Reconnect backoff. Default `{ initialDelay: 250, maxDelay: 5_000 }`, retried forever. */
  reconnect?: Pick<RetryBackoffConfig, 'initialDelay' | 'maxDelay' | 'maxRetries'>;
  /** Publishes held while disconnected (QoS1/2 ones waiting for the link included). Default 10_000. */
  offlineCapacity?: number;
  /** When the offline buffer is full: throw `QueueFullError`, or drop the oldest or the newest. Default 'error'. */
  offlineOverflow?: OverflowPolicy;
  /** QoS1/2: wait this long for the ACK before re-sending, ms. Default 2_000 (spec §11). */
  ackTimeout?: number;
  /** QoS1/2: re-sends before giving up with `AckTimeoutError`. Default 10. */
  sendRetries?: number;
  /** Base URL for bare names and empty hosts (spec §1.2). Default `$REMBUS_BASE_URL` or `ws://127.0.0.1:8338`. */
  baseUrl?: string;
  /** Custom link opener (tests use in-memory links). Default: WebSocket. */
  dial?: Dialer;
  /**
   * The component's secret, for a name with a key on file at the broker (spec §3.3): a private
   * RSA or ECDSA key (PEM or DER, or a `KeyObject`) signs the broker's challenge; any other
   * text is a shared secret (JL). Without it, a challenged login fails with `AuthError`
   * (status 11). Default none.
   */
  key?: ComponentKey;
  /** CA bundle (PEM) to trust for `wss://` beyond the system roots (spec §1.1). Default none. */
  ca?: string | Uint8Array;
  /** pino-shaped logger. Default silent. */
  logger?: Logger;
}

/** A Rembus component: a client of a broker. */
export interface Component {
  /** The component name, or undefined when anonymous. */
  readonly name: string | undefined;
  /** Connection state; replays the latest value and completes on `close()`. */
  readonly status$: Observable<Status>;
  /** Resolves when the component is first up; rejects if it closes or fails for good first. */
  ready(): Promise<void>;
  /** A shared hot stream of the messages published on `pattern`. @throws InvalidTopicError */
  subscribe$<A extends unknown[] = unknown[]>(pattern: string, options?: SubscribeOptions): Observable<Message<A>>;
  /** Publish with QoS0. Buffered while disconnected. @throws InvalidTopicError, QueueFullError */
  publish(topic: string, ...args: unknown[]): void;
  /**
   * Publish with a QoS; cold. QoS0 completes at once; QoS1 completes on the ACK, QoS2 after
   * the ACK2 is sent; errors with `AckTimeoutError` after the last retry, `QueueFullError`
   * when the offline buffer is full. @throws InvalidTopicError
   */
  publish$(topic: string, args?: unknown[], options?: PublishOptions): Observable<void>;
  /** Promise helper over `publish$`. */
  publishAsync(topic: string, args?: unknown[], options?: PublishOptions): Promise<void>;
  /** A cold RPC: one request per subscription; emits the result and completes. */
  rpc$<R = unknown>(method: string, ...args: unknown[]): Observable<R>;
  /** `rpc$` with options (direct target, timeout). */
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
  /** Promise helper over `rpc$`. */
  rpc<R = unknown>(method: string, ...args: unknown[]): Promise<R>;
  /** Promise helper over `call$`. */
  call<R = unknown>(method: string, args: unknown[], options?: CallOptions): Promise<R>;
  /** Serve `method`; returns the teardown that unexposes it. @throws InvalidTopicError */
  expose(method: string, handler: Handler): () => void;

  /** Close the link, complete every stream, fail pending calls. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
