/**
 * One HTTP request acts through an in-process connection: a memory link handed to the broker
 * like any connection, logged in as the request's identity (IDENTITY, and ATTESTATION when the
 * broker challenges: its own check of the secret, `identify$`), used for one call and closed.
 * So REST sees the same names, private topics and admin rights as WebSocket clients, and the
 * broker has no second dispatch path. It is not a component: it sends no `reactive` and
 * declares nothing, so logging in as a named twin never triggers that twin's replay.
 */
import { EmptyError, firstValueFrom, lastValueFrom, Observable, throwError, timeout, type Subscriber } from 'rxjs';
import { decodeCbor, encodeCbor } from '../codec/cbor.js';
import { identify$ } from '../component/auth.js';
import { RpcTimeoutError } from '../errors.js';
import type { Msg, MsgId, ResponseMsg } from '../protocol/messages.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import type { HttpIdentity } from './auth.js';

export class HttpSession {
  /**
   * Requests awaiting their RESPONSE, by id: an answer finds its request in one lookup (matched
   * against every waiting request, a JSON-RPC batch cost the square of its length).
   */
  private readonly waiting = new Map<MsgId, Subscriber<ResponseMsg>>();
  private closed = false;

  constructor(private readonly link: Link, private readonly requestTimeout: number) {
    link.frames$.subscribe({
      next: (frame) => {
        if (typeof frame === 'string') return;
        let msg: Msg;
        try {
          msg = decodeCbor(frame);
        } catch {
          return; // a frame this session cannot read concerns nobody
        }
        if (msg.type !== 'response' || msg.stream === 'item') return;
        const waiter = this.waiting.get(msg.id);
        if (waiter === undefined) return;
        this.waiting.delete(msg.id);
        waiter.next(msg);
        waiter.complete();
      },
      complete: () => {
        this.closed = true;
        const waiters = [...this.waiting.values()];
        this.waiting.clear();
        for (const waiter of waiters) waiter.error(new EmptyError());
      },
    });
  }

  /** Send `msg`; the RESPONSE with its id (errors with RpcTimeoutError, or EmptyError on close). */
  request$(msg: Msg & { id: MsgId }, what: string): Observable<ResponseMsg> {
    return new Observable<ResponseMsg>((subscriber) => {
      if (this.closed) {
        subscriber.error(new EmptyError());
        return undefined;
      }
      // Encoded here, so a value that cannot be encoded fails this request, not a microtask
      // (an exception there would take the whole broker process down).
      const frame = encodeCbor(msg);
      this.waiting.set(msg.id, subscriber);
      // Sent once the answer is awaited: the broker may answer a memory link synchronously.
      queueMicrotask(() => this.link.send(frame));
      return () => {
        if (this.waiting.get(msg.id) === subscriber) this.waiting.delete(msg.id);
      };
    }).pipe(timeout({ first: this.requestTimeout, with: () => throwError(() => new RpcTimeoutError(what, this.requestTimeout)) }));
  }

  request(msg: Msg & { id: MsgId }, what: string): Promise<ResponseMsg> {
    return firstValueFrom(this.request$(msg, what));
  }

  /** Send without waiting (a QoS0 publish). */
  send(msg: Msg): void {
    this.link.send(encodeCbor(msg));
  }

  close(): void {
    this.link.close(1000, 'http request done');
  }
}

/** Log in as `identity` over a fresh memory link served by `handle`. @throws AuthError, RpcTimeoutError */
export async function openSession(handle: (link: Link) => void, identity: HttpIdentity, requestTimeout: number,
  remote: string): Promise<HttpSession> {
  const [client, server] = memoryLinkPair([`http:${remote}`, `http:${remote}`]);
  const session = new HttpSession(client, requestTimeout);
  handle(server);
  if (identity.name === undefined) return session;
  try {
    await lastValueFrom(identify$((msg, what) => session.request$(msg, what), identity.name, identity.secret),
      { defaultValue: undefined });
  } catch (err) {
    session.close();
    throw err;
  }
  return session;
}
