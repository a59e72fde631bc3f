/**
 * WebSocket server adapter: accepts upgrades on any path (spec §1.1) and hands each socket to
 * `handle(link)`. The broker itself owns no socket.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, wsLink } from '../transport/ws-link.js';
import type { Link } from '../transport/link.js';

export interface WsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listen for WebSocket upgrades. Every `pingInterval` ms each socket is pinged; one that has not
 * answered the previous ping is terminated, so a peer gone without a TCP close is noticed and
 * its name freed (spec §1.1 keep-alive; 0 disables).
 */
export function listenWebSocket(
  handle: (link: Link) => void, port: number, host: string, pingInterval = 30_000,
): Promise<WsListener> {
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({ port, host, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    server.once('error', reject);
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
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      let closing: Promise<void> | undefined;
      resolve({
        port: bound,
        close: () => closing ??= new Promise<void>((done) => {
          clearInterval(pinger);
          for (const client of server.clients) client.terminate();
          server.close(() => done());
        }),
      });
    });
  });
}
