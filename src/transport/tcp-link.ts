/**
 * Link over a TCP or TLS stream socket with Rembus framing (spec §1.4): the transport of
 * Rembus.jl's `tcp://` and `tls://` URLs. Frames carry CBOR only (a JSON text frame is sent as
 * its UTF-8 bytes, which a peer decodes as CBOR and refuses: use the CBOR codec over TCP).
 *
 * Frames sent in one event-loop turn leave in one socket write. A bad header byte or a frame
 * over `maxPayload` ends the connection (frames$ completes). No `node:*` module is imported
 * here: the caller supplies the socket.
 */
import { Observable, Subject } from 'rxjs';
import type { Frame, Link } from './link.js';
import { encodeFrames, FrameDecoder } from './tcp-framing.js';

/** What the link needs of a `net.Socket` / `tls.TLSSocket`. */
export interface StreamSocket {
  write(chunk: Uint8Array): boolean;
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
  readonly destroyed: boolean;
  readonly writableLength: number;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Largest frame accepted by default: 60 MiB, as over WebSocket (spec §1.1). */
export const MAX_TCP_FRAME_BYTES = 60 * 1024 * 1024;

const text = new TextEncoder();

class TcpLink implements Link {
  private readonly incoming = new Subject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  private open = true;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private readonly flush = (): void => {
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0 || this.socket.destroyed) return;
    this.socket.write(encodeFrames(batch));
  };

  constructor(private readonly socket: StreamSocket, readonly remote: string, maxPayload: number) {
    const decoder = new FrameDecoder(maxPayload);
    socket.on('data', (chunk) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch {
        // A peer that breaks the framing cannot be resynchronised: drop the connection.
        this.abort();
        return;
      }
      for (const frame of frames) {
        if (!this.open) return;
        this.incoming.next(frame);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => this.closed());
    // An 'error' is always followed by 'close'; listening keeps it from being thrown.
    socket.on('error', () => undefined);
  }

  private closed(): void {
    this.open = false;
    this.batch = [];
    this.batchBytes = 0;
    this.incoming.complete();
  }

  get isOpen(): boolean {
    return this.open && !this.socket.destroyed;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength + this.batchBytes;
  }

  send(frame: Frame): void {
    if (!this.isOpen) return;
    const payload = typeof frame === 'string' ? text.encode(frame) : frame;
    if (this.batch.length === 0) queueMicrotask(this.flush);
    this.batch.push(payload);
    this.batchBytes += payload.length + 5;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  abort(): void {
    this.batch = [];
    this.batchBytes = 0;
    this.open = false;
    this.socket.destroy();
  }

  /** TCP has no close code: frames sent before leave, then the write side is shut. */
  close(): void {
    if (!this.open) return;
    this.flush();
    this.open = false;
    this.socket.end();
    // A peer that never shuts its side would keep the socket: give it a moment, then drop it.
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    (timer as { unref?: () => void }).unref?.();
    this.frames$.subscribe({ complete: () => clearTimeout(timer) });
  }
}

/** Wrap a connected stream socket as a Link. */
export function tcpLink(socket: StreamSocket, remote = 'tcp', maxPayload = MAX_TCP_FRAME_BYTES): Link {
  return new TcpLink(socket, remote, maxPayload);
}
