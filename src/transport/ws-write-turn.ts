/**
 * The write turn shared by every `ws` link of the process (see ws-link-impl.ts): writes are
 * coalesced per event-loop turn. Each frame is written into its link's write buffer as it is
 * sent (no payload object waits for the end of the turn), and one microtask per turn flushes
 * every link that has frames, each in a single socket write. A fan-out burst costs one write per
 * peer instead of two queued chunks per frame. This module holds the buffer pool, the turn's
 * list of links and its flush; the links hold their own buffers.
 */

/** A link in the turn: flushed once when the turn ends. */
export interface TurnLink {
  /** In the list of links the turn's microtask flushes. */
  queued: boolean;
  /** Write this turn's frames in one socket write. */
  flush(): void;
}

/**
 * Write buffers shared by every link of the process: a link takes one at its first frame of a
 * turn and returns it when the write completes, so a turn whose frames fit costs no allocation
 * (and no native-heap churn). A turn that outgrows it moves to a buffer of its own; a socket
 * with writes pending gets an exact-size copy. At most 64 × 64 KiB are kept.
 */
export const WRITE_BUFFER = 64 * 1024;
const writeBuffers: Buffer[] = [];
const MAX_WRITE_BUFFERS = 64;

/** Give a write buffer back to the pool (kept only if it is a pooled size and the pool has room). */
export function release(buffer: Buffer): void {
  if (buffer.length === WRITE_BUFFER && writeBuffers.length < MAX_WRITE_BUFFERS) writeBuffers.push(buffer);
}

/** A pooled write buffer of {@link WRITE_BUFFER} bytes (a new one when the pool is empty). */
export function takeBuffer(): Buffer {
  return writeBuffers.pop() ?? Buffer.allocUnsafe(WRITE_BUFFER);
}

/**
 * The links with frames written this turn (`pendingCount` of `pending`), flushed by one
 * microtask for all of them. Two arrays swapped at each flush: a link sending while the others
 * flush starts the next turn's list. Flushed entries are cleared one by one, never by
 * `length = 0`, which drops the array's backing store and makes the next turn allocate one
 * (~150 bytes per turn, and a sequential call's every frame is a turn).
 */
let pending: (TurnLink | undefined)[] = [];
let pendingCount = 0;
let flushing: (TurnLink | undefined)[] = [];
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
export const readChunk = {
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

/** Put `link` in this turn's list (it has taken a buffer) and make sure the turn's flush is queued. */
export function queueFlush(link: TurnLink): void {
  link.queued = true;
  pending[pendingCount++] = link;
  if (!scheduled && reading === 0) {
    scheduled = true;
    void settled.then(flushAll);
  }
}
