/**
 * Dialer of `tcp://host:port` and `tls://host:port` (spec §1.4, Rembus.jl's TCP transports).
 * `node:net` / `node:tls` are imported only when such a URL is dialed, so code that reaches this
 * file statically stays loadable in a browser (where dialing fails with ConnectionError).
 */
import { ConnectionError } from '../errors.js';
import type { Link } from './link.js';
import { MAX_TCP_FRAME_BYTES, tcpLink, type StreamSocket } from './tcp-link.js';

/** Options of {@link dialTcp}. */
export interface DialTcpOptions {
  /** Give up opening after this many ms. Default 10_000. */
  connectTimeout?: number;
  /** `tls://` only: CA certificate(s) to trust besides the system ones (PEM). */
  ca?: string | Uint8Array | undefined;
  /** Largest frame accepted. Default 60 MiB. */
  maxPayload?: number;
}

/** Is `url` one {@link dialTcp} serves? */
export function isTcpUrl(url: string): boolean {
  return /^(tcp|tls):\/\//i.test(url);
}

/**
 * Open a TCP (or TLS) link. The path of `url` is dropped: the name travels in IDENTITY.
 * @throws ConnectionError when the socket cannot be opened (or the TLS handshake fails)
 */
export async function dialTcp(url: string, options: DialTcpOptions = {}): Promise<Link> {
  const { connectTimeout = 10_000, ca, maxPayload = MAX_TCP_FRAME_BYTES } = options;
  const target = new URL(url);
  const secure = target.protocol === 'tls:';
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(target.port || 8338);
  const base = `${secure ? 'tls' : 'tcp'}://${target.host}`;
  let socket: import('node:net').Socket;
  try {
    if (secure) {
      const tls = await import('node:tls');
      socket = tls.connect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host,
        ...(ca === undefined ? {} : { ca: ca as string | Buffer }) });
    } else {
      const net = await import('node:net');
      socket = net.connect({ host, port });
    }
  } catch (err) {
    throw new ConnectionError(`cannot connect to ${base}: ${(err as Error).message}`, { cause: err });
  }
  return new Promise<Link>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeout} ms`)), connectTimeout);
    const ready = secure ? 'secureConnect' : 'connect';
    function fail(err: Error): void {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      reject(new ConnectionError(`cannot connect to ${base}: ${err.message}`, { cause: err }));
    }
    socket.once('error', fail);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(tcpLink(socket as unknown as StreamSocket, base, maxPayload));
    });
  });
}
