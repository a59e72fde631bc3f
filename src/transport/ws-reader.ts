/**
 * A WebSocket frame reader (RFC 6455 §5) for the common case only: whole binary messages in one
 * frame. Everything else — control frames, text frames, fragments, and any frame it does not
 * accept — is forwarded, byte for byte and at frame boundaries, to a fallback reader (`ws`'s
 * `Receiver`, see `ws-ingress.ts`), which keeps every rule and close code of today. Pure: no I/O.
 *
 * Why: `ws`'s `Receiver` is a `Writable` stream that cuts a `Buffer` view per header, mask and
 * payload and emits twice per frame, ~15 % of the broker's CPU per message in W1 (issue 20).
 * Here a message whole inside a socket chunk is delivered as a view into that chunk (unmasked
 * in place, or not at all for the all-zero key); one that spans chunks is copied once.
 */

/** Where the reader's output goes. */
export interface WsReaderSink {
  /** A whole binary message. A view into the socket's chunk, or a copy when it spanned chunks. */
  message(bytes: Buffer): void;
  /** Bytes for the fallback reader, in stream order. False: the fallback is dead, stop reading. */
  forward(bytes: Buffer): boolean;
}

/** Largest 64-bit length high word whose length stays a safe integer (2^53 − 1). */
const MAX_HIGH_WORD = 0x1f_ffff;

/** XOR `b` in place with the 4-byte key at `key[k…k+3]` (RFC 6455 §5.3). */
function unmask(b: Buffer, key: Uint8Array, k: number): void {
  const k0 = key[k]!, k1 = key[k + 1]!, k2 = key[k + 2]!, k3 = key[k + 3]!;
  const n = b.length;
  const whole = n & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    b[i] = b[i]! ^ k0;
    b[i + 1] = b[i + 1]! ^ k1;
    b[i + 2] = b[i + 2]! ^ k2;
    b[i + 3] = b[i + 3]! ^ k3;
  }
  if (i < n) b[i] = b[i]! ^ k0;
  if (i + 1 < n) b[i + 1] = b[i + 1]! ^ k1;
  if (i + 2 < n) b[i + 2] = b[i + 2]! ^ k2;
}

/** Header bytes of a frame given its second byte: 2, + 2 or 8 of length, + 4 of mask key. */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Reads the frames of one connection from its socket chunks. `server`: frames come from a
 * client and must be masked (else from a server, unmasked). `maxPayload` (0: none): a longer
 * message goes to the fallback, which closes with 1009.
 */
export class WsFrameReader {
  /** A header split across chunks (at most 14 bytes). */
  private readonly head = Buffer.allocUnsafe(14);
  private headLen = 0;
  /** Payload bytes still to come of the frame under way. */
  private remaining = 0;
  /** The frame under way is one of ours (else it is being forwarded). */
  private own = false;
  /** Our frame under way: its pieces so far, its length and mask key. */
  private pieces: Buffer[] = [];
  private size = 0;
  private readonly key = Buffer.alloc(4);
  private keyed = false;
  /** The fallback is inside a fragmented message: a new binary frame is its to refuse. */
  private fragmented = false;
  /** Everything goes to the fallback from now on (a close frame, a frame we do not judge). */
  private handoff = false;

  constructor(private readonly server: boolean, private readonly maxPayload: number,
    private readonly sink: WsReaderSink) {}

  /** True once every byte goes to the fallback. */
  get handedOff(): boolean {
    return this.handoff;
  }

  /** Read one socket chunk (the reader may unmask it in place and keep views into it). */
  push(chunk: Buffer): void {
    if (this.handoff) {
      this.sink.forward(chunk);
      return;
    }
    const n = chunk.length;
    let p = 0;
    if (this.remaining > 0) {
      p = this.remaining < n ? this.remaining : n;
      this.remaining -= p;
      if (this.own) {
        this.pieces.push(p === n ? chunk : chunk.subarray(0, p));
        if (this.remaining === 0) this.finish();
      } else if (!this.sink.forward(p === n ? chunk : chunk.subarray(0, p))) {
        this.handoff = true;
        return;
      }
      if (this.remaining > 0) return;
    }
    if (this.headLen > 0) {
      p = this.fillHead(chunk, p);
      if (p < 0) return;
    }
    while (p < n) {
      if (n - p < 2) {
        this.stash(chunk, p);
        return;
      }
      const hlen = headerLength(chunk[p + 1]!);
      if (n - p < hlen) {
        this.stash(chunk, p);
        return;
      }
      p = this.frame(chunk, p, hlen, chunk, p + hlen);
    }
  }

  /** Complete a split header from `chunk[p…]`; -1 when the chunk ran out (or reading stopped). */
  private fillHead(chunk: Buffer, p: number): number {
    const h = this.head;
    const n = chunk.length;
    while (this.headLen < 2 && p < n) h[this.headLen++] = chunk[p++]!;
    if (this.headLen < 2) return -1;
    const hlen = headerLength(h[1]!);
    while (this.headLen < hlen && p < n) h[this.headLen++] = chunk[p++]!;
    if (this.headLen < hlen) return -1;
    this.headLen = 0;
    const next = this.frame(h, 0, hlen, chunk, p);
    return next >= n ? -1 : next;
  }

  private stash(chunk: Buffer, p: number): void {
    chunk.copy(this.head, 0, p);
    this.headLen = chunk.length - p;
  }

  /**
   * One frame whose header is `h[at…at+hlen]` and whose payload starts at `chunk[p]`. Returns
   * where the next frame starts in `chunk` (its length when the payload runs past it).
   */
  private frame(h: Buffer, at: number, hlen: number, chunk: Buffer, p: number): number {
    const b0 = h[at]!;
    const b1 = h[at + 1]!;
    let len = b1 & 0x7f;
    if (len === 126) len = h.readUInt16BE(at + 2);
    else if (len === 127) {
      const high = h.readUInt32BE(at + 2);
      if (high > MAX_HIGH_WORD) return this.handOff(h, at, hlen, chunk, p);
      len = high * 2 ** 32 + h.readUInt32BE(at + 6);
    }
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const fin = (b0 & 0x80) !== 0;
    const tooLong = len > this.maxPayload && this.maxPayload > 0;
    if (opcode === 2 && fin && (b0 & 0x70) === 0 && masked === this.server && !this.fragmented && !tooLong) {
      const avail = chunk.length - p;
      if (len <= avail) {
        const view = chunk.subarray(p, p + len);
        if (masked && h.readInt32LE(at + hlen - 4) !== 0) unmask(view, h, at + hlen - 4);
        this.sink.message(view);
        return p + len;
      }
      this.own = true;
      this.remaining = len - avail;
      this.size = len;
      this.pieces = avail > 0 ? [chunk.subarray(p)] : [];
      this.keyed = masked && h.readInt32LE(at + hlen - 4) !== 0;
      if (this.keyed) h.copy(this.key, 0, at + hlen - 4, at + hlen);
      return chunk.length;
    }
    // Not ours. Frames whose extent or meaning the fallback must judge from here on, and a close
    // (nothing is read after it), hand the rest of the stream over.
    const control = opcode >= 8;
    if ((b0 & 0x70) !== 0 || masked !== this.server || tooLong || opcode === 8 || (opcode > 2 && opcode < 8)
      || opcode > 10 || (control && (!fin || len > 125))) {
      return this.handOff(h, at, hlen, chunk, p);
    }
    if (opcode === 1 || opcode === 2) this.fragmented = !fin;
    else if (opcode === 0 && fin) this.fragmented = false;
    this.own = false;
    const end = Math.min(p + len, chunk.length);
    this.remaining = p + len - end;
    const alive = h === chunk
      ? this.sink.forward(chunk.subarray(at, end))
      : this.sink.forward(Buffer.from(h.subarray(at, at + hlen))) && (end === p || this.sink.forward(chunk.subarray(p, end)));
    if (!alive) {
      this.handoff = true;
      return chunk.length;
    }
    return end;
  }

  private handOff(h: Buffer, at: number, hlen: number, chunk: Buffer, p: number): number {
    this.handoff = true;
    if (h === chunk) this.sink.forward(chunk.subarray(at));
    else if (this.sink.forward(Buffer.from(h.subarray(at, at + hlen))) && p < chunk.length) {
      this.sink.forward(chunk.subarray(p));
    }
    return chunk.length;
  }

  /** Our frame's last piece arrived: delivered as a view if it is one piece, else one copy. */
  private finish(): void {
    const whole = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    if (this.keyed) unmask(whole, this.key, 0);
    this.sink.message(whole);
  }
}
