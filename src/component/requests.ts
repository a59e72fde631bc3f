/**
 * The component's request mux (nats.js style): one `Map<id, pending>` of requests waiting for
 * their RESPONSE. Unsubscribing deletes the entry; a late or unknown reply is dropped.
 */
import { Observable, throwError, timeout } from 'rxjs';
import { decodeResult } from '../dataframe/index.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError } from '../errors.js';
import { STATUS, type Msg, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import type { ClientSession } from './connection.js';

interface Pending { session: ClientSession; reply: (msg: ResponseMsg) => void; fail: (err: unknown) => void }

export class Requests {
  /** Requests waiting for their RESPONSE, by id. */
  readonly pending = new Map<MsgId, Pending>();

  /**
   * Send `msg` on `session` and emit its RESPONSE; errors with `timeoutError` after
   * `timeoutMs`, or with ConnectionClosedError when the session drops first. Cold.
   */
  request$(session: ClientSession, msg: Msg & { id: MsgId }, timeoutMs: number, timeoutError: Error): Observable<ResponseMsg> {
    return new Observable<ResponseMsg>((subscriber) => {
      this.pending.set(msg.id, {
        session,
        reply: (resp) => { subscriber.next(resp); subscriber.complete(); },
        fail: (err) => subscriber.error(err),
      });
      session.send(msg);
      return () => { this.pending.delete(msg.id); };
    }).pipe(timeout({ first: timeoutMs, with: () => throwError(() => timeoutError) }));
  }

  /**
   * Send an RPC request and emit every RESPONSE of its call: stream items, then the final one
   * (an ordinary RESPONSE: a value or an error status) — a stream's end emits nothing and
   * completes. Unsubscribing before the call ended withdraws it: a cancel goes to the broker
   * (README "Streaming RPC on the wire"). `timeoutMs` bounds the wait for the first RESPONSE.
   */
  stream$(session: ClientSession, msg: RpcMsg, timeoutMs: number, timeoutError: Error): Observable<ResponseMsg> {
    return new Observable<ResponseMsg>((subscriber) => {
      let ended = false;
      this.pending.set(msg.id, {
        session,
        reply: (resp) => {
          if (resp.stream === 'item') return subscriber.next(resp);
          ended = true;
          if (resp.stream !== 'end') subscriber.next(resp);
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
        throw err;
      }
      return () => {
        this.pending.delete(msg.id);
        if (!ended && session.link.isOpen) session.send(cancelOf(msg.id));
      };
    }).pipe(timeout({ first: timeoutMs, with: () => throwError(() => timeoutError) }));
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
