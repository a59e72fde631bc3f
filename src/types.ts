/**
 * Public interfaces and unions of the component side. Implementations are internal; users get
 * instances from factories (`component()`, `connect()`).
 */
import type { Observable } from 'rxjs';

/** Quality of service of a publish (spec §4.2): at most once, at least once, exactly once. */
export type QoS = 0 | 1 | 2;

/** A logger with the pino method shape. The library is silent unless one is given. */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** One delivered publish. */
export interface Message<A extends unknown[] = unknown[]> {
  /** The concrete topic the publisher used (for wildcard deliveries: the original topic). */
  readonly topic: string;
  /** The positional arguments of the publish. */
  readonly args: A;
  /** The pattern this message was delivered for (equal to `topic` for exact subscriptions). */
  readonly pattern: string;
  /** QoS the message was delivered with. */
  readonly qos: QoS;
  /** The slot carried by a slotted publish (spec §2.4), if any. */
  readonly slot?: number;
  /**
   * The broker's id of this message: its receive time in ns, unique and increasing per broker;
   * the same on a retained or replayed copy. TS brokers only (message metadata, README).
   */
  readonly id?: bigint;
  /** When the broker received it, ms since the epoch (TS brokers only). */
  readonly receivedAt?: number;
  /** The publisher's name, when the broker knows it and its policy gives it (never an anonymous one). */
  readonly from?: string;
  /** True for a retained value sent because this subscription is new (`publish$(…, { retain: true })`, MQTT retain). */
  readonly retained?: boolean;
}

/** Connection state of a component, as a discriminated union on `type`. */
export type Status =
  | { readonly type: 'connecting'; readonly attempt: number }
  | { readonly type: 'up'; readonly url: string }
  | { readonly type: 'down'; readonly error?: unknown }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly error?: unknown }
  | { readonly type: 'closed' };

/**
 * A method handler for `expose`: returns a value, a Promise, or an Observable. An Observable
 * streams every value to a caller that accepts a stream (`rpc$`, `call$`) and completes it when
 * it completes; a caller that wants one answer (`rpc()`, `call()`, the PY and JL clients) gets
 * its **last** value, or null when it completes empty. Unsubscribing the caller (or its
 * disconnect) unsubscribes the handler's Observable.
 */
export type Handler = (...args: any[]) => unknown;

/** What a handler exposed with `{ context: true }` receives after the caller's arguments. */
export interface RpcContext {
  /**
   * Aborted when the call is withdrawn before it ends: the caller unsubscribed, timed out or
   * disconnected, or this component's own link dropped.
   */
  readonly signal: AbortSignal;
  /** The method called. */
  readonly method: string;
  /** True when the caller accepts a stream of answers; false when it wants one. */
  readonly stream: boolean;
}

/** Options of `expose`. */
export interface ExposeOptions {
  /**
   * Call the handler with an {@link RpcContext} as an extra last argument, after the caller's
   * positional arguments (which PY and JL callers send unchanged). Default false.
   */
  context?: boolean;
}

/** Options of `subscribe$`. */
export interface SubscribeOptions {
  /**
   * Where a named component's replay starts when the broker sends what it missed (spec §4.7):
   * `Now` (0, nothing old), `LastReceived` (+Infinity) or a period in nanoseconds (see
   * `period()`). Default `Now`. The first subscriber of a pattern decides it. A TS broker
   * replays it whenever it is declared (before connecting, after, or while reconnecting); the
   * stream then gets the replayed messages, in order, before live ones. A negative or NaN
   * value is refused by the broker: the stream errors with `RpcError`.
   */
  msgfrom?: number;
  /**
   * Join the shared subscription `group` of the pattern (README "Shared subscriptions"): each
   * message goes to one member of the group, round robin among those that can take it, instead
   * of to every subscriber. A separate stream from the plain subscription of the same pattern.
   * Needs a rembus TS broker (on an MQTT component: MQTT 5 `$share/<group>/<pattern>`); a
   * group has no `msgfrom` (the broker refuses one: the stream errors with `RpcError`).
   * Default: none, a plain subscription. @throws InvalidTopicError for a name with `/`, `*`, `+` or `#`
   */
  group?: string;
}

/** Options of `call$`/`call`: an RPC with more than positional arguments. */
export interface CallOptions {
  /** Ask this component to run the call (direct RPC, spec §5.3). Default: broker-routed. */
  target?: string;
  /** Request timeout, ms. Default: the component's `requestTimeout`. */
  timeout?: number;
  /** Abort the call (Promise helpers reject with `signal.reason`). */
  signal?: AbortSignal;
  /**
   * Accept a stream of answers (RPC flag 0x20, README "Streaming RPC on the wire"). Default true
   * for `call$`/`rpc$`; false for the Promise helpers `call`/`rpc`, which resolve with the one
   * answer an exposer gives such a call (an Observable handler's last value).
   */
  stream?: boolean;
}

/** One event of an action (`action$`): feedback while the goal runs, then its result. */
export type ActionEvent<F = unknown, R = unknown> =
  | { readonly type: 'feedback'; readonly value: F }
  | { readonly type: 'result'; readonly value: R };

/** What an action handler (`exposeAction`) receives besides its goal. */
export interface ActionContext<F = unknown> {
  /** Send one feedback value to the goal's caller. Ignored once the goal has ended. */
  feedback(value: F): void;
  /** Aborted when the goal is cancelled (caller unsubscribed or gone) or preempted by a newer goal. */
  readonly signal: AbortSignal;
}

/**
 * An action handler: runs one goal, sends feedback through `ctx.feedback`, and returns the
 * result as a value, a Promise, or an Observable (its last value is the result).
 */
export type ActionHandler<G = any, F = unknown, R = unknown> =
  (goal: G, ctx: ActionContext<F>) => R | Promise<R> | Observable<R>;

/** Options of `action$`: those of `call$` but `stream` (an action is always a stream). */
export type ActionOptions = Omit<CallOptions, 'stream'>;

/** Options of `gather$`. */
export interface GatherOptions {
  /**
   * Answers that complete the gather (the calls still running are cancelled). Default: every
   * exposer connected when the gather starts, at least 1.
   */
  quorum?: number;
  /**
   * The whole gather fails with `QuorumError` when the quorum is not met within this many ms.
   * Default: the component's `requestTimeout`.
   */
  timeout?: number;
}

/** One answer of a scatter-gather call. */
export interface GatherReply<R = unknown> {
  /** The name of the exposer that answered. */
  readonly from: string;
  readonly result: R;
}

/** One connected named component and the methods it exposes (sorted). */
export interface ComponentPresence {
  readonly cid: string;
  readonly exposes: readonly string[];
}

/** The connected named components, sorted by name. */
export type PresenceState = readonly ComponentPresence[];

/**
 * A change of presence, decoded from the broker's `component_info` events (spec §4.4) or its
 * `__presence__` snapshot.
 */
export type PresenceEvent =
  | { readonly type: 'snapshot'; readonly components: PresenceState }
  | { readonly type: 'up'; readonly cid: string; readonly exposes?: readonly string[] }
  | { readonly type: 'down'; readonly cid: string }
  | { readonly type: 'expose' | 'unexpose'; readonly cid: string; readonly method: string };
