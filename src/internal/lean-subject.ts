/**
 * A Subject whose `next` allocates nothing, for hot streams of one value per frame or publish: a
 * link's inbound frames (ws-link-impl.ts) and the broker's `messages$` (every accepted publish, for
 * the stages downstream: schema tables, bridges). rxjs 7's `Subject.next` (its CommonJS
 * build, which Node loads) makes a closure, an iterator and a result object per call, which at
 * one call per publish is measurable in the garbage collector of a broker ingesting telemetry.
 * Same contract as `Subject`: observers subscribed during a `next` get the next value, not
 * this one; one that unsubscribes during a `next` may still get this one.
 */
import { ObjectUnsubscribedError, Subject } from './rx.js';

export class LeanSubject<T> extends Subject<T> {
  override next(value: T): void {
    if (this.closed) throw new ObjectUnsubscribedError();
    if (this.isStopped) return;
    const observers = this.observers;
    if (observers.length === 1) observers[0]!.next(value);
    else if (observers.length > 1) for (const observer of observers.slice()) observer.next(value);
  }
}
