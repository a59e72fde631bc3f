/**
 * The frames flow control holds back for a link behind (flow-control.ts), oldest first. Binary
 * frames are copied into 256 KiB chunks and only their lengths are kept: a reader that stopped
 * reading may be sent hundreds of thousands of frames before it is cut, and one object kept
 * per frame would be promoted and traced by every collection meanwhile (a copy of ~100 bytes
 * costs less than that). Text frames (JSON peers) are kept as they are.
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
/** A length that stands for the next text frame. */
const TEXT = -1;

export class ParkedFrames {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes written into each chunk. */
  private readonly ends: number[] = [];
  /** Read position in the first chunk. */
  private head = 0;
  private readonly lengths: number[] = [];
  private first = 0;
  private readonly texts: string[] = [];
  private firstText = 0;
  /** Bytes held (text frames count their length). */
  bytes = 0;

  get size(): number {
    return this.lengths.length - this.first;
  }

  push(frame: Frame | WritableFrame): void {
    if (typeof frame === 'string') {
      this.texts.push(frame);
      this.lengths.push(TEXT);
      this.bytes += frame.length;
      return;
    }
    const bytes = frame instanceof Uint8Array;
    const n = bytes ? frame.byteLength : frame.length;
    let last = this.chunks.length - 1;
    if (last < 0 || this.ends[last]! + n > this.chunks[last]!.length) {
      this.chunks.push(new Uint8Array(Math.max(CHUNK, n)));
      this.ends.push(0);
      last++;
    }
    if (bytes) this.chunks[last]!.set(frame, this.ends[last]!);
    else frame.writeTo(this.chunks[last]!, this.ends[last]!);
    this.ends[last]! += n;
    this.lengths.push(n);
    this.bytes += n;
  }

  /**
   * The oldest frame, removed; a binary one is a view of its chunk, which is never written
   * again. Undefined when empty.
   */
  shift(): Frame | undefined {
    if (this.first === this.lengths.length) return undefined;
    const n = this.lengths[this.first++]!;
    let frame: Frame;
    if (n === TEXT) {
      frame = this.texts[this.firstText]!;
      this.texts[this.firstText++] = '';
      this.bytes -= frame.length;
    } else {
      if (this.head === this.ends[0]) {
        this.chunks.shift();
        this.ends.shift();
        this.head = 0;
      }
      frame = this.chunks[0]!.subarray(this.head, this.head + n);
      this.head += n;
      this.bytes -= n;
    }
    if (this.first === this.lengths.length) this.clear();
    else if (this.first > 4096 && this.first * 2 > this.lengths.length) this.compact();
    return frame;
  }

  clear(): void {
    this.chunks.length = 0;
    this.ends.length = 0;
    this.head = 0;
    this.lengths.length = 0;
    this.first = 0;
    this.texts.length = 0;
    this.firstText = 0;
    this.bytes = 0;
  }

  private compact(): void {
    this.lengths.splice(0, this.first);
    this.first = 0;
    this.texts.splice(0, this.firstText);
    this.firstText = 0;
  }
}
