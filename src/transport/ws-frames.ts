/**
 * WebSocket data frames (RFC 6455 §5.2) written into one buffer: the frames a link sends in one
 * event-loop turn leave in a single socket write instead of two queued chunks per frame. Pure:
 * no I/O.
 */
import { randomFillSync } from 'node:crypto';

/** Opcodes of a final (FIN) text and binary frame. */
const FIN_TEXT = 0x81;
export const FIN_BINARY = 0x82;

/** The payload of a frame: strings are UTF-8 text frames, bytes binary frames. */
export function framePayload(frame: Uint8Array | string): Uint8Array {
  return typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
}

/** The first header byte of a final frame of `frame`'s kind. */
export function frameOpcode(frame: Uint8Array | string): number {
  return typeof frame === 'string' ? FIN_TEXT : FIN_BINARY;
}

/**
 * How a link masks what it sends: `false` (a server: never), `true` (a client: a random key per
 * frame, RFC 6455 §5.3) or `'zero'` (a client on a loopback link: an all-zero key, which leaves
 * the payload as it is; see `dialWebSocket`).
 */
export type Masking = boolean | 'zero';

/** Bytes of the frame header for a payload of `length` bytes (RFC 6455 §5.2). */
export function headerSize(length: number, masked: Masking): number {
  const base = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  return masked ? base + 4 : base;
}

/** Random masking keys, drawn 4 KiB at a time (a client must mask every frame, RFC 6455 §5.3). */
const MASK_POOL_SIZE = 4096;
let maskPool: Buffer | undefined;
let maskAt = MASK_POOL_SIZE;

function nextMask(out: Buffer, at: number): void {
  if (maskAt === MASK_POOL_SIZE) {
    maskPool ??= Buffer.allocUnsafe(MASK_POOL_SIZE);
    randomFillSync(maskPool);
    maskAt = 0;
  }
  out[at] = maskPool![maskAt]!;
  out[at + 1] = maskPool![maskAt + 1]!;
  out[at + 2] = maskPool![maskAt + 2]!;
  out[at + 3] = maskPool![maskAt + 3]!;
  maskAt += 4;
}

/**
 * Write one frame at `p` in `out` (which has at least `headerSize(payload.length, masked) +
 * payload.length` bytes from `p`): first header byte `opcode`, then the header and `payload`.
 * `masked`: a client frame with its own random key (`true`) or the all-zero key (`'zero'`: the
 * payload is copied as it is, no random bytes drawn, and the receiver skips unmasking too).
 * @returns The offset after the frame.
 */
export function writeFrame(out: Buffer, p: number, opcode: number, payload: Uint8Array, masked: Masking): number {
  const length = payload.length;
  p = writeHeader(out, p, opcode, length, masked);
  if (masked !== true) {
    out.set(payload, p);
    return p + length;
  }
  const key = p;
  nextMask(out, key);
  p += 4;
  out.set(payload, p);
  // XOR four bytes at a time: the key read as one big-endian word lines up with big-endian
  // words of the payload; the last 0–3 bytes take the key's bytes one by one.
  const word = out.readUInt32BE(key);
  const words = length & ~3;
  for (let i = 0; i < words; i += 4) out.writeUInt32BE((out.readUInt32BE(p + i) ^ word) >>> 0, p + i);
  for (let i = words; i < length; i++) out[p + i]! ^= out[key + (i & 3)]!;
  return p + length;
}

/**
 * Write the header of a frame of `length` bytes at `p`, as {@link writeFrame} does; the
 * all-zero key of `'zero'` included, a random key (`true`) left to the caller.
 * @returns The offset where the payload (or the random key) goes.
 */
export function writeHeader(out: Buffer, p: number, opcode: number, length: number, masked: Masking): number {
  const maskBit = masked ? 0x80 : 0;
  out[p++] = opcode;
  if (length < 126) out[p++] = maskBit | length;
  else if (length < 65_536) {
    out[p++] = maskBit | 126;
    out[p++] = length >>> 8;
    out[p++] = length & 0xff;
  } else {
    out[p++] = maskBit | 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), p);
    out.writeUInt32BE(length >>> 0, p + 4);
    p += 8;
  }
  if (masked === 'zero') {
    out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
    p += 4;
  }
  return p;
}

/**
 * Write frames one after the other into `size` bytes (the sum of `headerSize(payload.length,
 * masked) + payload.length`): `payloads[i]` with first header byte `opcodes[i]`, each as
 * {@link writeFrame} writes it. `into`: a buffer of at least `size` bytes to write into; by
 * default a new one.
 * @returns The `size` bytes written.
 */
export function writeFrames(opcodes: readonly number[], payloads: readonly Uint8Array[], size: number,
  masked: Masking, into?: Buffer): Buffer {
  const out = into === undefined ? Buffer.allocUnsafe(size) : into.subarray(0, size);
  let p = 0;
  for (let f = 0; f < payloads.length; f++) p = writeFrame(out, p, opcodes[f]!, payloads[f]!, masked);
  return out;
}
