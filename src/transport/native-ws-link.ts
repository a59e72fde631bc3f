/**
 * Link over the runtime's own WebSocket (`globalThis.WebSocket`: browsers, Deno, Bun, Node ≥ 22).
 * Browser-safe: no `node:*`, no `Buffer`. Binary frames arrive as `Uint8Array`, text frames as
 * strings (spec §1.1). The path of the URL is dropped: the name travels in IDENTITY.
 */
import { Observable, Subject } from 'rxjs';
import { ConnectionError } from '../errors.js';
import type { Frame, Link } from './link.js';

/** The part of the WHATWG WebSocket this link uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  removeEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}

/** A WebSocket constructor of the WHATWG shape. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of {@link dialNativeWebSocket}. */
export interface DialNativeOptions {
  /** Give up opening after this many ms. Default 10_000. */
  connectTimeout?: number;
  /** The WebSocket class to use. Default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
}

const OPEN = 1;
const CLOSING = 2;

class NativeLink implements Link {
  private readonly incoming = new Subject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  private readonly onMessage = (event: { data?: unknown }): void => {
    const data = event.data;
    if (typeof data === 'string') this.incoming.next(data);
    else if (data instanceof ArrayBuffer) this.incoming.next(new Uint8Array(data));
  };
  private readonly onClose = (): void => {
    this.ws.removeEventListener('message', this.onMessage);
    this.ws.removeEventListener('close', this.onClose);
    this.incoming.complete();
  };

  constructor(private readonly ws: WebSocketLike, readonly remote: string) {
    ws.addEventListener('message', this.onMessage);
    ws.addEventListener('close', this.onClose);
  }

  get isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: Frame): void {
    if (this.ws.readyState === OPEN) this.ws.send(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState >= CLOSING) return;
    this.ws.close(code, reason.slice(0, 120));
  }
}

/**
 * Open a link with the runtime's WebSocket.
 * @example
 * ```ts
 * import { connect } from 'rembus';
 * const node = await connect('ws://127.0.0.1:8338/page'); // dials through this in browsers
 * ```
 * @throws ConnectionError when there is no WebSocket, or it cannot open within `connectTimeout`.
 */
export function dialNativeWebSocket(url: string, options: DialNativeOptions = {}): Promise<Link> {
  const { connectTimeout = 10_000 } = options;
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const target = new URL(url);
  const base = `${target.protocol}//${target.host}`;
  if (Ctor === undefined) {
    return Promise.reject(new ConnectionError(`cannot connect to ${base}: this runtime has no WebSocket`));
  }
  return new Promise<Link>((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = new Ctor(base);
    } catch (err) {
      reject(new ConnectionError(`cannot connect to ${base}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const settle = (err?: Error): void => {
      clearTimeout(timer);
      ws.removeEventListener('open', onOpen);
      ws.removeEventListener('error', onError);
      ws.removeEventListener('close', onError);
      if (err === undefined) return resolve(new NativeLink(ws, base));
      if (ws.readyState < CLOSING) ws.close();
      reject(err);
    };
    // A browser hides the cause of a failed handshake (no status, no errno) on purpose.
    const onError = (): void => settle(new ConnectionError(`cannot connect to ${base}: connection refused or handshake failed`));
    const onOpen = (): void => settle();
    const timer = setTimeout(() => settle(new ConnectionError(`cannot connect to ${base}: no answer within ${connectTimeout} ms`)),
      connectTimeout);
    ws.addEventListener('open', onOpen);
    ws.addEventListener('error', onError);
    ws.addEventListener('close', onError);
  });
}
