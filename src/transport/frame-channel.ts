/**
 * The hot stream of a link's inbound frames, as a `Subject` would give it, without a `Subject`'s
 * cost per value: rxjs 7's `Subject.next` makes a closure (`errorContext`) and an array iterator
 * for every frame, about 0.15–0.25 KB of young-generation garbage per frame read (issue 20, W4's
 * tail). Subscribers are kept in a copy-on-write array, so a frame goes to those subscribed when
 * it arrived, as with a `Subject`; a subscription after the end completes at once.
 */
import type { Subscriber } from 'rxjs';
import { Observable } from '../internal/rx.js';

export class FrameChannel<T> {
  private subscribers: Subscriber<T>[] = [];
  private ended = false;

  /** The frames; completes when {@link complete} is called. */
  readonly frames$: Observable<T> = new Observable<T>((subscriber) => {
    if (this.ended) {
      subscriber.complete();
      return undefined;
    }
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  });

  /** Deliver one frame to every current subscriber. */
  next(value: T): void {
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i]!.next(value);
  }

  /** End the stream. Idempotent. */
  complete(): void {
    if (this.ended) return;
    this.ended = true;
    const subscribers = this.subscribers;
    this.subscribers = [];
    for (let i = 0; i < subscribers.length; i++) subscribers[i]!.complete();
  }
}
