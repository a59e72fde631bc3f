import type { Observable } from 'rxjs';
import type { RetryBackoffConfig } from '../../operators/retry-backoff.js';
import type { Link } from '../transport/link.js';
import type { OverflowPolicy, PublishOptions } from './publish-options.js';
import type { LiveQueryEvent, LiveQueryOptions, QueryOptions } from './query.js';
import type {
  ActionEvent, ActionHandler, ActionOptions, CallOptions, ExposeOptions, GatherOptions, GatherReply, Handler, Logger,
  Message, PresenceState, Status, SubscribeOptions,
} from '../types.js';
import type { ContractMessage } from '../contracts/client.js';
import type { MethodArgs, MethodContract, MethodHandler, MethodResult } from '../contracts/method.js';
import type { Params } from '../contracts/params.js';
import type { ContractQueryOptions } from '../contracts/query.js';
import type { TopicContract, TopicInput, TopicRow } from '../contracts/topic.js';
import type { InvalidValue } from '../contracts/violations.js';

/** A private key object: a Node `KeyObject` or a WebCrypto `CryptoKey` (structural, so no runtime's types are needed). */
export interface PrivateKeyObject { readonly type: string }

/**
 * A component's secret: a private RSA/ECDSA key (PEM text or DER bytes, a `KeyObject`, a
 * `CryptoKey`), or the text of a shared secret.
 */
export type ComponentKey = string | Uint8Array | PrivateKeyObject;

/** Opens a link to `scheme://host:port`; may return a Promise or an Observable of the link. */
export type Dialer = (url: string) => Promise<Link> | Observable<Link>;

/** Options of {@link component}. */
export interface ComponentOptions {
  /** RPC, admin and login timeout, ms. Default 10_000 (spec §11, PY). */
  requestTimeout?: number;
  /**
   * Give up one attempt to open the link after this many ms; `connect()` also rejects with
   * `ConnectionError` (naming the last cause) when not up within it. Default 10_000.
   */
  connectTimeout?: number;
  /**
   * Reconnect backoff. Default `{ initialDelay: 250, maxDelay: 5_000, jitter: 0.5 }`, retried
   * forever. `failback`: while up on a failover URL, probe the first one this often (ms) and
   * go back to it once it answers; default 10_000, 0 never.
   */
  reconnect?: Pick<RetryBackoffConfig, 'initialDelay' | 'maxDelay' | 'maxRetries' | 'jitter'> & { failback?: number };
  /** `connect()` only: give up waiting for the first connection when this aborts. Default none. */
  signal?: AbortSignal;
  /** Publishes held while disconnected (QoS1/2 ones waiting for the link included). Default 10_000. */
  offlineCapacity?: number;
  /** When the offline buffer is full: throw `QueueFullError`, or drop the oldest or the newest. Default 'error'. */
  offlineOverflow?: OverflowPolicy;
  /** QoS1/2: wait this long for the ACK before re-sending, ms. Default 2_000 (spec §11). */
  ackTimeout?: number;
  /** QoS1/2: re-sends before giving up with `AckTimeoutError`. Default 10. */
  sendRetries?: number;
  /**
   * QoS1/2: publishes that may await their ACK at once. Later ones wait in order, their
   * `ackTimeout` not yet running, so a burst is not re-sent only because it sat in the socket
   * behind itself. Default 1_024.
   */
  maxInflight?: number;
  /** QoS1/2: publishes that may wait for room in that window; past it `publish$` errors with `QueueFullError`. Default 100_000. */
  inflightQueueCapacity?: number;
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
  /**
   * Node, `ws://`/`wss://`: ping the broker this often, ms, and drop the link when two pings in
   * a row go unanswered, so a path that died silently (no close ever arrives) is reconnected
   * within three periods; 0 never. Browsers cannot send pings (their links rely on the broker's).
   * Default 30_000 (the reference clients' 30 s).
   */
  pingInterval?: number;
  /**
   * Ask a TS broker for metadata on every message (`Message.id`, `receivedAt`, `from`; TS
   * extension, README "Message metadata"). Retained values are marked either way. It costs the
   * broker one copy of each frame it sends this component. Default false.
   */
  metadata?: boolean;
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
  /**
   * A contract's shared hot stream (README "Typed contracts"): `{ params, value, topic, … }` with
   * the pattern's parameters and the schema's output. A value that does not fit is never
   * delivered: it is counted and reported on `invalid$`.
   */
  subscribe$<C extends TopicContract>(contract: C, options?: SubscribeOptions): Observable<ContractMessage<C>>;
  /** A shared hot stream of the messages published on `pattern`. @throws InvalidTopicError */
  subscribe$<A extends unknown[] = unknown[]>(pattern: string, options?: SubscribeOptions): Observable<Message<A>>;
  /**
   * Resume live delivery paused by `unreactive()`: a TS broker first replays, in order, what
   * was published meanwhile on this component's subscriptions, then live messages flow again.
   * Pausing is for named components (the broker ignores it for an anonymous one).
   * Resolves once the broker answered, or at once while disconnected (sent at the next login).
   * Rejects with `RpcError` if the broker refuses, `NotSupportedError` on an MQTT component.
   * @see unreactive
   */
  reactive(): Promise<void>;
  /**
   * Pause live delivery at the broker (Rembus `unreactive`): nothing published reaches this
   * component until `reactive()`. The pause outlives a dropped link. A PY broker does not pause
   * (it ignores the command); a JL broker pauses but replays on resume only subscriptions with a
   * msgfrom. @see reactive
   */
  unreactive(): Promise<void>;
  /**
   * Values that failed their contract at this component (on receipt, a call's arguments at the
   * exposer, an answer at the caller), each with the running `count`. Hot; completes on `close()`.
   */
  readonly invalid$: Observable<InvalidValue>;
  /**
   * Publish through a contract with QoS0: the value is checked first and nothing is sent when it
   * does not fit. @throws ContractValidationError, ContractParamsError, ContractAsyncError (an async
   * schema: use `publish$`), QueueFullError
   */
  publish<C extends TopicContract>(contract: C, params: Params<C['pattern']>, value: TopicInput<C>): void;
  /** Publish with QoS0. Buffered while disconnected. @throws InvalidTopicError, QueueFullError */
  publish(topic: string, ...args: unknown[]): void;
  /** `publish$` through a contract: errors with ContractValidationError (nothing sent) or, from a TS broker with the contract, ContractRefusedError. */
  publish$<C extends TopicContract>(contract: C, params: Params<C['pattern']>, value: TopicInput<C>, options?: PublishOptions): Observable<void>;
  /**
   * Publish with a QoS; cold. QoS0 completes at once; QoS1 completes on the ACK, QoS2 after
   * the ACK2 is sent; errors with `AckTimeoutError` after the last retry, `UnauthorizedError`
   * at once when a TS broker refuses it (private topic, `auth: 'required'`), `QueueFullError`
   * when the offline buffer or the queue behind the `maxInflight` window is full,
   * `ConnectionClosedError` when the component closes first. Unsubscribing withdraws it:
   * nothing more is sent for it. @throws InvalidTopicError
   */
  publish$(topic: string, args?: unknown[], options?: PublishOptions): Observable<void>;
  /** Promise helper over `publish$`. */
  publishAsync<C extends TopicContract>(contract: C, params: Params<C['pattern']>, value: TopicInput<C>, options?: PublishOptions): Promise<void>;
  publishAsync(topic: string, args?: unknown[], options?: PublishOptions): Promise<void>;
  /**
   * A cold RPC through a contract: the arguments are checked (nothing sent when they do not fit:
   * ContractValidationError), each answer is checked and typed (an answer that does not fit
   * errors the call with ContractValidationError and is counted on `invalid$`).
   */
  rpc$<M extends MethodContract>(method: M, ...args: MethodArgs<M>): Observable<MethodResult<M>>;
  /**
   * A cold RPC: one request per subscription. Emits every value the exposer sends (an
   * Observable handler streams, README "Streaming RPC on the wire"; a value, a Promise or a
   * PY/JL exposer gives one) and completes when the call ends. Unsubscribing before the end
   * withdraws the call: the exposer unsubscribes its handler and aborts its signal.
   * Errors: `RpcError` (handler failed: 40; exposer gone mid-call: 43; …), `MethodNotFoundError`,
   * `RpcTimeoutError` (no first answer in time; built when the timeout fires, so its stack
   * shows the timer rather than the caller), `ConnectionClosedError`.
   */
  rpc$<R = unknown>(method: string, ...args: unknown[]): Observable<R>;
  call$<M extends MethodContract>(method: M, args: MethodArgs<M>, options?: CallOptions): Observable<MethodResult<M>>;
  /** `rpc$` with options (direct target, timeout, `stream: false` for one answer). */
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
  rpc<M extends MethodContract>(method: M, ...args: MethodArgs<M>): Promise<MethodResult<M>>;
  /** Promise helper: one answer (a streaming handler's last value), without the stream flag. */
  rpc<R = unknown>(method: string, ...args: unknown[]): Promise<R>;
  call<M extends MethodContract>(method: M, args: MethodArgs<M>, options?: CallOptions): Promise<MethodResult<M>>;
  /** Promise helper over `call$`; `stream` defaults to false (one answer). */
  call<R = unknown>(method: string, args: unknown[], options?: CallOptions): Promise<R>;
  /**
   * Serve a contract method: the handler gets the checked arguments (schema outputs); arguments
   * that do not fit never reach it (the caller gets RpcError 40, counted on `invalid$`), nor does
   * a result that does not fit reach the caller.
   */
  expose<M extends MethodContract>(method: M, handler: MethodHandler<M>, options?: ExposeOptions): () => void;
  /**
   * Serve `method` with a value, Promise or Observable handler (see `Handler`); with
   * `{ context: true }` the handler also gets an `RpcContext` (abort signal) as last argument.
   * Returns the teardown that unexposes it. @throws InvalidTopicError
   */
  expose(method: string, handler: Handler, options?: ExposeOptions): () => void;
  /**
   * The rows of a contract's table at a broker that has the contract (`query_<table>`, spec
   * §8.4): one emission, then complete. With `{ frame: true }` the DataFrame as received. With
   * `{ live: true }` the live query of the contract's table (see the table-name form below).
   */
  query$<C extends TopicContract>(contract: C, options: Omit<LiveQueryOptions, 'where'> & { readonly where?: string }): Observable<LiveQueryEvent<TopicRow<C>>>;
  query$<C extends TopicContract>(contract: C, options?: ContractQueryOptions & { frame?: false }): Observable<readonly TopicRow<C>[]>;
  query$<C extends TopicContract>(contract: C, options: ContractQueryOptions & { frame: true }): Observable<unknown>;
  /**
   * Send `goal` to action `name` (served by `exposeAction`): emits `{ type: 'feedback', value }`
   * while it runs, then `{ type: 'result', value }`, and completes. Unsubscribing cancels the
   * goal. Errors: `ActionPreemptedError` when a newer goal preempted it, and those of `call$`.
   */
  action$<F = unknown, R = unknown>(name: string, goal: unknown,
    options?: ActionOptions): Observable<ActionEvent<F, R>>;
  /**
   * Serve action `name`: `handler(goal, { feedback, signal })` returns the result (value,
   * Promise, or Observable whose last value it is). A new goal preempts the running one (its
   * signal aborts, its caller gets `ActionPreemptedError`). Returns the teardown.
   */
  exposeAction<G = any, F = unknown, R = unknown>(name: string, handler: ActionHandler<G, F, R>): () => void;
  /**
   * Scatter-gather: call every connected exposer of `method` (targeted calls, one answer each)
   * and emit `{ from, result }` as answers arrive; complete after `quorum` answers, cancelling
   * the rest. Errors: `QuorumError` when failures or the timeout leave the quorum unmet.
   */
  gather$<R = unknown>(method: string, args: unknown[], options?: GatherOptions): Observable<GatherReply<R>>;
  /**
   * Query a broker schema table (README "Live queries"). Without `live`: emits the rows matching
   * `where` now, once, and completes. With `live: true`: emits `{ type: 'snapshot', rows }`,
   * then `{ type: 'rows', rows }` for each commit of matching rows, with no gap and no duplicate
   * between them; a reconnect emits a fresh snapshot; unsubscribing stops the broker's work.
   * Rows are objects (timestamps as `Date`, 64-bit integers as bigint). Errors:
   * `UnknownTableError`, `QueryError` (bad `where`), `LiveQueryUnsupportedError`,
   * `LiveQueryLimitError`, `LiveQueryEndedError`, and those of `call$`.
   */
  query$<R = Record<string, unknown>>(table: string, options: LiveQueryOptions): Observable<LiveQueryEvent<R>>;
  query$<R = Record<string, unknown>>(table: string, options?: QueryOptions): Observable<R[]>;
  /**
   * The connected named components and what they expose: the broker's snapshot, then its
   * `component_info` events (spec §4.4); refreshed after every reconnect. Shared; replays the
   * latest state to late subscribers.
   */
  presence$(): Observable<PresenceState>;
  /** The connected components exposing methods that match `pattern`, with those methods. @throws InvalidTopicError */
  services$(pattern: string): Observable<PresenceState>;
  /** Emits the name of a connected exposer of `method` once there is one, then completes. @throws InvalidTopicError */
  whenAvailable$(method: string): Observable<string>;

  /** Close the link, complete every stream, fail pending calls. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
