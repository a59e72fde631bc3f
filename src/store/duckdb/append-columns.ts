/**
 * Column-wise appends through DuckDB data chunks. The row Appender costs one native call per
 * cell plus one per row; a data chunk costs one per column per 2,048 rows for numbers (their
 * vector is a typed array copied in one go) and one per cell only for text and blobs. A source
 * that holds its cells in the vector's own layout writes them through {@link RawVector}: one
 * copy per column per chunk, text of up to 12 bytes included (see `RawVector.strings`).
 */
import { createRequire } from 'node:module';
import { DuckDBDataChunk, DuckDBTypeId, DuckDBVector } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import type * as Bindings from '@duckdb/node-bindings';

/**
 * The native binding `@duckdb/node-api` itself loaded (resolved from its own location, so the
 * chunk and vector handles below are of the same module instance).
 */
const bindings = createRequire(createRequire(import.meta.url).resolve('@duckdb/node-api'))('@duckdb/node-bindings') as typeof Bindings;

/** DuckDB's inline string limit: a VARCHAR of up to 12 UTF-8 bytes lives in its 16-byte slot. */
const INLINE = 12;
const utf8 = new TextEncoder();

/**
 * One column of the chunk being filled, written in the vector's memory layout: a copy per
 * column per chunk instead of a native call per cell. A `fill` that uses it returns true (the
 * caller then leaves the column's {@link DuckDBVector} wrapper alone).
 */
export class RawVector {
  /** 16 bytes per row: DuckDB's `string_t` slots of a VARCHAR chunk. */
  private slots = new Uint8Array(0);
  private slotsView = new DataView(this.slots.buffer);
  private readonly validity = new BigUint64Array(Math.ceil(DuckDBVector.standardSize() / 64));
  constructor(readonly type: DuckDBType, private readonly vector: Bindings.Vector) {}

  /** The vector's values are `count` items of `bytes` (same width and layout as the vector's type), from byte `byteOffset` of `buffer`. */
  copy(buffer: ArrayBufferLike, byteOffset: number, byteLength: number): void {
    bindings.copy_data_to_vector(this.vector, 0, buffer as ArrayBuffer, byteOffset, byteLength);
  }

  /**
   * Mark rows null: `isNull(i)` for i in 0 … count - 1. Call after the values; a chunk's
   * validity starts all valid after `reset`, so a column without nulls need not call it.
   */
  nulls(count: number, isNull: (i: number) => boolean): void {
    const words = this.validity;
    const used = Math.ceil(count / 64);
    words.fill(0xffff_ffff_ffff_ffffn, 0, used);
    let any = false;
    for (let i = 0; i < count; i++) {
      if (!isNull(i)) continue;
      any = true;
      words[i >> 6]! &= ~(1n << BigInt(i & 63));
    }
    if (!any) return;
    bindings.vector_ensure_validity_writable(this.vector);
    bindings.copy_data_to_vector_validity(this.vector, 0, words.buffer, 0, used * 8);
  }

  /**
   * Write `count` VARCHAR cells (`cell(i)`: text or null). Text of up to 12 UTF-8 bytes is
   * written inline into the vector's 16-byte slots (length, then the bytes zero-padded, as
   * DuckDB's `string_t` holds it) and copied in one go; longer text is assigned one native call
   * per cell, as the wrapper would.
   */
  strings(count: number, cell: (i: number) => string | null): void {
    if (this.slots.length < count * 16) {
      this.slots = new Uint8Array(DuckDBVector.standardSize() * 16);
      this.slotsView = new DataView(this.slots.buffer);
    }
    const { slots, slotsView } = this;
    slots.fill(0, 0, count * 16);
    let long: number[] | undefined;
    let nulls = false;
    for (let i = 0; i < count; i++) {
      const text = cell(i);
      if (text === null) { nulls = true; continue; }
      const at = i * 16;
      let n = text.length;
      if (n <= INLINE) {
        // ASCII, the common case: one byte per character.
        let k = 0;
        for (; k < n; k++) {
          const c = text.charCodeAt(k);
          if (c > 0x7f) break;
          slots[at + 4 + k] = c;
        }
        if (k < n) {
          slots.fill(0, at + 4, at + 16);
          const r = utf8.encodeInto(text, slots.subarray(at + 4, at + 16));
          n = r.read === text.length ? r.written : INLINE + 1;
          if (n > INLINE) slots.fill(0, at + 4, at + 16);
        }
      }
      if (n > INLINE) (long ??= []).push(i);
      else slotsView.setUint32(at, n, true);
    }
    this.copy(slots.buffer, 0, count * 16);
    if (long !== undefined) for (const i of long) bindings.vector_assign_string_element(this.vector, i, cell(i)!);
    if (nulls) this.nulls(count, (i) => cell(i) === null);
  }
}

/** Type ids whose vectors {@link RawVector} writes as plain 8-byte items. */
export const RAW_8_BYTES: ReadonlySet<DuckDBTypeId> = new Set([DuckDBTypeId.DOUBLE, DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT]);

/** Rows to append, read column by column. */
export interface ColumnSource {
  /** How many rows it holds. */
  readonly length: number;
  /**
   * Write rows `from … from + count - 1` of table column `column` (the table's physical order)
   * into `vector` positions `0 … count - 1` with `vector.setItem` (null for NULL). The caller
   * flushes the vector — unless `fill` wrote the column through `raw` instead and returns true.
   */
  fill(column: number, vector: DuckDBVector, from: number, count: number, raw: RawVector): boolean | void;
}

/**
 * Chunks appended between two turns of the event loop. The chunks of one call are written
 * synchronously; yielding every 16 (32,768 rows) bounds how long a large batch (the message log
 * flushes a second of publishes at once) holds up routing, without giving up its transaction.
 */
const CHUNKS_PER_TURN = 16;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Append the rows of `sources` to `table`, in order, one data chunk (at most DuckDB's vector size,
 * 2,048 rows) at a time. Call it inside `DuckDbHandle.transaction`, as {@link appendRows}: the
 * Appender joins the open transaction, so the rows land together or not at all.
 *
 * @example
 * ```ts
 * import { appendColumns } from './append-columns.js';
 * const xs = [1.5, 2.5];
 * await db.transaction((c) => appendColumns(c, 't', [{ length: xs.length,
 *   fill: (_col, vector, from, count) => { for (let i = 0; i < count; i++) vector.setItem(i, xs[from + i]!); } }]));
 * ```
 * @param connection The connection `write`/`transaction` hands to its callback.
 * @param table The table name (its columns in their physical order are the `column` indexes).
 * @param sources The rows, each source filling its own chunks.
 * @returns The number of rows appended.
 * @throws What a `fill` or DuckDB threw (e.g. a value out of a column's range); the
 * Appender's buffered rows are then cleared, so nothing of the call is flushed.
 */
export async function appendColumns(connection: DuckDBConnection, table: string,
  sources: readonly ColumnSource[]): Promise<number> {
  const appender = await connection.createAppender(table);
  let rows = 0;
  try {
    const types: DuckDBType[] = [];
    for (let i = 0; i < appender.columnCount; i++) types.push(appender.columnType(i));
    // The chunk takes the Appender's own column types: DuckDB does not cast chunk vectors.
    const chunk = DuckDBDataChunk.create(types);
    const size = DuckDBVector.standardSize();
    // One wrapper per column for every chunk of the call: making one copies the vector's data
    // out (≈15 µs for 2,048 doubles, and as much external memory for the GC). Reusing them is
    // sound because a fill sets every row of the chunk and flush() writes the wrapper's whole
    // state (values and validity) into the vector, whatever the chunk held before.
    chunk.rowCount = size;
    const vectors = types.map((_, i) => chunk.getColumnVector(i));
    const raws = types.map((t, i) => new RawVector(t, bindings.data_chunk_get_vector(chunk.chunk, i)));
    let chunks = 0;
    for (const source of sources) {
      for (let from = 0; from < source.length; from += size) {
        const count = Math.min(size, source.length - from);
        chunk.reset(); // drops the previous chunk's strings and null masks
        for (let column = 0; column < vectors.length; column++) {
          if (source.fill(column, vectors[column]!, from, count, raws[column]!) !== true) vectors[column]!.flush();
        }
        chunk.rowCount = count;
        appender.appendDataChunk(chunk);
        rows += count;
        if (++chunks % CHUNKS_PER_TURN === 0) await nextTurn();
      }
    }
    appender.flushSync();
  } catch (err) {
    appender.clear(); // rows buffered so far must not be flushed by closeSync
    throw err;
  } finally {
    appender.closeSync();
  }
  return rows;
}
