import type { OperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import { asyncScheduler, Observable } from '../src/internal/rx.js';
import { AckTimeoutError, QueueFullError } from '../src/errors.js';

/** Options of {@link ackWindow}. */
export interface AckWindowConfig<T, K> {
  /**
   * Keys of acknowledged messages. Subscribed once, before the source, for the life of the
   * stream. Any key settles the message in flight under it: a real ack, or a sender giving up
   * on the message (nothing more is sent for it). Unknown keys are ignored.
   */
  acks$: Observable<K>;
  /**
   * The key an ack of `msg` carries (typically its message id). `undefined` means no ack is
   * expected: the message is sent once, in its turn, and reported `sent` at once. Required.
   */
  key: (msg: T) => K | undefined;
  /** Transmit `msg`; `attempt` is 1 for the first transmission, 2 for the first re-send, … */
  send: (msg: T, attempt: number) => void;
  /** Time to wait for an ack after each transmission, in ms. Default `2000` (spec §4.2). */
  ackTimeout?: number;
  /** Maximum number of re-sends after the first transmission. Default `10` (spec §4.2). */
  sendRetries?: number;
  /** Messages that may wait for their acks at once. Default `Infinity`; `1` is {@link ackRetry}'s rule. */
  maxInflight?: number;
  /** Messages that may wait for room in the window. Default `10_000`. */
  capacity?: number;
  /**
   * What happens to a message arriving while the waiting queue is full: `'error'` errors the
   * stream with `QueueFullError`, `'dropNewest'` drops it, `'dropOldest'` drops the oldest
   * waiting one (a dropped message is reported as a `dropped` event). Default `'error'`.
   */
  overflow?: 'error' | 'dropOldest' | 'dropNewest';
  /** Label of a message in `AckTimeoutError` (e.g. its topic). Default: `'message'`. */
  describe?: (msg: T) => string;
  /** Scheduler of the ack timeouts. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** What became of one message of {@link ackWindow}. */
export type AckWindowEvent<T> =
  | { readonly type: 'acked'; readonly msg: T }
  | { readonly type: 'sent'; readonly msg: T }
  | { readonly type: 'expired'; readonly msg: T; readonly error: AckTimeoutError }
  | { readonly type: 'dropped'; readonly msg: T };

interface Flight<T, K> { readonly msg: T; readonly key: K; attempts: number; deadline: number; settled: boolean }

/**
 * The QoS1/QoS2 sender's retry rule (protocol spec §4.2) for many messages at once: each source
 * message is sent in source order (`send(msg, 1)`) as soon as fewer than `maxInflight` wait for
 * their acks, re-sent every `ackTimeout` until `acks$` brings its key, at most `sendRetries`
 * times, then given up. Each message ends in one event: `acked`, `expired` (with its
 * `AckTimeoutError`, built only then), `dropped` (queue overflow) or `sent` (a message that
 * awaits no ack: no key, or a copy of one in flight — it is sent once, in its turn). A failed
 * message does not end the stream, which completes once the source has completed and every
 * message has ended.
 *
 * One subscription serves the whole stream: a table of messages in flight and one scheduled
 * action for the earliest deadline (deadlines grow in sending order, since `ackTimeout` is
 * fixed), so a message costs no timer, operator chain or Subject of its own. Unsubscribing
 * stops every re-send and releases the source, `acks$` and the timer.
 *
 * @example
 * ```ts
 * import { ackWindow } from 'rembus/operators';
 *
 * outbox$
 *   .pipe(ackWindow({
 *     acks$: link.acks$,                 // message ids of incoming ACKs
 *     key: (msg) => msg.id,
 *     send: (msg) => link.send(encodePub(msg)),
 *     maxInflight: 64,
 *     describe: (msg) => msg.topic,
 *   }))
 *   .subscribe((event) => { if (event.type === 'expired') log.warn(event.error); });
 * ```
 *
 * @param config - ack source, key, transmit function, window and timing (see {@link AckWindowConfig}).
 * @returns an operator that emits one {@link AckWindowEvent} per source message.
 * Errors: `QueueFullError` on overflow with `overflow: 'error'`; an error thrown by `send`,
 * `key` or `describe`; errors of the source or of `acks$`.
 * @see ackRetry for one message at a time, erroring on the first that is never acked.
 */
export function ackWindow<T, K>({
  acks$, key, send, ackTimeout = 2000, sendRetries = 10, maxInflight = Infinity, capacity = 10_000,
  overflow = 'error', describe, scheduler = asyncScheduler,
}: AckWindowConfig<T, K>): OperatorFunction<T, AckWindowEvent<T>> {
  return (source) => new Observable<AckWindowEvent<T>>((subscriber) => {
    const inflight = new Map<K, Flight<T, K>>();
    const timeline: (Flight<T, K> | undefined)[] = []; // transmissions by deadline; from `first` on
    let first = 0;
    const queue: (T | undefined)[] = []; // waiting for room in the window; from `next` on
    let next = 0;
    let timer: Subscription | undefined;
    let sourceDone = false;

    const end = (): void => {
      if (sourceDone && inflight.size === 0 && next === queue.length) subscriber.complete();
    };
    /** Drop settled transmissions from the front (acks mostly come in sending order). */
    const trim = (): void => {
      while (first < timeline.length && timeline[first]!.settled) timeline[first++] = undefined;
      if (first === timeline.length) {
        timeline.length = 0;
        first = 0;
      } else if (first > 1024 && first * 2 > timeline.length) {
        timeline.splice(0, first);
        first = 0;
      }
    };
    const transmit = (flight: Flight<T, K>): void => {
      flight.attempts += 1;
      flight.deadline = scheduler.now() + ackTimeout;
      timeline.push(flight);
      send(flight.msg, flight.attempts);
    };
    const start = (msg: T): void => {
      const k = key(msg);
      if (k === undefined || inflight.has(k)) {
        send(msg, 1); // no ack expected, or the copy in flight is the one its ack settles
        subscriber.next({ type: 'sent', msg });
        return;
      }
      const flight: Flight<T, K> = { msg, key: k, attempts: 0, deadline: 0, settled: false };
      inflight.set(k, flight); // before sending: its ack may arrive during send()
      transmit(flight);
      arm();
    };
    /**
     * Schedule the action for the earliest deadline. A pending action is never late: it was
     * set for an earlier head, and deadlines only grow along the timeline.
     */
    const arm = (): void => {
      if (timer !== undefined || first === timeline.length || subscriber.closed) return;
      timer = scheduler.schedule(onTimer, Math.max(0, timeline[first]!.deadline - scheduler.now()));
    };
    const refill = (): void => {
      while (next < queue.length && inflight.size < maxInflight && !subscriber.closed) {
        const msg = queue[next]!;
        queue[next++] = undefined;
        start(msg);
      }
      if (next === queue.length) {
        queue.length = 0;
        next = 0;
      }
    };
    const settle = (flight: Flight<T, K>): void => {
      flight.settled = true;
      inflight.delete(flight.key);
      trim();
    };
    function onTimer(): void {
      timer = undefined;
      try {
        const now = scheduler.now();
        while (first < timeline.length && !subscriber.closed) {
          const flight = timeline[first]!;
          if (!flight.settled && flight.deadline > now) break;
          timeline[first++] = undefined;
          if (flight.settled) continue;
          if (flight.attempts <= sendRetries) {
            transmit(flight);
            continue;
          }
          settle(flight);
          const error = new AckTimeoutError(describe?.(flight.msg) ?? 'message', flight.attempts);
          subscriber.next({ type: 'expired', msg: flight.msg, error });
        }
        trim();
        arm();
        refill();
        end();
      } catch (err) {
        subscriber.error(err); // thrown by send or describe
      }
    }
    const onAck = (k: K): void => {
      try {
        const flight = inflight.get(k);
        if (flight === undefined) return;
        settle(flight);
        subscriber.next({ type: 'acked', msg: flight.msg });
        refill();
        end();
      } catch (err) {
        subscriber.error(err);
      }
    };
    const onMessage = (msg: T): void => {
      try {
        if (next === queue.length && inflight.size < maxInflight) return start(msg);
        if (queue.length - next >= capacity) {
          if (overflow === 'error') return subscriber.error(new QueueFullError(capacity, 'ack window queue'));
          if (overflow === 'dropNewest') return subscriber.next({ type: 'dropped', msg });
          const oldest = queue[next]!;
          queue[next++] = undefined;
          subscriber.next({ type: 'dropped', msg: oldest });
        }
        queue.push(msg);
      } catch (err) {
        subscriber.error(err); // thrown by key or send
      }
    };

    const subscription = acks$.subscribe({
      next: onAck,
      error: (err: unknown) => subscriber.error(err),
    });
    subscription.add(source.subscribe({
      next: onMessage,
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        sourceDone = true;
        end();
      },
    }));
    return () => {
      subscription.unsubscribe();
      timer?.unsubscribe();
      timer = undefined;
      inflight.clear();
      timeline.length = 0;
      queue.length = 0;
    };
  });
}
