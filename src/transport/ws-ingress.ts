/**
 * Puts a {@link WsFrameReader} in front of `ws`'s `Receiver` on an open `ws` socket, after `ws`
 * has done the HTTP upgrade: the socket's bytes go to our reader, which delivers whole binary
 * messages itself and forwards everything else (control frames, text, fragments, frames it
 * refuses) to the `Receiver` at frame boundaries. `ws` so keeps the close handshake, automatic
 * pongs, UTF-8 validation, every close code (1002, 1007, 1009) and its close timer.
 *
 * This leans on internals of `ws` 8 (`_socket`, `_receiver` with its `_maxPayload` and
 * `_allowSynchronousEvents`, the socket's `socketOnData` listener); where one is missing or
 * differs (another `ws` version, a negotiated extension, `allowSynchronousEvents: false`)
 * nothing is changed and the `Receiver` reads everything as before.
 */
import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import { WsFrameReader } from './ws-reader.js';

interface RawSocket {
  listeners(event: 'data'): Function[];
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: string, listener: Function): unknown;
  prependListener(event: 'close', listener: () => void): unknown;
  pause(): unknown;
  read(size: number): Buffer | null;
  readonly readableLength: number;
  _readableState?: { readingMore?: boolean };
}

interface WsInternals {
  _socket?: RawSocket;
  _receiver?: Writable & { _maxPayload?: number; _allowSynchronousEvents?: boolean };
  _isServer?: boolean;
  _extensions?: Record<string, unknown>;
}

/** Called around the reading of each socket chunk (its frames are delivered in between). */
export interface ChunkHooks {
  enter(): void;
  leave(): void;
}

/**
 * Read the binary messages of `ws` (open, server or client side) with a {@link WsFrameReader},
 * delivering each to `deliver`; the others still come as `ws` `'message'` events. Returns false,
 * changing nothing, when `ws`'s internals are not as expected.
 */
export function readFrames(ws: WebSocket, deliver: (bytes: Buffer) => void, chunk?: ChunkHooks): boolean {
  const { _socket: socket, _receiver: receiver, _isServer: server, _extensions: extensions } = ws as unknown as WsInternals;
  if (socket === undefined || receiver === undefined || ws.readyState !== WebSocket.OPEN) return false;
  if (extensions === undefined || Object.keys(extensions).length > 0) return false;
  if (typeof receiver._maxPayload !== 'number' || typeof receiver.write !== 'function') return false;
  // Messages the Receiver emits a turn later could overtake ours: keep order, leave it alone.
  if (receiver._allowSynchronousEvents !== true) return false;
  const wsOnData = socket.listeners('data').find((listener) => listener.name === 'socketOnData');
  if (wsOnData === undefined) return false;
  // A Receiver that refused a frame is `errored` at once (destroyed a tick later); one that read
  // a close frame has ended itself. ws writes nothing more to it then, nor do we.
  const open = (): boolean => receiver.errored == null && !receiver.destroyed && !receiver.writableEnded;
  const reader = new WsFrameReader(server === true, receiver._maxPayload, {
    message: deliver,
    forward(bytes) {
      if (!open()) return false;
      // As ws's own listener: a Receiver that buffers past its high-water mark pauses the socket.
      if (!receiver.write(bytes)) socket.pause();
      return open();
    },
  });
  const state = socket._readableState;
  const quiet = typeof state?.readingMore === 'boolean';
  const hooks = chunk;
  const onData = (chunk: Buffer): void => {
    // Node's Readable queues a `process.nextTick` after each chunk of a flowing stream to read
    // more (`maybeReadMore`), unless one is marked under way. A socket reads on its own while
    // flowing, so that tick does nothing here but cost a tick object and a run of the tick
    // queue, which makes a `Map` in `processPromiseRejections` (~0.45 KB per read, issue 20's
    // W4 tail). Marking it under way skips it; a paused socket emits no 'data' and reads as usual.
    if (quiet) state!.readingMore = true;
    if (hooks === undefined) return reader.push(chunk);
    hooks.enter();
    try {
      reader.push(chunk);
    } finally {
      hooks.leave();
    }
  };
  socket.removeListener('data', wsOnData);
  socket.on('data', onData);
  // On 'close', ws writes what a paused socket still holds into its Receiver; that is the middle
  // of our stream, so it is read here first (this listener runs before ws's).
  socket.prependListener('close', () => {
    socket.removeListener('data', onData);
    const held = socket.readableLength;
    if (held === 0 || !open()) return;
    const chunk = socket.read(held);
    if (chunk !== null) reader.push(chunk);
  });
  return true;
}
