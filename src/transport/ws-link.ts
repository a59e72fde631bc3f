/**
 * Link over a `ws` WebSocket (Node). Binary frames carry CBOR, text frames JSON-RPC (spec §1.1).
 *
 * Writes are coalesced per event-loop turn: each frame is written into the link's write buffer
 * as it is sent (no payload object waits for the end of the turn), and one microtask per turn
 * flushes every link that has frames, each in a single socket write. A fan-out burst costs one
 * write per peer instead of two queued chunks per frame. Frames of 64 KiB and more go through
 * `ws`.
 */
import type { Observable } from 'rxjs';
import WebSocket from 'ws';
import { ConnectionError } from '../errors.js';
import type { Frame, FrameParts, Link } from './link.js';
import { LeanSubject } from '../internal/lean-subject.js';
import { FIN_BINARY, frameOpcode, framePayload, headerSize, writeFrame, writeHeader, type Masking } from './ws-frames.js';
import { readFrames } from './ws-ingress.js';
import { keepAlive } from './ws-keepalive.js';

/** Largest frame accepted: the PY reference configures 60 MiB (spec §1.1). */
export const MAX_FRAME_BYTES = 60 * 1024 * 1024;

/** Frames at least this large are not copied into the turn's batch. */
const LARGE_FRAME = 65_536;
/**
 * Write buffers shared by every link of the process: a link takes one at its first frame of a
 * turn and returns it when the write completes, so a turn whose frames fit costs no allocation
 * (and no native-heap churn). A turn that outgrows it moves to a buffer of its own; a socket
 * with writes pending gets an exact-size copy. At most 64 × 64 KiB are kept.
 */
const WRITE_BUFFER = 64 * 1024;
const writeBuffers: Buffer[] = [];
const MAX_WRITE_BUFFERS = 64;

function release(buffer: Buffer): void {
  if (buffer.length === WRITE_BUFFER && writeBuffers.length < MAX_WRITE_BUFFERS) writeBuffers.push(buffer);
}

/**
 * The links with frames written this turn (`pendingCount` of `pending`), flushed by one
 * microtask for all of them. Two arrays swapped at each flush: a link sending while the others
 * flush starts the next turn's list. Flushed entries are cleared one by one, never by
 * `length = 0`, which drops the array's backing store and makes the next turn allocate one
 * (~150 bytes per turn, and a sequential call's every frame is a turn).
 */
let pending: (WsLink | undefined)[] = [];
let pendingCount = 0;
let flushing: (WsLink | undefined)[] = [];
let scheduled = false;
/**
 * The turn's flush is queued as a reaction of this settled promise rather than by
 * `queueMicrotask`, which in Node wraps every callback in an `AsyncResource`, a bound function
 * and a closure (152 bytes against 96, in process). `flushAll` throws nothing, so no rejection
 * can escape.
 */
const settled = Promise.resolve();

/**
 * Socket chunks being read (see {@link readChunk}): a link that sends meanwhile is flushed when
 * the chunk has been read, rather than by the turn's microtask — a frame answered or forwarded
 * from the chunk that brought it (an RPC call, its answer) costs no promise reaction.
 */
let reading = 0;
const readChunk = {
  enter(): void {
    reading++;
  },
  leave(): void {
    if (--reading === 0 && pendingCount > 0) flushAll();
  },
};

function flushAll(): void {
  const links = pending;
  const count = pendingCount;
  pending = flushing;
  pendingCount = 0;
  flushing = links;
  scheduled = false;
  for (let i = 0; i < count; i++) {
    const link = links[i]!;
    links[i] = undefined;
    link.queued = false;
    try {
      link.flush();
    } catch {
      // A socket that throws on write is closing; its 'close' event ends the link. The other
      // links of the turn still flush.
    }
  }
}

interface RawSocket {
  write(chunk: Uint8Array, done?: () => void): boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

class WsLink implements Link {
  private readonly incoming = new LeanSubject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  private readonly masked: Masking;
  /** This turn's frames, written as sent: `used` bytes of `buffer`. */
  private buffer: Buffer | undefined;
  private used = 0;
  /** In the list of links the turn's microtask flushes. */
  queued = false;
  /**
   * Pooled buffers the socket still holds (a write the kernel did not take at once). Writes
   * carry no callback: a write with one makes Node's stream queue a `process.nextTick` per
   * write (and the tick queue then runs `processPromiseRejections`, a new `Map` per run: about
   * 0.6 KB per frame in all, issue 20's W4 tail). A socket whose `writableLength` is 0 has
   * finished every write, so they come back to the pool at the next flush that sees it idle.
   */
  private readonly writing: Buffer[] = [];

  /** Write this turn's frames in one socket write (or drop them when the socket is gone). */
  flush(): void {
    const buffer = this.buffer;
    const used = this.used;
    if (buffer === undefined) return;
    this.buffer = undefined;
    this.used = 0;
    const socket = this.ws.readyState === WebSocket.OPEN ? this.socket() : undefined;
    if (socket === undefined || socket.destroyed) {
      release(buffer);
      return;
    }
    const idle = socket.writableLength === 0;
    if (idle && this.writing.length > 0) this.reclaim(); // its earlier writes are done
    if (!idle && buffer.length === WRITE_BUFFER) {
      // Writes pending (a slow reader): this chunk waits until the peer reads, so it gets a
      // buffer of its own size rather than a shared 64 KiB one: a reader behind holds what it
      // is sent (`bufferedAmount`), not 64 KiB per event-loop turn.
      const chunk = Buffer.allocUnsafe(used);
      buffer.copy(chunk, 0, 0, used);
      release(buffer);
      socket.write(chunk);
      return;
    }
    socket.write(buffer.subarray(0, used));
    // Taken by the kernel at once (the usual case): the buffer is free again now.
    if (socket.writableLength === 0) release(buffer);
    else if (buffer.length === WRITE_BUFFER) this.writing.push(buffer);
  }

  /** Return the buffers of finished writes to the pool. */
  private reclaim(): void {
    for (const buffer of this.writing) release(buffer);
    this.writing.length = 0;
  }

  constructor(private readonly ws: WebSocket, readonly remote: string, zeroMask: boolean) {
    const client = (ws as unknown as { _isServer?: boolean })._isServer !== true;
    this.masked = client && zeroMask ? 'zero' : client;
    // Binary messages come from our frame reader (issue 20); the rest still from ws's 'message'.
    readFrames(ws, (bytes) => this.incoming.next(bytes), readChunk);
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
    return this.ws.bufferedAmount + this.used;
  }

  /** libuv's write queue of the TCP socket (Node streams hand it every buffered chunk at once). */
  get writeQueueSize(): number | undefined {
    return (this.socket() as { _handle?: { writeQueueSize?: number } } | undefined)?._handle?.writeQueueSize;
  }

  get unsent(): number {
    const state = (this.socket() as { _writableState?: { writing?: boolean; writelen?: number; length: number } } | undefined)?._writableState;
    // The write under way (`writelen`) is partly in the kernel: only its `writeQueueSize` rest is dropped.
    const under = state?.writing === true ? Math.min(state.writelen ?? 0, state.length) : 0;
    return this.ws.bufferedAmount - under + (this.writeQueueSize ?? under) + this.used;
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
    const buffer = this.room(headerSize(length, this.masked) + length);
    this.used = writeFrame(buffer, this.used, frameOpcode(frame), payload, this.masked);
  }

  /** A frame in parts is written where its bytes go (large ones, and a random key's masking, take `send`). */
  sendParts(frame: FrameParts): void {
    const length = frame.length;
    if (length >= LARGE_FRAME || this.masked === true) return this.send(frame.bytes());
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const buffer = this.room(headerSize(length, this.masked) + length);
    this.used = frame.writeTo(buffer, writeHeader(buffer, this.used, FIN_BINARY, length, this.masked));
  }

  /** This turn's buffer with room for `size` more bytes (the turn's first frame takes one and queues the flush). */
  private room(size: number): Buffer {
    let buffer = this.buffer;
    if (buffer === undefined) {
      buffer = this.buffer = writeBuffers.pop() ?? Buffer.allocUnsafe(WRITE_BUFFER);
      if (!this.queued) {
        this.queued = true;
        pending[pendingCount++] = this;
        if (!scheduled && reading === 0) {
          scheduled = true;
          void settled.then(flushAll);
        }
      }
    }
    if (this.used + size > buffer.length) buffer = this.grow(size);
    return buffer;
  }

  /** Move this turn's frames to a buffer of their own with room for `size` more bytes. */
  private grow(size: number): Buffer {
    const old = this.buffer!;
    const grown = Buffer.allocUnsafe(Math.max(2 * old.length, this.used + size));
    old.copy(grown, 0, 0, this.used);
    release(old);
    this.buffer = grown;
    return grown;
  }

  pause(): void {
    this.ws.pause();
  }

  abort(): void {
    if (this.buffer !== undefined) release(this.buffer);
    this.buffer = undefined;
    this.used = 0;
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
