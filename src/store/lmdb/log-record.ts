/**
 * One record of the packed log: the messages of one commit, keyed by the first recv (8 bytes,
 * big-endian, so keys sort by time). Hand-packed (`bench/log-engines.ts`: the CBOR encoding of
 * the same rows cost more than the LMDB commit itself on the broker's main thread):
 *
 *   u8 version (2) · u32 count · u64 last recv · count × message
 *   message: u64 recv · u8 qos · u8 has (1 uid, 2 slot, 4 expires, 8 retain, 16 origin, 32 own) · u64 uid ·
 *            u32 slot · u32 topic bytes · u32 data bytes · topic (UTF-8) · data ·
 *            [u64 expires if has & 4] · [u32 origin bytes · origin (UTF-8) if has & 16]
 *
 * Version 2 puts both lengths before the topic, so that topic and data are one run of bytes:
 * a row read in place (`FrameRow`) whose frame holds its topic as stored is one copy of its
 * frame's tail, as in the in-memory log (issue 14, W9). Version 1 (written before) has the data
 * length between topic and data (`u32 topic bytes · topic · u32 data bytes · data`); it is
 * still read, so a log written by an older broker replays.
 *
 * (Bits 4–16 are TS publish options: records without them read as before. Bit 32: the broker's own
 * publish, logged while tenants were isolated — `origin` null, no bytes.)
 *
 * All integers little-endian.
 */
import { FrameRow } from '../frame-row.js';
import type { StoredMessage } from '../types.js';

export interface LogRecord {
  readonly first: bigint;
  readonly last: bigint;
  readonly rows: StoredMessage[];
}

const VERSION = 2;
const HEAD = 13;
/** Fixed bytes of one message besides its topic and data. */
const FIXED = 8 + 1 + 1 + 8 + 4 + 4 + 4;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

export function recvKey(recv: bigint): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(recv < 0n ? 0n : recv > MAX_U64 ? MAX_U64 : recv);
  return key;
}

/** UTF-8 bytes a string of `n` UTF-16 units takes at most (a lone surrogate becomes 3 bytes). */
const maxUtf8 = (n: number): number => 3 * n;

/**
 * The record of `rows[from, to)` (all of `rows` by default: no slice of the batch needed).
 * A {@link FrameRow} whose frame holds its topic as stored is copied from its frame in one move
 * (topic and args are one run of bytes there and here), without the view of its args that
 * `data` makes; any other row is its topic encoded, then its `data`.
 */
export function encodeRecord(rows: readonly StoredMessage[], from = 0, to = rows.length): Uint8Array {
  // Room for the longest UTF-8 each text may take, written in place and the record cut to what
  // was written: no per-topic Buffer, no length pass, no byte loops (a byte loop into a Buffer
  // cost more than `set` even for 50-byte payloads; with a Map of encoded topics 0.8–0.95 µs per
  // message on the broker's main thread, 0.46–0.65 µs this way, `/tmp` micro, min of 10 runs).
  let size = HEAD;
  for (let i = from; i < to; i++) size += rowRoom(rows[i]!);
  const out = Buffer.allocUnsafe(size);
  // A DataView writes 64-bit integers without the intermediate bigints of Buffer#writeBigUInt64LE
  // (two of them per message on the broker's main thread: 0.55–0.78 → 0.34–0.57 µs per message).
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const source = new FrameSource();
  let at = HEAD;
  for (let i = from; i < to; i++) at = writeRow(out, view, at, rows[i]!, source);
  writeHead(view, to - from, rows[to - 1]!.recv);
  return out.subarray(0, at);
}

/** Writes a record's head: its version, `count` messages, the last one received at `last`. */
export function writeHead(view: DataView, count: number, last: bigint): void {
  view.setUint8(0, VERSION);
  view.setUint32(1, count, true);
  view.setBigUint64(5, last, true);
}

/** Bytes of a record's head. */
export const RECORD_HEAD = HEAD;

/** Bytes `m` takes in a record at most (texts counted at their longest UTF-8). */
export function rowRoom(m: StoredMessage): number {
  let size: number;
  if (m instanceof FrameRow) size = FIXED + 3 * (m.argsAt - m.textAt) + m.frame.length - m.argsAt;
  else size = FIXED + maxUtf8(m.topic.length) + m.data.byteLength;
  if (m.expires != null) size += 8;
  if (m.origin != null) size += 4 + maxUtf8(m.origin.length);
  return size;
}

/**
 * The socket chunk the last row read in place came from, and one `DataView` of it: frames of
 * one chunk share its ArrayBuffer, so their bytes are read through one view.
 */
export class FrameSource {
  chunk: ArrayBufferLike | undefined;
  view: DataView | undefined;
}

/**
 * Writes message `m` at `at` of a record (`out`, `view` over the same bytes, with
 * {@link rowRoom} bytes free there); returns where the next message goes. A {@link FrameRow}
 * whose frame holds its topic as stored is copied from its frame in one move (topic and args
 * are one run of bytes there and here), without the view of its args that `data` makes; any
 * other row is its topic encoded, then its `data`.
 */
export function writeRow(out: Buffer, view: DataView, at: number, m: StoredMessage, source: FrameSource): number {
  view.setBigUint64(at, m.recv, true);
  out[at + 8] = m.qos;
  out[at + 9] = (m.uid === null ? 0 : 1) | (m.slot === null ? 0 : 2) | (m.expires == null ? 0 : 4)
    | (m.retain === true ? 8 : 0) | (m.origin === undefined ? 0 : m.origin === null ? 32 : 16);
  if (m.uid === null) { view.setUint32(at + 10, 0, true); view.setUint32(at + 14, 0, true); } else view.setBigUint64(at + 10, m.uid, true);
  view.setUint32(at + 18, m.slot ?? 0, true);
  let topicLength: number;
  let dataLength: number;
  const f = m instanceof FrameRow && m.topicInFrame ? m : undefined;
  if (f !== undefined) {
    const { frame, textAt, argsAt } = f;
    topicLength = argsAt - textAt;
    dataLength = frame.length - argsAt;
    const n = topicLength + dataLength;
    if (n > WORD_COPY_MAX) out.set(new Uint8Array(frame.buffer, frame.byteOffset + textAt, n), at + FIXED);
    else {
      if (frame.buffer !== source.chunk) source.view = new DataView(source.chunk = frame.buffer);
      copyWords(source.view!, frame.byteOffset + textAt, view, at + FIXED, n);
    }
  } else {
    topicLength = writeText(out, m.topic, at + FIXED);
    const { data } = m;
    dataLength = data.byteLength;
    out.set(data, at + FIXED + topicLength);
  }
  view.setUint32(at + 22, topicLength, true);
  view.setUint32(at + 26, dataLength, true);
  at += FIXED + topicLength + dataLength;
  if (m.expires != null) {
    view.setBigUint64(at, m.expires, true);
    at += 8;
  }
  if (m.origin != null) {
    const n = out.write(m.origin, at + 4, 'utf8');
    view.setUint32(at, n, true);
    at += 4 + n;
  }
  return at;
}

/**
 * Bytes of a row read in place copied word by word rather than by `set` of a view: a view per
 * row cost ~1,100 instructions per 64-byte copy (its allocation and `set`'s checks;
 * `valgrind --tool=callgrind`), more than the words. Larger runs go by `set`.
 */
const WORD_COPY_MAX = 256;

function copyWords(from: DataView, fromAt: number, to: DataView, toAt: number, n: number): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) to.setUint32(toAt + k, from.getUint32(fromAt + k));
  for (; k < n; k++) to.setUint8(toAt + k, from.getUint8(fromAt + k));
}

/**
 * `text` as UTF-8 at `at`; returns the bytes written. A short ASCII text (a topic) is copied
 * by its char codes: `Buffer#write` is a native call that cost more than the rest of the
 * message's packing (W8 profile: 0.4 µs of 1.3 per row).
 */
function writeText(out: Buffer, text: string, at: number): number {
  const n = text.length;
  if (n > 64) return out.write(text, at, 'utf8');
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return out.write(text, at, 'utf8');
    out[at + i] = c;
  }
  return n;
}

export function decodeRecord(bytes: Uint8Array): LogRecord {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = buf[0];
  if (version !== VERSION && version !== 1) throw new Error(`unknown log record version ${String(version)}`);
  const count = buf.readUInt32LE(1);
  const last = buf.readBigUInt64LE(5);
  const rows = new Array<StoredMessage>(count);
  let at = HEAD;
  for (let i = 0; i < count; i++) {
    const recv = buf.readBigUInt64LE(at);
    const qos = buf[at + 8]!;
    const has = buf[at + 9]!;
    const uid = has & 1 ? buf.readBigUInt64LE(at + 10) : null;
    const slot = has & 2 ? buf.readUInt32LE(at + 18) : null;
    const topicLength = buf.readUInt32LE(at + 22);
    let dataLength: number;
    if (version === VERSION) {
      dataLength = buf.readUInt32LE(at + 26);
      at += FIXED;
    } else {
      dataLength = buf.readUInt32LE(at + 26 + topicLength);
      at += 26;
    }
    const topic = buf.toString('utf8', at, at + topicLength);
    at += topicLength;
    if (version !== VERSION) at += 4;
    // A copy: the record's bytes belong to LMDB's read buffer.
    const data = new Uint8Array(buf.subarray(at, at + dataLength));
    at += dataLength;
    let row: StoredMessage = { recv, slot, qos, uid, topic, data };
    if ((has & 0x3c) !== 0) {
      let expires: bigint | null = null;
      if (has & 4) { expires = buf.readBigUInt64LE(at); at += 8; }
      let origin: string | null | undefined = has & 32 ? null : undefined;
      if (has & 16) {
        const n = buf.readUInt32LE(at);
        origin = buf.toString('utf8', at + 4, at + 4 + n);
        at += 4 + n;
      }
      row = { ...row, expires, ...(has & 8 ? { retain: true } : {}), ...(origin === undefined ? {} : { origin }) };
    }
    rows[i] = row;
  }
  return { first: rows[0]?.recv ?? 0n, last, rows };
}
