/**
 * The publishing side of an MQTT component: QoS 0 goes out while up and waits in a bounded
 * queue while not; QoS 1/2 wait for the connection (counted against the same capacity), then
 * complete on PUBACK/PUBCOMP. MQTT.js re-sends an unacknowledged QoS 1/2 PUBLISH itself after a
 * reconnect, so there is no retry here.
 */
import { type BehaviorSubject, defer, filter, finalize, Observable, type Subscriber, switchMap, take, throwError, throwIfEmpty } from 'rxjs';
import { ConnectionClosedError, QueueFullError } from '../errors.js';

/** Sends one PUBLISH; `done` runs on the acknowledgement (QoS 1/2) or once written (QoS 0). */
export type PublishSend = (topic: string, payload: string, qos: 0 | 1 | 2, done?: (err?: Error) => void) => void;

export class MqttPublisher {
  private readonly queue: { topic: string; payload: string }[] = [];
  /** QoS 1/2 publishes waiting for the connection. */
  private waiting = 0;
  /** QoS 1/2 publishes waiting for their acknowledgement; failed by {@link end}. */
  private readonly unacked = new Set<Subscriber<void>>();

  constructor(
    private readonly up$: BehaviorSubject<boolean>,
    private readonly capacity: number,
    private readonly send: PublishSend,
    private readonly isClosed: () => boolean,
  ) {}

  /** QoS 0: send now if up, else hold. @throws QueueFullError past `capacity`. */
  publish(topic: string, payload: string): void {
    if (this.up$.value) return this.send(topic, payload, 0);
    if (this.queue.length + this.waiting >= this.capacity) throw new QueueFullError(this.capacity, 'offline publish buffer');
    this.queue.push({ topic, payload });
  }

  /** QoS 1/2 as a cold Observable: waits for the connection, completes on the acknowledgement. */
  acked$(topic: string, payload: string, qos: 1 | 2): Observable<void> {
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
          return this.sendAcked$(topic, payload, qos);
        }),
        finalize(uncount),
      );
    });
  }

  /** Send what waited, in order (called when the component is up again). */
  flush(): void {
    while (this.queue.length > 0 && this.up$.value) {
      const { topic, payload } = this.queue.shift()!;
      this.send(topic, payload, 0);
    }
  }

  /** Drop what waits and fail what is unacknowledged (component closed). */
  end(reason: unknown): void {
    this.queue.length = 0;
    for (const subscriber of [...this.unacked]) subscriber.error(reason);
  }

  private sendAcked$(topic: string, payload: string, qos: 1 | 2): Observable<void> {
    return new Observable<void>((subscriber) => {
      this.unacked.add(subscriber);
      this.send(topic, payload, qos, (err) => {
        if (err) subscriber.error(new ConnectionClosedError(`publish on '${topic}' not acknowledged`, { cause: err }));
        else subscriber.complete();
      });
      return () => { this.unacked.delete(subscriber); };
    });
  }
}
