/**
 * The component's request mux (nats.js style): one `Map<id, pending>` of requests waiting for
 * their RESPONSE. Unsubscribing deletes the entry; a late or unknown reply is dropped.
 *
 * An RPC call costs one object and one map entry: its timeout is a place in the component's
 * one {@link TimeoutWheel} (no timer per call), the stream is written by hand (no per-call
 * operator chain, no Subject) and the timeout error is only built when the timeout fires (an
 * `Error` captures a stack trace, which is the dearest part of a call).
 */
import {
  asyncScheduler, Observable, Subscription, type BehaviorSubject, type Subscriber,
} from 'rxjs';
import { newMsgId } from '../codec/msgid.js';
import { frames } from './frames.js';
import { InFlight } from '../internal/in-flight.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError, RpcTimeoutError } from '../errors.js';
import { TimeoutWheel, type Timed } from './timeout-wheel.js';
import { STATUS, type Msg, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import type { ClientSession } from './connection.js';

interface Pending { session: ClientSession; reply: (msg: ResponseMsg) => void; fail: (err: unknown) => void }

export class Requests {
  /** Requests waiting for their RESPONSE, by id. */
  readonly pending = new InFlight<MsgId, Pending>();
  /** The timeouts of every RPC call (read by tests to prove calls leave nothing behind). */
  readonly wheel = new TimeoutWheel();
  private closed = false;

  /**
   * Send `msg` on `session` and emit its RESPONSE; errors with `timeoutError()` after
   * `timeoutMs`, or with ConnectionClosedError when the session drops first. Cold.
   */
  request$(session: ClientSession, msg: Msg & { id: MsgId }, timeoutMs: number,
    timeoutError: () => Error): Observable<ResponseMsg> {
    return new Observable<ResponseMsg>((subscriber) => {
      const timer = startTimeout(subscriber, timeoutMs, timeoutError);
      this.pending.set(msg.id, {
        session,
        reply: (resp) => {
          timer.unsubscribe();
          subscriber.next(resp);
          subscriber.complete();
        },
        fail: (err) => subscriber.error(err),
      });
      session.send(msg);
      return () => {
        timer.unsubscribe();
        this.pending.delete(msg.id);
      };
    });
  }

  /**
   * Make an RPC call once a session is up and emit the result of every RESPONSE of it (see
   * {@link rpcResult}): stream items, then the final one — a stream's end emits nothing and
   * completes. `timeoutMs` bounds the wait for the first RESPONSE, counted from subscription
   * (so it includes the wait for the link). The call errors with ConnectionClosedError when
   * `session$` completes first (the component closed) or the session drops during the call.
   * Unsubscribing before the call ended withdraws it: a cancel goes to the broker (README
   * "Streaming RPC on the wire").
   */
  call$(session$: BehaviorSubject<ClientSession | null>, call: CallSpec): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      // Closed: fail at once, as the wait for a session would, without arming the wheel again.
      if (this.closed) return subscriber.error(new ConnectionClosedError('component closed'));
      return new RpcCall(this.pending, this.wheel, session$, call, subscriber);
    });
  }

  /** Deliver a RESPONSE to its request; false when nothing on `session` waits for that id. */
  resolve(session: ClientSession, msg: ResponseMsg): boolean {
    const pending = this.pending.get(msg.id);
    if (pending?.session !== session) return false;
    if (msg.stream !== 'item') this.pending.delete(msg.id); // a stream's call waits for more
    pending.reply(msg);
    return true;
  }

  /** The session dropped: its requests fail with ConnectionClosedError. */
  sessionDown(session: ClientSession, cause: unknown): void {
    for (const [id, pending] of this.pending) {
      if (pending.session === session) {
        this.pending.delete(id);
        pending.fail(new ConnectionClosedError('connection down', { cause }));
      }
    }
  }

  /** Fail every request and release the wheel's timer: the component closes. */
  failAll(reason: unknown): void {
    this.closed = true;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.fail(reason);
    }
    this.wheel.clear();
  }
}

/** What an RPC call sends (see `Component.call$`). */
export interface CallSpec {
  readonly method: string;
  readonly args: unknown[];
  readonly target: string | null;
  readonly stream: boolean;
  readonly timeoutMs: number;
}

/**
 * One RPC call: its entry in the request table, its timeout and its withdrawal. A class
 * rather than closures: a call allocates one object, whatever the number of callbacks.
 */
class RpcCall implements Pending, Timed {
  session!: ClientSession;
  private waiting: Subscription | undefined;
  private id: MsgId | undefined;
  private ended = false;
  // The wheel's bookkeeping (see Timed).
  deadline = 0;
  prevTimed: Timed | null = null;
  nextTimed: Timed | null = null;
  inWheel = false;

  constructor(private readonly pending: InFlight<MsgId, Pending>, private readonly wheel: TimeoutWheel,
    session$: BehaviorSubject<ClientSession | null>, private readonly call: CallSpec,
    private readonly subscriber: Subscriber<unknown>) {
    wheel.add(this, call.timeoutMs);
    const session = session$.value;
    if (session !== null) {
      this.start(session);
      return;
    }
    this.waiting = session$.subscribe({
      next: (s) => {
        if (s === null || this.id !== undefined) return;
        this.waiting?.unsubscribe();
        this.start(s);
      },
      complete: () => subscriber.error(new ConnectionClosedError('component closed')),
    });
    if (this.id !== undefined) this.waiting.unsubscribe();
  }

  private start(session: ClientSession): void {
    const { method, args, target, stream } = this.call;
    const msg: RpcMsg = { type: 'rpc', id: newMsgId(), topic: method, target, args: frames.encodeArgs(args), stream };
    this.session = session;
    this.id = msg.id;
    this.pending.set(msg.id, this);
    try {
      session.send(msg);
    } catch (err) {
      this.ended = true; // never sent: nothing to withdraw
      this.pending.delete(msg.id);
      this.subscriber.error(err);
    }
  }

  /** The RpcTimeoutError is built only now: an Error captures a stack, the dearest part of a call. */
  expire(): void {
    this.subscriber.error(new RpcTimeoutError(this.call.method, this.call.timeoutMs));
  }

  reply(resp: ResponseMsg): void {
    // A stream item answers only a call that accepts a stream; sent to any other (a buggy
    // exposer), it would disarm the timeout of a call that then waits forever for its end.
    if (resp.stream === 'item' && !this.call.stream) return;
    this.wheel.remove(this); // the timeout bounds the first answer only
    if (resp.stream === 'item') return this.emit(resp);
    this.ended = true;
    if (resp.stream !== 'end') this.emit(resp);
    this.subscriber.complete();
  }

  fail(err: unknown): void {
    this.ended = true;
    this.subscriber.error(err);
  }

  private emit(resp: ResponseMsg): void {
    let value: unknown;
    try {
      value = rpcResult(this.call.method, resp);
    } catch (err) {
      this.subscriber.error(err);
      return;
    }
    this.subscriber.next(value);
  }

  /** Teardown: withdraw the call unless it has ended. */
  unsubscribe(): void {
    this.wheel.remove(this);
    this.waiting?.unsubscribe();
    const id = this.id;
    if (id === undefined) return;
    this.pending.delete(id);
    if (!this.ended && this.session.link.isOpen) this.session.send(cancelOf(id));
  }
}

/**
 * One scheduled timeout (async scheduler, so marble time applies) erroring `target`; none for
 * a timeout that is not finite.
 */
function startTimeout(target: { error: (err: unknown) => void }, timeoutMs: number,
  timeoutError: () => Error): Subscription {
  if (!Number.isFinite(timeoutMs)) return Subscription.EMPTY;
  return asyncScheduler.schedule(() => target.error(timeoutError()), timeoutMs);
}

/** Map a RESPONSE to its result, or throw the typed error its status stands for. */
export function rpcResult(method: string, resp: ResponseMsg): unknown {
  if (resp.status === STATUS.OK) return frames.decodeResult(resp.data); // a DataFrame result is tag 80 (spec §7)
  if (resp.status === STATUS.METHOD_NOT_FOUND) throw new MethodNotFoundError(method);
  throw new RpcError(method, resp.status, resp.data);
}

/** The caller's withdrawal of call `id`: a RESPONSE with the cancel flag (0x44). */
export function cancelOf(id: MsgId): ResponseMsg {
  return { type: 'response', id, status: STATUS.OK, data: null, stream: 'cancel' };
}

/**
 * The data of a RESPONSE, or undefined when it cannot be decoded: an answer's data is decoded
 * when first read (src/codec/lazy-rpc.ts), so a peer's bad bytes surface here, not at the frame.
 */
export function dataOrUndefined(resp: ResponseMsg): unknown {
  try {
    return resp.data;
  } catch {
    return undefined;
  }
}
