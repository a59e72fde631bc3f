/**
 * The LMDB store's `log` database: one packed record per commit (log-record.ts), keyed by the
 * recv of its first message. Reading a window of rows and pruning old ones; both run inside the
 * store's queue (txn-queue.ts), a prune inside its transaction.
 */
import type { Database } from 'lmdb';
import type { LogQuery, StoredMessage } from '../types.js';
import { decodeRecord, encodeRecord, recvKey, type LogRecord } from './log-record.js';
import type { PendingLog } from './pending-log.js';

export type LogDatabase = Database<Uint8Array, Buffer>;

/** The rows of `query`'s window, oldest first: the committed ones, then those `pending` holds for a commit. */
export function readLogRows(log: LogDatabase, pending: PendingLog, { after, upTo, limit }: LogQuery): StoredMessage[] {
  const out: StoredMessage[] = [];
  if (limit <= 0 || upTo <= after) return out;
  const take = (rows: readonly StoredMessage[]): boolean => {
    for (const m of rows) {
      if (m.recv <= after) continue;
      if (m.recv > upTo || out.length >= limit) return false;
      out.push(m);
    }
    return true;
  };
  for (const record of records(log, after < 0n ? 0n : after + 1n)) {
    if (record.first > upTo || !take(record.rows)) return out;
  }
  // Then the rows held for a commit, newer than every committed one.
  if (pending.size > 0) take(pending.rows());
  return out;
}

/** Remove the rows older than `before` (in the caller's transaction); returns how many. */
export function pruneLogRows(log: LogDatabase, before: bigint): number {
  let removed = 0;
  // Read first, then change: no removal under a live cursor.
  const drop: Buffer[] = [];
  let kept: StoredMessage[] = [];
  for (const { key, value } of log.getRange({})) {
    const record = decodeRecord(value);
    if (record.first >= before) break;
    drop.push(key);
    kept = record.rows.filter((m) => m.recv >= before);
    removed += record.rows.length - kept.length;
    if (kept.length > 0) break;
  }
  for (const key of drop) void log.remove(key);
  if (kept.length > 0) void log.put(recvKey(kept[0]!.recv), encodeRecord(kept));
  return removed;
}

/** Log records from the one holding `from` on, oldest first. */
function* records(log: LogDatabase, from: bigint): Generator<LogRecord> {
  let start: Buffer | undefined;
  for (const key of log.getKeys({ start: recvKey(from), reverse: true, limit: 1 })) start = key;
  for (const { value } of log.getRange(start === undefined ? {} : { start })) yield decodeRecord(value);
}
