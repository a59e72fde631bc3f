/**
 * One connection attempt as an Observable: dial, then log in and re-declare, then emit the
 * session once it is up; error with `ConnectionClosedError` when the link drops. The
 * component wraps it in `retryBackoff` to reconnect. No Promise inside, so the whole flow
 * runs in marble time over an in-memory link.
 */
import { defer, from, Observable, switchMap, type Subscription } from 'rxjs';
import { WireCodec, type Frame } from '../codec/wire.js';
import { ConnectionClosedError } from '../errors.js';
import type { Msg } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Dialer } from './types.js';

/** A live link with its wire codec. */
export class ClientSession {
  readonly codec = new WireCodec();
  constructor(readonly link: Link) {}

  send(msg: Msg): void {
    this.link.send(this.codec.encode(msg));
  }
}

/** What the connection flow needs from the component. */
export interface ConnectionHooks {
  /** Handle one inbound frame of the session. */
  onFrame(session: ClientSession, frame: Frame): void;
  /** Log in and re-declare; completes when the session may be used. */
  login$(session: ClientSession): Observable<unknown>;
  /** The session is gone (dropped, or the attempt was torn down). */
  onDown(session: ClientSession, error: unknown): void;
}

/** One attempt: emits the session when up, errors when the link drops. */
export function connection$(url: string, dial: Dialer, hooks: ConnectionHooks): Observable<ClientSession> {
  return defer(() => from(dial(url))).pipe(switchMap((link) => session$(link, hooks)));
}

function session$(link: Link, hooks: ConnectionHooks): Observable<ClientSession> {
  return new Observable<ClientSession>((subscriber) => {
    const session = new ClientSession(link);
    let down = false;
    const goDown = (error: unknown): void => {
      if (down) return;
      down = true;
      hooks.onDown(session, error);
    };
    const frames: Subscription = link.frames$.subscribe({
      next: (frame) => hooks.onFrame(session, frame),
      complete: () => {
        const error = new ConnectionClosedError('connection lost');
        goDown(error);
        subscriber.error(error);
      },
    });
    const login = hooks.login$(session).subscribe({
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.next(session),
    });
    return () => {
      login.unsubscribe();
      frames.unsubscribe();
      goDown(new ConnectionClosedError());
      link.close();
    };
  });
}
