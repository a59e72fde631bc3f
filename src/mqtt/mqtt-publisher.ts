/**
 * The publishing side of an MQTT component: QoS 0 goes out while up and waits in a bounded
 * queue while not; QoS 1/2 wait for the connection (counted against the same capacity), then
 * complete on PUBACK/PUBCOMP. MQTT.js re-sends an unacknowledged QoS 1/2 PUBLISH itself after a
 * reconnect, so there is no retry here.
 */
import {
  type BehaviorSubject, defer, EMPTY, filter, finalize, Observable, type Subscriber, switchMap, take, throwError, throwIfEmpty,
} from 'rxjs';
import type { PublishOptions } from '../component/publish-options.js';
import { ConnectionClosedError, InvalidOptionError, QueueFullError } from '../errors.js';
import { encodePublish } from './payload.js';
import { CLEAR_PAYLOAD, toMqtt, type MqttPublishOptions } from './retain-expiry.js';

/** Sends one PUBLISH; `done` runs on the acknowledgement (QoS 1/2) or once written (QoS 0). */
export type PublishSend = (topic: string, payload: string, qos: 0 | 1 | 2, done?: (err?: Error) => void,
  extra?: MqttPublishOptions) => void;

/** `retain` and the expiry (ms since the epoch, 0 none) of one publish (retain-expiry.ts). */
export interface PublishExtra { readonly retain: boolean; readonly expires: number }

/** `retain` / `ttl` of a publish as the MQTT publisher takes them; undefined for neither. @throws InvalidOptionError */
export function mqttExtra({ retain, ttl }: PublishOptions): PublishExtra | undefined {
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new InvalidOptionError('ttl', 'a positive integer of ms');
  if (retain !== true && ttl === undefined) return undefined;
  return { retain: retain === true, expires: ttl === undefined ? 0 : Date.now() + ttl };
}

export class MqttPublisher {
  private readonly queue: { topic: string; payload: string; extra: PublishExtra | undefined }[] = [];
  /** QoS 1/2 publishes waiting for the connection. */
  private waiting = 0;
  /** QoS 1/2 publishes waiting for their acknowledgement; failed by {@link end}. */
  private readonly unacked = new Set<Subscriber<void>>();

  constructor(
    private readonly up$: BehaviorSubject<boolean>,
    private readonly capacity: number,
    private readonly send: PublishSend,
    private readonly isClosed: () => boolean,
    /** Throws for a topic the component may not publish on (InvalidTopicError). */
    private readonly checkTopic: (topic: string) => void,
  ) {}

  /** The component's `publish(topic, ...args)`: QoS 0. @throws InvalidTopicError, ConnectionClosedError, QueueFullError */
  publishArgs(topic: string, args: unknown[]): void {
    this.checkTopic(topic);
    if (this.isClosed()) throw new ConnectionClosedError('component closed');
    this.publish(topic, encodePublish(args));
  }

  /** The component's `publish$(topic, args, options)`: cold, completes once sent (QoS 0) or acknowledged (QoS 1/2). */
  publishArgs$(topic: string, args: any, options: PublishOptions): Observable<void> {
    this.checkTopic(topic);
    const qos = options.qos ?? 0; // `slot` has no MQTT form and is ignored
    // retain → MQTT retain flag (empty args: the empty payload that clears), ttl → MQTT 5 message expiry.
    const extra = mqttExtra(options);
    const payload = extra?.retain === true && args.length === 0 ? CLEAR_PAYLOAD : encodePublish(args);
    if (qos !== 0) return defer(() => this.acked$(topic, payload, qos, extra));
    return defer(() => {
      this.checkTopic(topic);
      if (this.isClosed()) return throwError(() => new ConnectionClosedError('component closed'));
      this.publish(topic, payload, extra);
      return EMPTY;
    });
  }

  /** QoS 0: send now if up, else hold. @throws QueueFullError past `capacity`. */
  publish(topic: string, payload: string, extra?: PublishExtra): void {
    if (this.up$.value) return this.sendNow(topic, payload, 0, undefined, extra);
    if (this.queue.length + this.waiting >= this.capacity) throw new QueueFullError(this.capacity, 'offline publish buffer');
    this.queue.push({ topic, payload, extra });
  }

  /** Send with the MQTT retain flag and message expiry; an expired publish is dropped (done at once). */
  private sendNow(topic: string, payload: string, qos: 0 | 1 | 2, done?: (err?: Error) => void, extra?: PublishExtra): void {
    if (extra === undefined) return this.send(topic, payload, qos, done);
    const mapped = toMqtt(extra.retain, extra.expires, true, Date.now());
    if (mapped === null) return done?.();
    this.send(topic, payload, qos, done, mapped);
  }

  /** QoS 1/2 as a cold Observable: waits for the connection, completes on the acknowledgement. */
  acked$(topic: string, payload: string, qos: 1 | 2, extra?: PublishExtra): Observable<void> {
    return defer(() => {
      if (this.isClosed()) return throwError(() => new ConnectionClosedError('component closed'));
      const offline = !this.up$.value;
      if (offline && this.queue.length + this.waiting >= this.capacity) {
        return throwError(() => new QueueFullError(this.capacity, 'offline publish buffer'));
      }
      if (offline) this.waiting++;
      let counted = offline;
      const uncount = (): void => {
        if (counted) this.waiting--;
        counted = false;
      };
      return this.up$.pipe(
        filter(Boolean),
        take(1),
        throwIfEmpty(() => new ConnectionClosedError('component closed')),
        switchMap(() => {
          uncount();
          return this.sendAcked$(topic, payload, qos, extra);
        }),
        finalize(uncount),
      );
    });
  }

  /** Send what waited, in order (called when the component is up again). */
  flush(): void {
    while (this.queue.length > 0 && this.up$.value) {
      const { topic, payload, extra } = this.queue.shift()!;
      this.sendNow(topic, payload, 0, undefined, extra);
    }
  }

  /** Drop what waits and fail what is unacknowledged (component closed). */
  end(reason: unknown): void {
    this.queue.length = 0;
    for (const subscriber of [...this.unacked]) subscriber.error(reason);
  }

  private sendAcked$(topic: string, payload: string, qos: 1 | 2, extra?: PublishExtra): Observable<void> {
    return new Observable<void>((subscriber) => {
      this.unacked.add(subscriber);
      this.sendNow(topic, payload, qos, (err) => {
        if (err) subscriber.error(new ConnectionClosedError(`publish on '${topic}' not acknowledged`, { cause: err }));
        else subscriber.complete();
      }, extra);
      return () => { this.unacked.delete(subscriber); };
    });
  }
}
