/**
 * The LMDB log's size bound (`Store.logBytes` / `trimMessages`, README "Durability"): what the
 * log takes is its database's pages (LMDB `mdb_stat`: branch, leaf and overflow pages), and a
 * trim removes whole records (one per commit), oldest first, until the pages they free bring
 * it under the bound. Freed pages go to LMDB's free list and are reused by the next commits:
 * the file stops growing (it never shrinks). Pure: no I/O.
 */

/** The page counts of `Database.getStats()` this reads. */
export interface PageStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

/** Bytes a database's pages take. */
export function pagesBytes(s: PageStats): number {
  return s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages);
}

/** Which records a trim removes. */
export interface TrimPlan {
  readonly keys: readonly Buffer[];
  /** Messages in them. */
  readonly messages: number;
  /** recv of the oldest message kept (the first kept record's key), 0n when none. */
  readonly oldest: bigint;
}

/**
 * The oldest records to remove so that a log of `bytes` takes at most `target`, never the
 * newest one. A value larger than about half a page lives on overflow pages of its own (all
 * freed with it); a smaller one shares a leaf page (its bytes, key and node header freed).
 */
export function planTrim(records: Iterable<{ key: Buffer; value: Uint8Array }>, bytes: number, target: number,
  pageSize: number): TrimPlan {
  const keys: Buffer[] = [];
  let messages = 0;
  let freed = 0;
  let pending: { key: Buffer; value: Uint8Array } | undefined;
  for (const record of records) {
    // `pending` is dropped only once a newer record is seen: the newest always stays.
    if (pending !== undefined) {
      keys.push(pending.key);
      messages += countOf(pending.value);
      freed += freedBy(pending.value.length, pageSize);
    }
    if (bytes - freed <= target) return { keys, messages, oldest: record.key.readBigUInt64BE(0) };
    pending = record;
  }
  return { keys, messages, oldest: pending?.key.readBigUInt64BE(0) ?? 0n };
}

/** Messages in a record: its u32 count after the version byte (log-record.ts). */
function countOf(value: Uint8Array): number {
  return value.length < 5 ? 0 : new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(1, true);
}

function freedBy(length: number, pageSize: number): number {
  // LMDB moves a node of more than ~pageSize/2 to overflow pages (MDB_NODEMAX); 16 bytes of
  // page header precede it there. On a leaf a node costs its key (8), an 8-byte header and a
  // 2-byte slot besides its data.
  return length > pageSize / 2 - 64 ? Math.ceil((length + 16) / pageSize) * pageSize : length + 18;
}
