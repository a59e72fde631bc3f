/**
 * A log row of a publish read in place (the broker's `LazyPub`): its topic text and args stay
 * where the frame holds them, `frame[textAt, argsAt)` and `frame[argsAt, end)`, until the row
 * is committed. The in-memory log copies both in one move (message-ring.ts) instead of encoding
 * the topic again and taking a view of the args per publish; any other store reads `data`, a
 * view made on first read. Pure: no I/O.
 *
 * The row pins its frame (and what the frame is a view of) until the commit, as a view of the
 * args did before; `data` is a getter, so an object spread of a row has none.
 */
import type { StoredMessage } from './types.js';

export class FrameRow implements StoredMessage {
  private args: Uint8Array | undefined;

  constructor(
    readonly recv: bigint,
    readonly slot: number | null,
    readonly qos: number,
    readonly uid: bigint | null,
    readonly topic: string,
    /** The whole frame the publish came in. */
    readonly frame: Uint8Array,
    /** Offset of the topic's text (after its CBOR head) in `frame`. */
    readonly textAt: number,
    /** Offset of the args item in `frame`; it runs to the end of the frame. */
    readonly argsAt: number,
  ) {}

  /** The args item as the publisher encoded it (a view of the frame). */
  get data(): Uint8Array {
    return this.args ??= this.frame.subarray(this.argsAt);
  }

  /**
   * Are `frame[textAt, argsAt)` the bytes `topic` is stored as? True when they are as many as
   * its UTF-16 units: every byte is then ASCII, or an invalid byte that any UTF-8 decoder reads
   * as one U+FFFD, so reading the bytes back gives `topic`. Any other topic is encoded from the
   * string, as for every other row.
   */
  get topicInFrame(): boolean {
    return this.argsAt - this.textAt === this.topic.length;
  }
}
