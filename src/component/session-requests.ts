/**
 * The requests a component makes of its broker for itself — login, declarations, key
 * registration, admin commands — on a given session or on the one past its login, each
 * timing out after the component's `requestTimeout` with an RpcTimeoutError that names it.
 */
import { defer, type Observable, throwError } from 'rxjs';
import { ConnectionClosedError, RpcTimeoutError } from '../errors.js';
import type { Msg, MsgId, ResponseMsg } from '../protocol/messages.js';
import type { ClientSession } from './connection.js';
import type { Requests } from './requests.js';

export class SessionRequests {
  constructor(private readonly requests: Requests, private readonly current: () => ClientSession | null,
    private readonly timeoutMs: number) {}

  /** One request on `session`; `what` names it in the timeout error. */
  on$(session: ClientSession, msg: Msg & { id: MsgId }, what: string): Observable<ResponseMsg> {
    const timeoutMs = this.timeoutMs;
    return this.requests.request$(session, msg, timeoutMs, () => new RpcTimeoutError(what, timeoutMs));
  }

  /** One request on the session past its login; ConnectionClosedError when there is none. */
  now$(msg: Msg & { id: MsgId }, what: string): Observable<ResponseMsg> {
    return defer(() => {
      const session = this.current();
      if (session === null) return throwError(() => new ConnectionClosedError(`${what}: not connected`));
      return this.on$(session, msg, what);
    });
  }
}
