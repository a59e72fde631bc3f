import {
  concatMap, concatWith, defer, filter, ignoreElements, map, merge, repeat, take, throwError, timer,
  type Observable, type OperatorFunction,
} from 'rxjs';
import { AckTimeoutError } from '../src/errors.js';

/** Options of {@link ackRetry}. */
export interface AckRetryConfig<T, A = unknown> {
  /**
   * Incoming acknowledgements. Subscribed just before each message's first transmission and
   * released when it is acked or given up, so it should be hot (a Subject or a shared stream).
   */
  acks$: Observable<A>;
  /** Whether `ack` acknowledges `msg` (typically: same message id). Required. */
  isAck: (ack: A, msg: T) => boolean;
  /** Transmit `msg`; `attempt` is 1 for the first transmission, 2 for the first re-send, … */
  send: (msg: T, attempt: number) => void;
  /** Time to wait for an ack after each transmission, in ms. Default `2000` (spec §4.2). */
  ackTimeout?: number;
  /**
   * Maximum number of re-sends after the first transmission, i.e. up to `sendRetries + 1`
   * transmissions; a non-negative integer. Default `10` (spec §4.2). `0` = one transmission only.
   */
  sendRetries?: number;
  /** Label of a message in `AckTimeoutError` (e.g. its topic). Default: `'message'`. */
  describe?: (msg: T) => string;
}

/**
 * The QoS1/QoS2 sender's retry rule (protocol spec §4.2) as an ordered outbox: for each source
 * message, call `send(msg, 1)`, wait up to `ackTimeout` for an item of `acks$` that `isAck`
 * accepts, and on timeout re-send the identical message (`send(msg, attempt)`), at most
 * `sendRetries` times. The message is emitted once it is acked.
 *
 * Messages are handled strictly one at a time in source order (`concatMap`): the next one is
 * not sent before the previous one is acked (spec §4.3, JL outbox). Acks that match no
 * in-flight message (late or duplicate acks) are ignored. Unsubscribing cancels the
 * in-flight wait and releases `acks$`; nothing more is sent.
 *
 * @example
 * ```ts
 * import { ackRetry } from 'rembus/operators';
 *
 * outbox$
 *   .pipe(
 *     ackRetry({
 *       acks$: link.acks$,
 *       isAck: (ack, msg) => ack.id === msg.id,
 *       send: (msg) => link.send(encodePub(msg)),
 *       describe: (msg) => msg.topic,
 *     }),
 *     // QoS2: on the first ACK the sender answers ACK2 (spec §4.2 step 3).
 *     tap((msg) => { if (msg.qos === 2) link.send(encodeAck2(msg.id)); }),
 *   )
 *   .subscribe({ error: (e) => log.warn(e) });
 * ```
 *
 * @param config - ack source, matcher, transmit function and timing (see {@link AckRetryConfig}).
 * @returns an operator that emits each source message once it has been acknowledged.
 * Errors: `AckTimeoutError(describe(msg), sendRetries + 1)` when the last transmission is not
 * acked within `ackTimeout`; an error thrown by `send`, `isAck` or `describe`; errors of the
 * source or of `acks$`.
 * @see ackWindow for many messages in flight at once (one stream, one timer; what the
 * component's publisher and the broker's outbox use).
 * @see dedupeById for the QoS2 receiver's side.
 * @see retryBackoff for reconnecting the link itself.
 */
export function ackRetry<T, A = unknown>({
  acks$,
  isAck,
  send,
  ackTimeout = 2000,
  sendRetries = 10,
  describe,
}: AckRetryConfig<T, A>): OperatorFunction<T, T> {
  const deliver = (msg: T): Observable<T> =>
    defer(() => {
      let attempts = 0; // per message: the resend loop below increments it per transmission
      const acked$ = acks$.pipe(
        filter((ack) => isAck(ack, msg)),
        map(() => msg),
      );
      const transmissions$ = defer(() => {
        attempts += 1;
        send(msg, attempts);
        return timer(ackTimeout);
      }).pipe(
        repeat(sendRetries + 1),
        ignoreElements(),
        concatWith(throwError(() => new AckTimeoutError(describe?.(msg) ?? 'message', attempts))),
      );
      // acks$ is subscribed first so an ack arriving synchronously during send() is not missed.
      return merge(acked$, transmissions$).pipe(take(1));
    });
  return concatMap(deliver);
}
