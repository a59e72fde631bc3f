/** WebSocket frames (RFC 6455 §5.2) as a peer writes them, good or bad, for the reader's tests. */

export interface FrameSpec {
  /** First header byte: FIN, RSV1–3, opcode. */
  b0: number;
  masked: boolean;
  /** Masking key as a 32-bit big-endian number; 0 is the all-zero key. */
  key: number;
  payload: Buffer;
  /** Force a wider length encoding than needed (legal). */
  lengthField?: 'short' | 'long';
}

/** One frame on the wire. */
export function frame({ b0, masked, key, payload, lengthField }: FrameSpec): Buffer {
  const n = payload.length;
  const ext = lengthField === 'long' || n > 65_535 ? 8 : lengthField === 'short' || n > 125 ? 2 : 0;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = b0;
  head[1] = (masked ? 0x80 : 0) | (ext === 8 ? 127 : ext === 2 ? 126 : n);
  if (ext === 2) head.writeUInt16BE(n, 2);
  if (ext === 8) head.writeUInt32BE(n, 6);
  const body = Buffer.from(payload);
  if (masked) {
    head.writeUInt32BE(key, 2 + ext);
    for (let i = 0; i < n; i++) body[i]! ^= head[2 + ext + (i & 3)]!;
  }
  return Buffer.concat([head, body]);
}

/** `n` bytes of a pattern that depends on `seed`. */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}
