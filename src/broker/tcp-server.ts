/**
 * TCP / TLS server adapter (spec §1.4): accepts Rembus.jl-framed stream connections and hands
 * each to `handle(link)`, as the WebSocket adapter does. With TLS material it serves `tls://`
 * (Rembus.jl's `--secure` makes its TCP port a TLS one the same way).
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Link } from '../transport/link.js';
import { MAX_TCP_FRAME_BYTES, tcpLink, type StreamSocket } from '../transport/tcp-link.js';

/** Options of {@link listenTcp}. */
export interface TcpListenOptions {
  port: number;
  host: string;
  /** Largest frame accepted; a bigger one drops the connection. Default 60 MiB. */
  maxPayload?: number | undefined;
  /** Certificate chain and private key (PEM): serve tls://. */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array } | undefined;
}

export interface TcpListener {
  readonly port: number;
  /** `tcp` or `tls`. */
  readonly scheme: 'tcp' | 'tls';
  /** Stop listening and drop every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listen for TCP (or TLS) components. Sockets use TCP keep-alive (30 s) so a peer gone without
 * a close is noticed and its name freed.
 * @throws the listen error (e.g. `EADDRINUSE`)
 */
export async function listenTcp(handle: (link: Link) => void, options: TcpListenOptions): Promise<TcpListener> {
  const { port, host, maxPayload = MAX_TCP_FRAME_BYTES, tls } = options;
  const sockets = new Set<Socket>();
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    handle(tcpLink(socket as unknown as StreamSocket, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, maxPayload));
  };
  let server: Server;
  if (tls === undefined) {
    server = createNetServer(accept);
  } else {
    server = createTlsServer({ cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) }, accept);
    // A client that fails the TLS handshake must not bring the server down.
    server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  }
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    scheme: tls === undefined ? 'tcp' : 'tls',
    close: () => closing ??= new Promise<void>((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => done());
    }),
  };
}
