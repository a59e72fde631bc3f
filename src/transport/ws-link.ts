/**
 * Link over a `ws` WebSocket (Node). Binary frames carry CBOR, text frames JSON-RPC (spec §1.1).
 *
 * Writes are coalesced per event-loop turn: the frames sent in one turn are written into one
 * buffer and leave in a single socket write after the turn's microtasks, so a fan-out burst
 * costs one write per peer instead of two queued chunks per frame (and no per-frame objects
 * wait in the socket's queue of a slow reader). Frames of 64 KiB and more go through `ws`.
 */
import { Observable, Subject } from 'rxjs';
import WebSocket from 'ws';
import { ConnectionError } from '../errors.js';
import type { Frame, Link } from './link.js';
import { frameOpcode, framePayload, headerSize, writeFrames, type Masking } from './ws-frames.js';
import { readFrames } from './ws-ingress.js';

/** Largest frame accepted: the PY reference configures 60 MiB (spec §1.1). */
export const MAX_FRAME_BYTES = 60 * 1024 * 1024;

/** Frames at least this large are not copied into the turn's batch. */
const LARGE_FRAME = 65_536;
/**
 * Write buffers shared by every link of the process, returned when their write completes: a
 * batch that fits one costs no allocation (and no native-heap churn); a larger batch, one for a
 * socket with writes pending, or one written while all are out, gets a buffer of its own. At
 * most 64 × 64 KiB are kept.
 */
const WRITE_BUFFER = 64 * 1024;
const writeBuffers: Buffer[] = [];
const MAX_WRITE_BUFFERS = 64;

function release(buffer: Buffer): void {
  if (writeBuffers.length < MAX_WRITE_BUFFERS) writeBuffers.push(buffer);
}

interface RawSocket {
  write(chunk: Uint8Array, done?: () => void): boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

class WsLink implements Link {
  private readonly incoming = new Subject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  private readonly masked: Masking;
  /** The frames of this turn: payloads and their first header bytes. */
  private payloads: Uint8Array[] = [];
  private opcodes: number[] = [];
  private batchBytes = 0;
  private readonly flush = (): void => {
    const payloads = this.payloads;
    const opcodes = this.opcodes;
    const size = this.batchBytes;
    this.payloads = [];
    this.opcodes = [];
    this.batchBytes = 0;
    if (payloads.length === 0 || this.ws.readyState !== WebSocket.OPEN) return;
    const socket = this.socket();
    if (socket === undefined || socket.destroyed) return;
    if (size > WRITE_BUFFER || socket.writableLength > 0) {
      // Writes pending (a slow reader): this chunk waits until the peer reads, so it gets a
      // buffer of its own size rather than a shared 64 KiB one: a reader behind holds what it
      // is sent (`bufferedAmount`), not 64 KiB per event-loop turn.
      socket.write(writeFrames(opcodes, payloads, size, this.masked));
      return;
    }
    const buffer = writeBuffers.pop() ?? Buffer.allocUnsafe(WRITE_BUFFER);
    socket.write(writeFrames(opcodes, payloads, size, this.masked, buffer), () => release(buffer));
  };

  constructor(private readonly ws: WebSocket, readonly remote: string, zeroMask: boolean) {
    const client = (ws as unknown as { _isServer?: boolean })._isServer !== true;
    this.masked = client && zeroMask ? 'zero' : client;
    // Binary messages come from our frame reader (issue 20); the rest still from ws's 'message'.
    readFrames(ws, (bytes) => this.incoming.next(bytes));
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.incoming.next(isBinary ? bytes : bytes.toString('utf8'));
    });
    ws.on('close', () => this.incoming.complete());
    // An 'error' is always followed by 'close'; listening keeps it from being thrown.
    ws.on('error', () => undefined);
  }

  private socket(): RawSocket | undefined {
    return (this.ws as unknown as { _socket?: RawSocket })._socket;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.batchBytes;
  }

  /** libuv's write queue of the TCP socket (Node streams hand it every buffered chunk at once). */
  get writeQueueSize(): number | undefined {
    return (this.socket() as { _handle?: { writeQueueSize?: number } } | undefined)?._handle?.writeQueueSize;
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const payload = framePayload(frame);
    const length = payload.length;
    if (length >= LARGE_FRAME) {
      this.flush(); // keep the order of frames
      this.ws.send(payload, { binary: typeof frame !== 'string' });
      return;
    }
    if (this.payloads.length === 0) queueMicrotask(this.flush);
    this.payloads.push(payload);
    this.opcodes.push(frameOpcode(frame));
    this.batchBytes += headerSize(length, this.masked) + length;
  }

  pause(): void {
    this.ws.pause();
  }

  abort(): void {
    this.payloads = [];
    this.opcodes = [];
    this.batchBytes = 0;
    this.ws.terminate();
  }

  resume(): void {
    this.ws.resume();
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING) return;
    this.flush(); // frames sent before close leave before the close frame
    try {
      this.ws.close(code, reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
  }
}

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
  const { connectTimeout = 10_000, wsOptions = {} } = options;
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
      resolve(wsLink(ws, base, zeroMask));
    });
  });
}
