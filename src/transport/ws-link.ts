/**
 * Link over a `ws` WebSocket (Node). Binary frames carry CBOR, text frames JSON-RPC (spec §1.1).
 *
 * Writes are coalesced per event-loop turn: the first send of a turn corks the TCP socket and
 * a microtask uncorks it, so a burst of frames leaves in one write.
 */
import { Observable, Subject } from 'rxjs';
import WebSocket from 'ws';
import { ConnectionError } from '../errors.js';
import type { Frame, Link } from './link.js';

/** Largest frame accepted: the PY reference configures 60 MiB (spec §1.1). */
export const MAX_FRAME_BYTES = 60 * 1024 * 1024;

class WsLink implements Link {
  private readonly incoming = new Subject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    const socket = (this.ws as unknown as { _socket?: { uncork(): void } })._socket;
    socket?.uncork();
  };

  constructor(private readonly ws: WebSocket, readonly remote: string) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.incoming.next(isBinary ? bytes : bytes.toString('utf8'));
    });
    ws.on('close', () => this.incoming.complete());
    // An 'error' is always followed by 'close'; listening keeps it from being thrown.
    ws.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      const socket = (this.ws as unknown as { _socket?: { cork(): void } })._socket;
      if (socket) {
        socket.cork();
        this.corked = true;
        queueMicrotask(this.uncork);
      }
    }
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING) return;
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
  }
}

/** Wrap an open `ws` socket (server or client side) as a Link. */
export function wsLink(ws: WebSocket, remote = 'ws'): Link {
  return new WsLink(ws, remote);
}

/** Options for {@link dialWebSocket}. */
export interface DialWebSocketOptions {
  /** Give up opening after this many ms. Default 10_000. */
  connectTimeout?: number;
  /** Extra options passed to `ws` (TLS CA, certificates, headers). Default none. */
  wsOptions?: WebSocket.ClientOptions;
}

/**
 * Open a WebSocket link. The path of `url` is dropped: the component name travels in the
 * IDENTITY message, never in the upgrade URL (spec §1.1).
 * @throws ConnectionError when the socket cannot be opened.
 */
export function dialWebSocket(url: string, options: DialWebSocketOptions = {}): Promise<Link> {
  const { connectTimeout = 10_000, wsOptions = {} } = options;
  const target = new URL(url);
  const base = `${target.protocol}//${target.host}`;
  return new Promise<Link>((resolve, reject) => {
    const ws = new WebSocket(base, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: connectTimeout, ...wsOptions });
    const fail = (err: Error): void => {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(new ConnectionError(`cannot connect to ${base}: ${err.message}`, { cause: err }));
    };
    ws.once('error', fail);
    ws.once('open', () => {
      ws.off('error', fail);
      ws.setMaxListeners(0);
      resolve(wsLink(ws, base));
    });
  });
}
