/**
 * WebSocket server adapter: accepts upgrades on any path (spec §1.1) and hands each socket to
 * `handle(link)`. The broker itself owns no socket.
 */
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, wsLink } from '../transport/ws-link.js';
import type { Link } from '../transport/link.js';

export interface WsListener {
  readonly port: number;
  close(): Promise<void>;
}

export function listenWebSocket(
  handle: (link: Link) => void, port: number, host: string,
): Promise<WsListener> {
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({ port, host, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    server.once('error', reject);
    server.on('connection', (ws, req) => {
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
          for (const client of server.clients) client.terminate();
          server.close(() => done());
        }),
      });
    });
  });
}
