/**
 * The exposing side of a component (spec §5.2, exposer side): runs the handler of each RPC
 * request; streams an Observable's values to a caller that accepts a stream, or answers its
 * last value to one that does not (README "Streaming RPC on the wire"); and tears a handler
 * down — unsubscribing its Observable and aborting its `RpcContext.signal` — when the call is
 * withdrawn (the caller's cancel, relayed by the broker) or this component's link drops.
 */
import { defaultIfEmpty, from, isObservable, type Observable, Subscription, takeLast } from 'rxjs';
import { frames } from './frames.js';
import { errorText } from '../internal/logger.js';
import { STATUS, type MsgId, type ResponseMsg, type RpcMsg } from '../protocol/messages.js';
import type { Handler, RpcContext } from '../types.js';
import type { ClientSession } from './connection.js';

/** Handlers exposed with `{ context: true }`: called with an RpcContext after their arguments. */
const contextual = new WeakSet<Handler>();

/** A handler that receives an {@link RpcContext} as its last argument. */
export function withContext(handler: Handler): Handler {
  const wrapped: Handler = (...args) => handler(...args);
  contextual.add(wrapped);
  return wrapped;
}

interface Running {
  readonly session: ClientSession;
  readonly subscription: Subscription;
  /** The handler's RpcContext signal, made on first read (most handlers never read it). */
  abort: AbortController | undefined;
  released: boolean;
}

export class Serving {
  /** Calls being served, by id (read by tests to prove handlers are released). */
  readonly running = new Map<MsgId, Running>();

  serve(session: ClientSession, msg: RpcMsg, handler: Handler | undefined): void {
    if (handler === undefined) {
      send(session, msg.id, STATUS.METHOD_NOT_FOUND, msg.topic);
      return;
    }
    let entry: Running | undefined; // made only for a contextual handler or a deferred answer
    const accepts = msg.stream === true;
    let result: unknown;
    try {
      const args = frames.decodeArgs(msg.args);
      if (contextual.has(handler)) {
        entry = running(session);
        result = handler(...args, context(entry, msg.topic, accepts));
      } else {
        result = handler(...args);
      }
    } catch (err) {
      send(session, msg.id, STATUS.METHOD_EXCEPTION, errorText(err));
      return;
    }
    // A plain value is the answer: no subscription, no table entry (the common, cheap case).
    if (!isObservable(result) && !isPromiseLike(result)) {
      send(session, msg.id, STATUS.OK, frames.encodeResult(result) ?? null);
      return;
    }
    this.follow(msg, entry ?? running(session), result, accepts);
  }

  /** Answer from an Observable or a Promise: values (streamed if the caller accepts it), errors. */
  private follow(msg: RpcMsg, entry: Running, result: Observable<unknown> | PromiseLike<unknown>,
    accepts: boolean): void {
    const { session } = entry;
    const respond = (status: number, data: unknown, stream?: ResponseMsg['stream']): boolean =>
      send(session, msg.id, status, data, stream);
    const streaming = accepts && isObservable(result);
    const result$: Observable<unknown> = !isObservable(result) ? from(result)
      : streaming ? result : result.pipe(takeLast(1), defaultIfEmpty(null));
    this.running.set(msg.id, entry); // before subscribing: the handler may end synchronously
    const done = (): void => {
      if (this.running.get(msg.id) === entry) this.running.delete(msg.id);
    };
    entry.subscription.add(result$.subscribe({
      next: (value) => {
        // A value the wire cannot carry was answered with 40: that ends the call.
        const sent = respond(STATUS.OK, frames.encodeResult(value) ?? null, streaming ? 'item' : undefined);
        if (!sent) this.release(msg.id, entry);
      },
      error: (err: unknown) => {
        done();
        respond(STATUS.METHOD_EXCEPTION, errorText(err));
      },
      complete: () => {
        done();
        if (streaming) respond(STATUS.OK, null, 'end');
      },
    }));
  }

  /** The caller withdrew call `id` (a RESPONSE with the cancel flag); false if nothing ran. */
  cancel(session: ClientSession, id: MsgId): boolean {
    const entry = this.running.get(id);
    if (entry?.session !== session) return false;
    this.release(id, entry);
    return true;
  }

  /** The link dropped: the broker has failed these calls (43) and forgotten them. */
  sessionDown(session: ClientSession): void {
    for (const [id, entry] of this.running) if (entry.session === session) this.release(id, entry);
  }

  /** Release every handler (the component closes). */
  clear(): void {
    for (const [id, entry] of this.running) this.release(id, entry);
  }

  private release(id: MsgId, entry: Running): void {
    if (this.running.get(id) === entry) this.running.delete(id);
    entry.released = true;
    entry.abort?.abort(); // first, so that the handler sees the signal while still subscribed
    entry.subscription.unsubscribe();
  }
}

function running(session: ClientSession): Running {
  return { session, subscription: new Subscription(), abort: undefined, released: false };
}

/** The RpcContext of a call; its `signal` is made on first read, already aborted if released. */
function context(entry: Running, method: string, stream: boolean): RpcContext {
  return {
    method,
    stream,
    get signal(): AbortSignal {
      if (entry.abort === undefined) {
        entry.abort = new AbortController();
        if (entry.released) entry.abort.abort();
      }
      return entry.abort.signal;
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Send one RESPONSE; a value the peer's encoding cannot carry becomes 40. False if it did. */
function send(session: ClientSession, id: MsgId, status: number, data: unknown,
  stream?: ResponseMsg['stream']): boolean {
  if (!session.link.isOpen) return true;
  const msg: ResponseMsg = { type: 'response', id, status, data };
  if (stream !== undefined) msg.stream = stream;
  try {
    session.send(msg);
    return true;
  } catch (err) {
    session.send({ type: 'response', id, status: STATUS.METHOD_EXCEPTION, data: errorText(err) });
    return false;
  }
}
