/**
 * WebSocket server adapter: accepts upgrades on any path (spec §1.1) and hands each socket to
 * `handle(link)`. The broker itself owns no socket. With TLS material it serves `wss://` from an
 * HTTPS server (spec §1.1).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, wsLink } from '../transport/ws-link.js';
import type { Link } from '../transport/link.js';

export interface WsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Options of {@link listenWebSocket}. */
export interface ListenOptions {
  port: number;
  host: string;
  /** Keep-alive ping period, ms; 0 disables. Default 30_000. */
  pingInterval?: number | undefined;
  /** Largest frame accepted; a bigger one closes the link with 1009. Default 60 MiB. */
  maxPayload?: number | undefined;
  /** Certificate chain and private key (PEM): serve wss://. */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array } | undefined;
  /** Plain HTTP requests (not upgrades) on the same port (src/http). Default: answer 426. */
  http?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
}

/**
 * How long a client may take to send a request's head (an upgrade's too), ms; then 408 and the
 * socket closes. Node's default (60 s, looked at every 30 s) let a client that sends its head a
 * byte at a time, or nothing, hold a socket 90 s (slowloris).
 */
export const HTTP_HEADERS_TIMEOUT = 10_000;

/**
 * Bounds of a plain HTTP request: its head within {@link HTTP_HEADERS_TIMEOUT}, all of it within
 * 60 s (Node's 300 s let a trickled body hold a socket 330 s; 8 MiB in 60 s wants 140 KB/s), looked
 * at every second. An upgraded socket is no longer a request: these do not apply to it.
 */
const HTTP_LIMITS = { headersTimeout: HTTP_HEADERS_TIMEOUT, requestTimeout: 60_000, connectionsCheckingInterval: 1_000 } as const;

/** What `ws` answers to plain HTTP when it owns the server. */
function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'Content-Type': 'text/plain' }).end('Upgrade Required');
}

/**
 * Listen for WebSocket upgrades. Every `pingInterval` ms each socket is pinged; one that has not
 * answered the previous ping is terminated, so a peer gone without a TCP close is noticed and
 * its name freed (spec §1.1 keep-alive; 0 disables).
 */
export async function listenWebSocket(handle: (link: Link) => void, options: ListenOptions): Promise<WsListener> {
  const { port, host, pingInterval = 30_000, maxPayload = MAX_FRAME_BYTES, tls, http = upgradeRequired } = options;
  const common = { maxPayload, perMessageDeflate: false } as const;
  const httpServer: Server | HttpServer = tls === undefined ? createHttpServer(HTTP_LIMITS, http)
    : createServer({ cert: Buffer.from(tls.cert), key: Buffer.from(tls.key), ...HTTP_LIMITS }, http);
  // A client that fails the TLS handshake must not bring the server down.
  httpServer.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const server = new WebSocketServer({ server: httpServer, ...common });
  const alive = new WeakSet<WebSocket>();
  const pinger = pingInterval > 0 ? setInterval(() => {
    for (const client of server.clients) {
      if (!alive.has(client)) { client.terminate(); continue; }
      alive.delete(client);
      client.ping();
    }
  }, pingInterval) : undefined;
  pinger?.unref();
  server.on('connection', (ws, req) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', () => undefined);
    handle(wsLink(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`));
  });
  const address = httpServer.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close: () => closing ??= new Promise<void>((done) => {
      clearInterval(pinger);
      for (const client of server.clients) client.terminate();
      server.close(() => {
        httpServer.closeAllConnections();
        httpServer.close(() => done());
      });
    }),
  };
}
