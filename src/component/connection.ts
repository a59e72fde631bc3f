/**
 * One connection attempt as an Observable: dial, then log in and re-declare, then emit the
 * session once it is up; error with `ConnectionClosedError` when the link drops. The
 * component wraps it in `retryBackoff` to reconnect. No Promise inside, so the whole flow
 * runs in marble time over an in-memory link.
 */
import { isObservable, Observable, switchMap, type Subscription } from 'rxjs';
import { decodeCbor, encodeCbor } from '../codec/cbor.js';
import { encodePubFrame } from '../codec/pub-encode.js';
import { decodeLazyCall } from '../codec/lazy-rpc.js';
import { encodeResponseFrame, encodeRpcFrame } from '../codec/rpc-frames.js';
import { PubFrameReader } from '../codec/pub-frame.js';
import type { Frame } from '../codec/wire.js';
import { ConnectionClosedError, DecodeError } from '../errors.js';
import type { Msg } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { Dialer } from './types.js';

/**
 * A live link. A component speaks CBOR only (spec §1.1: the broker answers in the kind the peer
 * sends), so the JSON-RPC codec stays out of the browser bundle.
 */
export class ClientSession {
  /**
   * The broker takes publish options (`retain`, `ttl`): it answered this login's `reactive`
   * with the TS extension's key (src/protocol/pub-meta.ts). Until then PUBs go out plain.
   */
  pubMeta = false;
  /** PUB deliveries, the frames a component receives most, are read by their own path. */
  private readonly pubs = new PubFrameReader();

  /** @param url the broker URL this link was dialled at */
  constructor(readonly link: Link, readonly url: string) {}

  /** @throws EncodeError for a value CBOR cannot carry */
  send(msg: Msg): void {
    // Publishes, calls and answers, the most frequent frames, have writers of their own.
    this.link.send(msg.type === 'pub' ? encodePubFrame(msg) : msg.type === 'rpc' ? encodeRpcFrame(msg)
      : msg.type === 'response' ? encodeResponseFrame(msg) : encodeCbor(msg));
  }

  /**
   * Decode one inbound frame. A Node `Buffer` frame is read through a plain `Uint8Array` view,
   * so byte strings reach the application as `Uint8Array`s on every platform (no copy).
   */
  decode(frame: Frame): Msg {
    if (typeof frame === 'string') throw new DecodeError('a text frame on a CBOR link');
    const pub = this.pubs.read(frame);
    if (pub !== undefined) return pub;
    // Calls and answers: the head in place, the args or data decoded when read (no message array).
    const call = frame[0] === 0x84 || frame[0] === 0x85 ? decodeLazyCall(frame, true) : undefined;
    if (call !== undefined) return call;
    if (frame.constructor !== Uint8Array) frame = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    return decodeCbor(frame);
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
  return dial$(url, dial).pipe(switchMap((link) => session$(link, url, hooks)));
}

/**
 * The dialer's link as an Observable. A Promise cannot be cancelled: a link that opens after
 * the attempt was torn down (connect timeout, `close()`) is closed at once instead of leaking.
 */
export function dial$(url: string, dial: Dialer): Observable<Link> {
  return new Observable<Link>((subscriber) => {
    const result = dial(url);
    if (isObservable(result)) return result.subscribe(subscriber);
    let active = true;
    result.then((link) => {
      if (!active) return link.close();
      subscriber.next(link);
      subscriber.complete();
    }, (err: unknown) => { if (active) subscriber.error(err); });
    return () => { active = false; };
  });
}

function session$(link: Link, url: string, hooks: ConnectionHooks): Observable<ClientSession> {
  return new Observable<ClientSession>((subscriber) => {
    const session = new ClientSession(link, url);
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
