/**
 * The component's request mux (nats.js style): one `Map<id, pending>` of requests waiting for
 * their RESPONSE. Unsubscribing deletes the entry; a late or unknown reply is dropped.
 *
 * A call costs one map entry and at most one scheduled timeout: the streams below are written
 * by hand (no per-call operator chain, no Subject) and the timeout error is only built when
 * the timeout fires (an `Error` captures a stack trace, which is the dearest part of a call).
 */
import { asyncScheduler, Observable, Subscription, type BehaviorSubject, type Subscriber } from 'rxjs';
import { decodeResult } from '../dataframe/index.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError } from '../errors.js';
import { STATUS, type Msg, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import type { ClientSession } from './connection.js';

interface Pending { session: ClientSession; reply: (msg: ResponseMsg) => void; fail: (err: unknown) => void }

export class Requests {
  /** Requests waiting for their RESPONSE, by id. */
  readonly pending = new Map<MsgId, Pending>();

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
   * Make an RPC call once a session is up and emit `project` of every RESPONSE of it: stream
   * items, then the final one (an ordinary RESPONSE: a value or an error status) — a stream's
   * end emits nothing and completes. `project` may throw (an error status) to error the call.
   * `timeoutMs` bounds the wait for the first RESPONSE, counted from subscription (so it
   * includes the wait for the link). The call errors with ConnectionClosedError when
   * `session$` completes first (the component closed) or the session drops during the call.
   * Unsubscribing before the call ended withdraws it: a cancel goes to the broker (README
   * "Streaming RPC on the wire").
   */
  call$<R>(session$: BehaviorSubject<ClientSession | null>, msg: () => RpcMsg, timeoutMs: number,
    timeoutError: () => Error, project: (resp: ResponseMsg) => R): Observable<R> {
    return new Observable<R>((subscriber) => {
      const timer = startTimeout(subscriber, timeoutMs, timeoutError);
      let call: (() => void) | undefined;
      let waiting: Subscription | undefined;
      const start = (session: ClientSession): void => {
        call = this.send(session, msg(), subscriber, timer, project);
      };
      const session = session$.value;
      if (session !== null) {
        start(session);
      } else {
        waiting = session$.subscribe({
          next: (s) => {
            if (s === null || call !== undefined) return;
            waiting?.unsubscribe();
            start(s);
          },
          complete: () => subscriber.error(new ConnectionClosedError('component closed')),
        });
        if (call !== undefined) waiting.unsubscribe();
      }
      return () => {
        timer.unsubscribe();
        waiting?.unsubscribe();
        call?.();
      };
    });
  }

  /** Register and send one call; returns its withdrawal (a cancel unless it has ended). */
  private send<R>(session: ClientSession, msg: RpcMsg, subscriber: Subscriber<R>, timer: Subscription,
    project: (resp: ResponseMsg) => R): () => void {
    let ended = false;
    const emit = (resp: ResponseMsg): void => {
      let value: R;
      try {
        value = project(resp);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      subscriber.next(value);
    };
    this.pending.set(msg.id, {
      session,
      reply: (resp) => {
        timer.unsubscribe(); // the timeout bounds the first answer only
        if (resp.stream === 'item') return emit(resp);
        ended = true;
        if (resp.stream !== 'end') emit(resp);
        subscriber.complete();
      },
      fail: (err) => {
        ended = true;
        subscriber.error(err);
      },
    });
    try {
      session.send(msg);
    } catch (err) {
      ended = true; // never sent: nothing to withdraw
      this.pending.delete(msg.id);
      subscriber.error(err);
    }
    return () => {
      this.pending.delete(msg.id);
      if (!ended && session.link.isOpen) session.send(cancelOf(msg.id));
    };
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

  /** Fail every request (the component closes). */
  failAll(reason: unknown): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.fail(reason);
    }
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
  if (resp.status === STATUS.OK) return decodeResult(resp.data); // a DataFrame result is tag 80 (spec §7)
  if (resp.status === STATUS.METHOD_NOT_FOUND) throw new MethodNotFoundError(method);
  throw new RpcError(method, resp.status, resp.data);
}

/** The caller's withdrawal of call `id`: a RESPONSE with the cancel flag (0x44). */
export function cancelOf(id: MsgId): ResponseMsg {
  return { type: 'response', id, status: STATUS.OK, data: null, stream: 'cancel' };
}
