/**
 * Link over a `ws` WebSocket (Node): wrap an open socket, or dial one. Binary frames carry CBOR,
 * text frames JSON-RPC (spec §1.1). The link itself is in ws-link-impl.ts, the per-turn write
 * coalescing it shares with every other link in ws-write-turn.ts.
 */
import WebSocket from 'ws';
import { ConnectionError } from '../errors.js';
import type { Link } from './link.js';
import { WsLink } from './ws-link-impl.js';
import { keepAlive } from './ws-keepalive.js';

/** Largest frame accepted: the PY reference configures 60 MiB (spec §1.1). */
export const MAX_FRAME_BYTES = 60 * 1024 * 1024;

/**
 * Wrap an open `ws` socket (server or client side) as a Link. `zeroMask`: a client link masks
 * its frames with the all-zero key (only for a loopback peer, see {@link dialWebSocket}).
 */
export function wsLink(ws: WebSocket, remote = 'ws', zeroMask = false): Link {
  return new WsLink(ws, remote, zeroMask);
}

/**
 * Is `hostname` (as `URL` spells it) this machine's loopback interface: `localhost`, 127.0.0.0/8
 * or `[::1]`?
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `ws`'s mask generator for the frames it writes itself (large ones, close, pong) on a loopback link. */
const zeroKey = (mask: Buffer): void => {
  mask.fill(0);
};

/** Options for {@link dialWebSocket}. */
export interface DialWebSocketOptions {
  /** Give up opening after this many ms. Default 10_000. */
  connectTimeout?: number;
  /** Extra options passed to `ws` (TLS CA, certificates, headers). Default none. */
  wsOptions?: WebSocket.ClientOptions;
  /** Ping the server this often and drop the link when its pings go unanswered, ms; 0 never (ws-keepalive.ts). Default 0. */
  pingInterval?: number;
}

/**
 * Open a WebSocket link. The path of `url` is dropped: the component name travels in the
 * IDENTITY message, never in the upgrade URL (spec §1.1).
 *
 * To a loopback host the link masks its frames with the all-zero key: masking (RFC 6455 §10.3)
 * keeps a script in a browser from making its bytes look like requests to an intermediary (a
 * caching proxy) on the path, and a loopback connection has no intermediary. The frames stay
 * masked frames, as a server requires; the XOR and the random key per frame (CPU on both ends,
 * issue 20) are what is saved. Any other host keeps a random key per frame.
 * @throws ConnectionError when the socket cannot be opened.
 */
export function dialWebSocket(url: string, options: DialWebSocketOptions = {}): Promise<Link> {
  const { connectTimeout = 10_000, wsOptions = {}, pingInterval = 0 } = options;
  const target = new URL(url);
  const base = `${target.protocol}//${target.host}`;
  return new Promise<Link>((resolve, reject) => {
    const zeroMask = isLoopbackHost(target.hostname);
    const ws = new WebSocket(base, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: connectTimeout,
      ...(zeroMask ? { generateMask: zeroKey } : {}), ...wsOptions });
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
      keepAlive(ws, pingInterval);
      resolve(wsLink(ws, base, zeroMask));
    });
  });
}
