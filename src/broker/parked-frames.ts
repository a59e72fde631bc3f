/**
 * The frames flow control holds back for a link behind (flow-control.ts), oldest first. Each
 * frame is copied into 256 KiB chunks behind a 4-byte length: a reader that stopped reading may
 * be sent hundreds of thousands of frames before it is cut, and one object kept per frame would
 * be promoted and traced by every collection meanwhile (a copy of ~100 bytes costs less than
 * that). Nothing per frame lives on the JS heap — not even its length in an array, whose
 * growth to hundreds of thousands of slots left megabytes of old-space garbage and made the
 * collector run the more often the longer a reader stalled. Text frames (JSON peers) are kept
 * as they are, their place marked in the chunks.
 */
import type { Frame } from '../codec/wire.js';

/**
 * A binary frame not made into bytes yet (a wildcard delivery spliced from its publisher's
 * frame): parked by writing it straight into a chunk, with no frame of its own made.
 */
export interface WritableFrame {
  readonly length: number;
  /** Write the frame at `out[at]` (room for `length` bytes); returns the offset after it. */
  writeTo(out: Uint8Array, at: number): number;
}

const CHUNK = 256 * 1024;
/** Bytes of the length before each frame. */
const PREFIX = 4;
/** The length that stands for the next text frame. */
const TEXT = 0xffff_ffff;

export class ParkedFrames {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes written into each chunk. */
  private readonly ends: number[] = [];
  /** Read position in the first chunk. */
  private head = 0;
  private count = 0;
  private readonly texts: string[] = [];
  private firstText = 0;
  /** Bytes held (text frames count their length; the length prefixes do not count). */
  bytes = 0;

  get size(): number {
    return this.count;
  }

  push(frame: Frame | WritableFrame): void {
    const text = typeof frame === 'string';
    const n = text ? 0 : frame instanceof Uint8Array ? frame.byteLength : frame.length;
    let last = this.chunks.length - 1;
    if (last < 0 || this.ends[last]! + PREFIX + n > this.chunks[last]!.length) {
      this.chunks.push(new Uint8Array(Math.max(CHUNK, PREFIX + n)));
      this.ends.push(0);
      last++;
    }
    const chunk = this.chunks[last]!;
    const at = this.ends[last]!;
    const length = text ? TEXT : n;
    chunk[at] = length & 0xff;
    chunk[at + 1] = (length >>> 8) & 0xff;
    chunk[at + 2] = (length >>> 16) & 0xff;
    chunk[at + 3] = length >>> 24;
    if (text) {
      this.texts.push(frame);
      this.bytes += frame.length;
    } else {
      if (frame instanceof Uint8Array) chunk.set(frame, at + PREFIX);
      else frame.writeTo(chunk, at + PREFIX);
      this.bytes += n;
    }
    this.ends[last] = at + PREFIX + n;
    this.count++;
  }

  /**
   * The oldest frame, removed; a binary one is a view of its chunk, which is never written
   * again. Undefined when empty.
   */
  shift(): Frame | undefined {
    if (this.count === 0) return undefined;
    if (this.head === this.ends[0]) {
      this.chunks.shift();
      this.ends.shift();
      this.head = 0;
    }
    const chunk = this.chunks[0]!;
    const at = this.head;
    const length = (chunk[at]! | (chunk[at + 1]! << 8) | (chunk[at + 2]! << 16) | (chunk[at + 3]! << 24)) >>> 0;
    let frame: Frame;
    if (length === TEXT) {
      frame = this.texts[this.firstText]!;
      this.texts[this.firstText++] = '';
      this.bytes -= frame.length;
      this.head = at + PREFIX;
    } else {
      frame = chunk.subarray(at + PREFIX, at + PREFIX + length);
      this.head = at + PREFIX + length;
      this.bytes -= length;
    }
    if (--this.count === 0) this.clear();
    else if (this.firstText > 1024 && this.firstText * 2 > this.texts.length) {
      this.texts.splice(0, this.firstText);
      this.firstText = 0;
    }
    return frame;
  }

  clear(): void {
    this.chunks.length = 0;
    this.ends.length = 0;
    this.head = 0;
    this.count = 0;
    this.texts.length = 0;
    this.firstText = 0;
    this.bytes = 0;
  }
}
