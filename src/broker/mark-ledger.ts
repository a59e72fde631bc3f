/**
 * Where a named twin's delivery mark stood at each byte of its connection, so that a link cut as
 * a slow consumer (flow-control.ts) resumes from the first message it did not get.
 *
 * A QoS0 delivery advances the mark as it is handed to the link (spec §4.7: JL and PY advance it
 * once their socket write returns), but a link behind holds its frames parked or in the process's
 * write queue, and a cut drops them: without this, those messages would count as delivered and a
 * named twin would never be replayed them. The ledger keeps one checkpoint per mark change while
 * its bytes are not yet taken by the kernel — (stream offset after the frame, mark) in typed
 * arrays, no object per message — and forgets every checkpoint the kernel has taken. On a cut,
 * {@link markAt} gives the mark of the last frame the kernel took: what the peer can still read
 * (the kernel delivers it after the cut), nothing beyond, so the replay neither skips nor repeats.
 *
 * Bounded: at most {@link MAX_CHECKPOINTS}; past it the newest checkpoint moves forward instead
 * of a new one being added (its mark then holds from a later byte: a cut may replay a few
 * messages the peer already read — never skip one).
 */

/** Most checkpoints per link (4 MiB): 64 MiB unread (`maxBufferedBytes`) of frames ≥ 256 bytes. */
export const MAX_CHECKPOINTS = 1 << 18;
const INITIAL = 64;

export class MarkLedger {
  private offsets = new Float64Array(INITIAL);
  private marks = new BigUint64Array(INITIAL);
  private first = 0;
  private end = 0;

  /**
   * `floor`: the mark before the first checkpoint; `taken()`: the stream offset the kernel has
   * taken so far (a lower bound is safe).
   */
  constructor(private floor: bigint, private readonly taken: () => number) {}

  /** Checkpoints held. */
  get size(): number {
    return this.end - this.first;
  }

  /** The mark becomes `mark` once the first `offset` bytes of the stream are taken. */
  record(offset: number, mark: bigint): void {
    if (this.end > this.first && this.offsets[this.end - 1] === offset) {
      this.marks[this.end - 1] = mark; // the same frame (or no bytes): one checkpoint
      return;
    }
    if (this.end === this.offsets.length && !this.makeRoom()) {
      this.offsets[this.end - 1] = offset; // full: coarsen, never claim a mark too early
      return;
    }
    this.offsets[this.end] = offset;
    this.marks[this.end++] = mark;
  }

  /** The mark of the last checkpoint within the first `taken` bytes of the stream. */
  markAt(taken: number): bigint {
    let mark = this.floor;
    for (let i = this.first; i < this.end && this.offsets[i]! <= taken; i++) mark = this.marks[i]!;
    return mark;
  }

  /** Forget what the kernel took; then compact or grow. False when full at the cap. */
  private makeRoom(): boolean {
    const taken = this.taken();
    let first = this.first;
    while (first < this.end && this.offsets[first]! <= taken) first++;
    if (first > this.first) this.floor = this.marks[first - 1]!; // one BigInt read, not one per checkpoint
    this.first = first;
    const live = this.end - this.first;
    if (live * 2 > this.offsets.length) {
      if (this.offsets.length >= MAX_CHECKPOINTS) return this.compact();
      const offsets = new Float64Array(this.offsets.length * 2);
      const marks = new BigUint64Array(this.offsets.length * 2);
      offsets.set(this.offsets.subarray(this.first, this.end));
      marks.set(this.marks.subarray(this.first, this.end));
      this.offsets = offsets;
      this.marks = marks;
      this.first = 0;
      this.end = live;
      return true;
    }
    return this.compact();
  }

  private compact(): boolean {
    if (this.first === 0) return false;
    this.offsets.copyWithin(0, this.first, this.end);
    this.marks.copyWithin(0, this.first, this.end);
    this.end -= this.first;
    this.first = 0;
    return true;
  }
}
