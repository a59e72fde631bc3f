/**
 * Public interfaces and unions of the component side. Implementations are internal; users get
 * instances from factories (`component()`, `connect()`).
 */

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
}

/** Connection state of a component, as a discriminated union on `type`. */
export type Status =
  | { readonly type: 'connecting'; readonly attempt: number }
  | { readonly type: 'up'; readonly url: string }
  | { readonly type: 'down'; readonly error?: unknown }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly error?: unknown }
  | { readonly type: 'closed' };

/** A method handler for `expose`: returns a value, a Promise, or an Observable (first value answers). */
export type Handler = (...args: any[]) => unknown;

/** Options of `subscribe$`. */
export interface SubscribeOptions {
  /**
   * Where a named component's replay starts when the broker sends what it missed (spec §4.7):
   * `Now` (0, nothing old), `LastReceived` (+Infinity) or a period in nanoseconds (see
   * `period()`). Default `Now`. The first subscriber of a pattern decides it.
   */
  msgfrom?: number;
}

/** Options of `call$`/`call`: an RPC with more than positional arguments. */
export interface CallOptions {
  /** Ask this component to run the call (direct RPC, spec §5.3). Default: broker-routed. */
  target?: string;
  /** Request timeout, ms. Default: the component's `requestTimeout`. */
  timeout?: number;
  /** Abort the call (Promise helpers reject with `signal.reason`). */
  signal?: AbortSignal;
}
