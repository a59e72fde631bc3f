/**
 * The Link over a `ws` WebSocket (Node). Binary frames carry CBOR, text frames JSON-RPC (spec
 * §1.1). Frames go into the link's buffer of the turn and leave in one socket write when the
 * turn ends (ws-write-turn.ts); frames of 64 KiB and more go through `ws`.
 */
import type { Observable } from 'rxjs';
import WebSocket from 'ws';
import type { Frame, FrameParts, Link } from './link.js';
import { LeanSubject } from '../internal/lean-subject.js';
import { FIN_BINARY, frameOpcode, framePayload, headerSize, writeFrame, writeHeader, type Masking } from './ws-frames.js';
import { readFrames } from './ws-ingress.js';
import { queueFlush, readChunk, release, takeBuffer, WRITE_BUFFER, type TurnLink } from './ws-write-turn.js';

/** Frames at least this large are not copied into the turn's batch. */
const LARGE_FRAME = 65_536;

interface RawSocket {
  write(chunk: Uint8Array, done?: () => void): boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

/** A `ws` socket as a Link (made by `wsLink` in ws-link.ts). */
export class WsLink implements Link, TurnLink {
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
      buffer = this.buffer = takeBuffer();
      if (!this.queued) queueFlush(this);
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

  /** Any pong within `timeout` ms (to this ping or to the server's periodic one) proves the peer alive. */
  probe(timeout: number): Promise<boolean> {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (alive: boolean): void => {
        clearTimeout(timer);
        ws.off('pong', onPong);
        ws.off('close', onClose);
        resolve(alive);
      };
      const onPong = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), timeout);
      ws.on('pong', onPong);
      ws.on('close', onClose);
      try {
        ws.ping();
      } catch {
        done(false);
      }
    });
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
