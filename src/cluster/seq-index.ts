/**
 * Stream sequence ↔ local receive time (pure). A broker of a cluster logs every message of the
 * stream `REMBUS_<c>` it routes under its own `recv` (ns, strictly increasing); a twin's mark is
 * such a `recv`, meaningful on that broker only. Shared through KV, a mark is the stream
 * sequence instead (twin-kv.ts): this index translates between the two for the messages this
 * broker routed since it joined, both columns increasing together.
 *
 * The first entry is the join point: (last sequence of the stream when this broker joined, its
 * log head then): every message after it was routed here, none before.
 */

/** Entries kept; past it the oldest half goes (a mark older than that is unknown here). */
export const SEQ_INDEX_CAPACITY = 1_000_000;

export class SeqIndex {
  private seqs: number[] = [];
  private recvs: bigint[] = [];

  constructor(private readonly capacity = SEQ_INDEX_CAPACITY) {}

  /** The join point, or the routing of the message `seq` logged at `recv`. Both must increase. */
  add(seq: number, recv: bigint): void {
    const last = this.seqs.length - 1;
    if (last >= 0 && (seq <= this.seqs[last]! || recv < this.recvs[last]!)) return;
    this.seqs.push(seq);
    this.recvs.push(recv);
    if (this.seqs.length > this.capacity) {
      const drop = Math.floor(this.capacity / 2);
      this.seqs = this.seqs.slice(drop);
      this.recvs = this.recvs.slice(drop);
    }
  }

  /** The oldest sequence known here (the join point), or undefined before the join. */
  get first(): number | undefined {
    return this.seqs[0];
  }

  /** The last sequence routed here. */
  get last(): number | undefined {
    return this.seqs.at(-1);
  }

  /**
   * The stream sequence a local mark stands for: the last message routed at or before `recv`.
   * Undefined when `recv` is older than what this index holds.
   */
  seqAt(recv: bigint): number | undefined {
    const i = lastAtOrBelow(this.recvs, recv);
    return i < 0 ? undefined : this.seqs[i];
  }

  /**
   * The local mark standing for stream sequence `seq`: the recv after which exactly the messages
   * of sequence > `seq` are logged here. Undefined when `seq` is older than the join point (this
   * broker did not route the messages right after it).
   */
  recvAt(seq: number): bigint | undefined {
    const i = lastAtOrBelow(this.seqs, seq);
    return i < 0 ? undefined : this.recvs[i];
  }
}

/** Index of the last element ≤ `x` in the increasing `xs`; -1 when none. */
function lastAtOrBelow<T extends number | bigint>(xs: readonly T[], x: T): number {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
