/**
 * The LMDB log's rows taken at append (`Store.appendNow`, issue 14, W9): each row is packed
 * into the record its commit will write as it is logged, while its frame is still in cache,
 * so no row object and no view of a socket chunk waits for the commit, and a commit writes
 * records already packed. Records are the log's own (version 2, at most
 * {@link PENDING_RECORD_ROWS} rows); a commit takes the ones sealed when it is called — the
 * rows logged before the twins' changes it carries, never a row whose QoS2 id is not in it yet
 * — and they leave only once it succeeded: a failed commit's records stay, readable, for the
 * next one. Pure: no I/O.
 */
import { StoreWriteError } from '../errors.js';
import type { StoredMessage } from '../types.js';
import { clearsRetained } from '../retained-rows.js';
import { decodeRecord, encodeRecord, FrameSource, RECORD_HEAD, recvKey, rowRoom, writeHead, writeRow } from './log-record.js';

/** Rows per record at most (the store's `RECORD_ROWS`). */
export const PENDING_RECORD_ROWS = 4096;
/** Bytes of a record buffer (more for one larger row). W9's 4,096 rows take ~0.5 MiB. */
const RECORD_BYTES = 1024 * 1024;
/** Rows held at most before `add` refuses (the broker then buffers them itself, with its bounds). */
export const PENDING_ROWS_MAX = 16 * PENDING_RECORD_ROWS;

/** One packed record waiting for its commit. */
export interface PendingRecord {
  readonly key: Buffer;
  readonly bytes: Uint8Array;
  readonly rows: number;
  /** Written by a commit that succeeded (a later commit that also took it skips it). */
  done: boolean;
}

/** A retained row's change waiting for its commit: the topic's new value, or undefined to clear it. */
export interface PendingRetained {
  readonly topic: string;
  readonly value: Uint8Array | undefined;
  done: boolean;
}

/** What one commit takes: every record sealed and every retained change made before it. */
export interface PendingTake {
  readonly records: readonly PendingRecord[];
  readonly retained: readonly PendingRetained[];
}

export class PendingLog {
  private sealed: PendingRecord[] = [];
  /** Retained values changed by rows held, oldest first. */
  retainedChanges: PendingRetained[] = [];
  /** The record being filled: `out[0, at)`, `count` rows from `first` to `last`. */
  private out: Buffer | undefined;
  private view: DataView | undefined;
  private at = 0;
  private count = 0;
  private first = 0n;
  private last = 0n;
  /** A committed record's buffer, reused for the next record (no native allocation per record). */
  private spare: Buffer | undefined;
  private readonly source = new FrameSource();
  /** Rows held (sealed and open). */
  size = 0;

  /** The largest recv held, or 0n. */
  get lastRecv(): bigint {
    return this.size === 0 ? 0n : this.last;
  }

  /**
   * Pack `row` into the open record; returns the rows held. Throws {@link StoreWriteError}
   * when {@link PENDING_ROWS_MAX} rows wait already (commits failing or slower than the
   * publishers): the broker then holds the row itself.
   */
  add(row: StoredMessage): number {
    if (this.size >= PENDING_ROWS_MAX) throw new StoreWriteError(`lmdb log: ${PENDING_ROWS_MAX} rows wait for a commit`);
    const room = rowRoom(row);
    if (this.out === undefined || this.count >= PENDING_RECORD_ROWS || this.at + room > this.out.length) {
      this.seal();
      this.open(room);
    }
    if (this.count === 0) this.first = row.recv;
    this.at = writeRow(this.out!, this.view!, this.at, row, this.source);
    this.count++;
    this.last = row.recv;
    if (row.retain === true) {
      this.retainedChanges.push({ topic: row.topic, value: clearsRetained(row) ? undefined : encodeRecord([row]), done: false });
    }
    return ++this.size;
  }

  /** Seal the open record and take everything held for a commit (called when the commit is). */
  take(): PendingTake {
    this.seal();
    return { records: this.sealed.slice(), retained: this.retainedChanges.slice() };
  }

  /** The commit of `taken` succeeded: its records and changes leave, their buffers are reused. */
  committed(taken: PendingTake): void {
    for (const r of taken.records) r.done = true;
    for (const r of taken.retained) r.done = true;
    while (this.sealed[0]?.done === true) {
      const r = this.sealed.shift()!;
      this.size -= r.rows;
      if (r.bytes.buffer.byteLength === RECORD_BYTES && this.spare === undefined) {
        this.spare = Buffer.from(r.bytes.buffer, 0, RECORD_BYTES);
      }
    }
    while (this.retainedChanges[0]?.done === true) this.retainedChanges.shift();
  }

  /** Every row held, oldest first (copies: a reader keeps nothing of the record buffers). */
  rows(): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const r of this.sealed) if (!r.done) for (const m of decodeRecord(r.bytes).rows) out.push(m);
    if (this.count > 0) {
      writeHead(this.view!, this.count, this.last);
      for (const m of decodeRecord(this.out!.subarray(0, this.at)).rows) out.push(m);
    }
    return out;
  }

  private seal(): void {
    if (this.count === 0) return;
    writeHead(this.view!, this.count, this.last);
    this.sealed.push({ key: recvKey(this.first), bytes: this.out!.subarray(0, this.at), rows: this.count, done: false });
    this.out = undefined;
    this.view = undefined;
    this.count = 0;
  }

  private open(room: number): void {
    const need = RECORD_HEAD + room;
    let out: Buffer;
    if (need <= RECORD_BYTES && this.spare !== undefined) {
      out = this.spare;
      this.spare = undefined;
    } else out = Buffer.allocUnsafe(Math.max(RECORD_BYTES, need));
    this.out = out;
    this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    this.at = RECORD_HEAD;
  }
}
