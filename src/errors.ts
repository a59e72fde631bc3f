/**
 * Every public error class of rembus. Each carries a stable string `code` that callers
 * can switch on; messages are for humans and may change.
 *
 * @example
 * ```ts
 * import { RpcTimeoutError } from 'rembus';
 * node.rpc$('add', 1, 2).subscribe({ error: (e) => { if (e instanceof RpcTimeoutError) retryLater(); } });
 * ```
 */
export abstract class RembusError extends Error {
  abstract readonly code: string;
}

/** The link to the broker could not be opened. */
export class ConnectionError extends RembusError {
  readonly code = 'CONNECTION';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** The component or broker was closed, or the link dropped while a request was pending. */
export class ConnectionClosedError extends RembusError {
  readonly code = 'CONNECTION_CLOSED';
  constructor(message = 'connection down', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionClosedError';
  }
}

/** Login, registration or authorization was refused by the broker. */
export class AuthError extends RembusError {
  readonly code = 'AUTH';
  constructor(message: string, readonly remoteCode?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthError';
  }
}

/**
 * The broker refused a login because it keeps as many named components (twins) as it may
 * (`maxTwins`); a reconnect is not tried. Its answer: status 10, data starting with
 * {@link TwinLimitError.REASON}.
 */
export class TwinLimitError extends RembusError {
  readonly code = 'TWIN_LIMIT';
  /** How the broker's refusal text starts. */
  static readonly REASON = 'twin limit reached';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TwinLimitError';
  }
}

/**
 * The broker refused the name because a component of that name is already connected (status
 * 60, spec §3.1). After the component has been up, its own dropped link may still hold the name
 * for a moment, so reconnects retry it; on a first connection it is final.
 */
export class NameTakenError extends RembusError {
  readonly code = 'NAME_TAKEN';
  readonly remoteCode = 60;
  constructor(readonly componentName: string, options?: ErrorOptions) {
    super(`the name '${componentName}' is already connected to the broker`, options);
    this.name = 'NameTakenError';
  }
}

/** A component URL whose scheme this build cannot dial (`tcp://`, or `mqtt://` outside Node). */
export class UnsupportedSchemeError extends RembusError {
  readonly code = 'UNSUPPORTED_SCHEME';
  constructor(readonly url: string, readonly scheme: string, hint: string, options?: ErrorOptions) {
    super(`unsupported scheme '${scheme}:' in ${JSON.stringify(url)}: ${hint}`, options);
    this.name = 'UnsupportedSchemeError';
  }
}

/**
 * A feature needs an optional package that is not installed (DuckDB for the durable store,
 * nodejs-polars for DataFrames, mqtt for MQTT). `packageName` is what to `npm install`.
 */
export class MissingPackageError extends RembusError {
  readonly code = 'MISSING_PACKAGE';
  constructor(readonly packageName: string, readonly feature: string, options?: ErrorOptions) {
    super(`${feature} needs the optional package '${packageName}': npm install ${packageName}`, options);
    this.name = 'MissingPackageError';
  }
}

/** A topic, pattern or method name is not acceptable (empty, or holds a forbidden character). */
export class InvalidTopicError extends RembusError {
  readonly code = 'INVALID_TOPIC';
  constructor(readonly topic: unknown, reason: string, options?: ErrorOptions) {
    super(`invalid topic ${typeof topic === 'string' ? JSON.stringify(topic) : describe(topic)}: ${reason}`, options);
    this.name = 'InvalidTopicError';
  }
}

/** A value could not be encoded for the wire. */
export class EncodeError extends RembusError {
  readonly code = 'ENCODE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EncodeError';
  }
}

/** A frame could not be decoded: not CBOR/JSON, unknown message type, or a wrong shape. */
export class DecodeError extends RembusError {
  readonly code = 'DECODE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecodeError';
  }
}

/** A peer broke the protocol (a reply to nothing, a message out of order). */
export class ProtocolError extends RembusError {
  readonly code = 'PROTOCOL';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** No response to an RPC (or admin command) within the request timeout. */
export class RpcTimeoutError extends RembusError {
  readonly code = 'RPC_TIMEOUT';
  constructor(readonly method: string, readonly timeoutMs: number, options?: ErrorOptions) {
    super(`rpc '${method}' timed out after ${timeoutMs} ms`, options);
    this.name = 'RpcTimeoutError';
  }
}

/** The broker (or the targeted component) knows no method of that name (status 42). */
export class MethodNotFoundError extends RembusError {
  readonly code = 'METHOD_NOT_FOUND';
  constructor(readonly method: string, options?: ErrorOptions) {
    super(`method not found: ${method}`, options);
    this.name = 'MethodNotFoundError';
  }
}

/**
 * A remote failure answered with a non-zero status: the handler threw (40), no exposer is
 * up (43), loopback (44), target unknown or down (45/46), or anything else the peer sent.
 */
export class RpcError extends RembusError {
  readonly code = 'RPC';
  constructor(
    readonly method: string,
    readonly remoteCode: number,
    readonly details: unknown,
    options?: ErrorOptions,
  ) {
    super(`rpc '${method}' failed: ${statusName(remoteCode)}${details == null ? '' : `: ${describe(details)}`}`, options);
    this.name = 'RpcError';
  }
}

/** A bounded queue was full and its overflow policy is `error`. */
export class QueueFullError extends RembusError {
  readonly code = 'QUEUE_FULL';
  constructor(readonly capacity: number, what = 'queue', options?: ErrorOptions) {
    super(`${what} full (capacity ${capacity})`, options);
    this.name = 'QueueFullError';
  }
}

/** A QoS1/QoS2 publish was not acknowledged after the last retry. */
export class AckTimeoutError extends RembusError {
  readonly code = 'ACK_TIMEOUT';
  constructor(readonly topic: string, readonly attempts: number, options?: ErrorOptions) {
    super(`publish on '${topic}' not acknowledged after ${attempts} attempt(s)`, options);
    this.name = 'AckTimeoutError';
  }
}

/**
 * The broker refused a QoS1/2 publish: the topic is private and this component's name is not
 * authorized (or did not prove itself), or the broker serves only authenticated components.
 * Reported at once by a TS broker (a TS extension); other brokers drop such a publish silently
 * and the publisher sees `AckTimeoutError` instead.
 */
export class UnauthorizedError extends RembusError {
  readonly code = 'UNAUTHORIZED';
  constructor(readonly topic: string, readonly reason: string, options?: ErrorOptions) {
    super(`publish on '${topic}' refused by the broker: ${reason}`, options);
    this.name = 'UnauthorizedError';
  }
}

/** A running action goal was preempted by a newer goal to the same action on the same server. */
export class ActionPreemptedError extends RembusError {
  readonly code = 'ACTION_PREEMPTED';
  constructor(readonly action: string, options?: ErrorOptions) {
    super(`action '${action}' preempted by a newer goal`, options);
    this.name = 'ActionPreemptedError';
  }
}

/**
 * A scatter-gather call (`gather$`) cannot reach its quorum: too many exposers failed, or its
 * timeout passed first. `answered` counts the answers that did arrive.
 */
export class QuorumError extends RembusError {
  readonly code = 'QUORUM';
  constructor(readonly method: string, readonly quorum: number, readonly answered: number, reason: string,
    options?: ErrorOptions) {
    super(`gather '${method}': ${answered} of ${quorum} answers needed: ${reason}`, options);
    this.name = 'QuorumError';
  }
}

/** The component's transport cannot do this (e.g. presence on a plain MQTT broker). */
export class NotSupportedError extends RembusError {
  readonly code = 'NOT_SUPPORTED';
  constructor(readonly feature: string, options?: ErrorOptions) {
    super(`${feature} is not supported here`, options);
    this.name = 'NotSupportedError';
  }
}

/** An option out of its range (e.g. a publish `ttl` that is not a positive integer of ms). */
export class InvalidOptionError extends RembusError {
  readonly code = 'INVALID_OPTION';
  constructor(readonly option: string, reason: string, options?: ErrorOptions) {
    super(`invalid option ${option}: ${reason}`, options);
    this.name = 'InvalidOptionError';
  }
}

const STATUS_NAMES: Record<number, string> = {
  0: 'OK', 10: 'ERROR', 11: 'CHALLENGE', 20: 'IDENTIFICATION_ERROR', 40: 'METHOD_EXCEPTION',
  41: 'METHOD_ARGS_ERROR', 42: 'METHOD_NOT_FOUND', 43: 'METHOD_UNAVAILABLE', 44: 'METHOD_LOOPBACK',
  45: 'TARGET_NOT_FOUND', 46: 'TARGET_DOWN', 47: 'UNKNOWN_ADMIN_CMD', 60: 'NAME_ALREADY_TAKEN',
  70: 'TIMEOUT',
};

/** The spec's name of a RESPONSE status code (§2.5), or `STATUS_<n>`. */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `STATUS_${status}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}
