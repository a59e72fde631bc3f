/**
 * The component's request mux (nats.js style): one `Map<id, pending>` of requests waiting for
 * their RESPONSE. Unsubscribing deletes the entry; a late or unknown reply is dropped.
 */
import { Observable, throwError, timeout } from 'rxjs';
import { decodeResult } from '../dataframe/index.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError } from '../errors.js';
import { STATUS, type Msg, type MsgId, type ResponseMsg } from '../protocol/messages.js';
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

  /** Deliver a RESPONSE to its request; false when nothing on `session` waits for that id. */
  resolve(session: ClientSession, msg: ResponseMsg): boolean {
    const pending = this.pending.get(msg.id);
    if (pending?.session !== session) return false;
    this.pending.delete(msg.id);
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
