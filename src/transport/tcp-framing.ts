/**
 * Rembus framing over a byte stream (spec §1.4, Rembus.jl `tcp_write` / `transport_read`): each
 * frame is one header byte, a big-endian length, and the CBOR payload.
 *
 * | header | length field | payload length |
 * |--------|--------------|----------------|
 * | `0x81` | 1 byte       | < 256          |
 * | `0x8D` | 2 bytes      | < 65536        |
 * | `0x8F` | 4 bytes      | otherwise      |
 *
 * Any other header byte is a protocol error; so is a length above the decoder's cap (checked
 * from the header, before any of the payload is buffered). Pure: no I/O.
 */
import { ProtocolError } from '../errors.js';

export const HEADER_LEN1 = 0x81;
export const HEADER_LEN2 = 0x8d;
export const HEADER_LEN4 = 0x8f;

/** Size of the header (type byte + length field) that frames a payload of `length` bytes. */
export function frameHeaderSize(length: number): number {
  return length < 256 ? 2 : length < 65_536 ? 3 : 5;
}

/**
 * Write the header of a `length`-byte payload into `out` at `at`.
 * @returns the offset just past the header
 */
export function writeFrameHeader(out: Uint8Array, at: number, length: number): number {
  if (length < 256) {
    out[at] = HEADER_LEN1;
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    out[at] = HEADER_LEN2;
    out[at + 1] = length >>> 8;
    out[at + 2] = length & 0xff;
    return at + 3;
  }
  out[at] = HEADER_LEN4;
  out[at + 1] = (length >>> 24) & 0xff;
  out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = (length >>> 8) & 0xff;
  out[at + 4] = length & 0xff;
  return at + 5;
}

/** Frame several payloads into one buffer (one socket write). */
export function encodeFrames(payloads: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of payloads) size += frameHeaderSize(p.length) + p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of payloads) {
    at = writeFrameHeader(out, at, p.length);
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Frame one payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  return encodeFrames([payload]);
}

/**
 * Splits a byte stream into payloads, whatever the chunking: a chunk may hold part of a header,
 * several frames, or the end of one frame and the start of the next. Keeps at most one frame's
 * worth of bytes (the cap) buffered.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Length of the frame being collected, once its header is complete. */
  private need = -1;
  private failed = false;

  /** @param maxPayload largest payload accepted, bytes */
  constructor(private readonly maxPayload: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * Feed the next chunk of the stream.
   * @returns the payloads it completes, in order
   * @throws ProtocolError on a bad header byte or a length over the cap; the decoder then
   * refuses any further input (the connection must be closed)
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw new ProtocolError('framing: stream already failed');
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 1) break;
        const type = this.peek(0);
        const field = type === HEADER_LEN1 ? 1 : type === HEADER_LEN2 ? 2 : type === HEADER_LEN4 ? 4 : 0;
        if (field === 0) return this.fail(`framing: bad header byte 0x${type.toString(16).padStart(2, '0')}`);
        if (this.buffered < 1 + field) break;
        let length = 0;
        for (let i = 1; i <= field; i++) length = length * 256 + this.peek(i);
        if (length > this.maxPayload) return this.fail(`framing: frame of ${length} bytes exceeds the cap of ${this.maxPayload}`);
        this.take(1 + field);
        this.need = length;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  private fail(message: string): never {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    throw new ProtocolError(message);
  }

  /** Byte `i` of the buffered stream (i < buffered). */
  private peek(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return -1;
  }

  /** Remove and return the first `n` buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    let used = 0; // whole chunks consumed: removed at once (shift per chunk is quadratic)
    while (at < n) {
      const c = this.chunks[used]!;
      const part = Math.min(c.length, n - at);
      out.set(part === c.length ? c : c.subarray(0, part), at);
      at += part;
      if (part === c.length) used++;
      else this.chunks[used] = c.subarray(part);
    }
    this.chunks.splice(0, used);
    return out;
  }
}
