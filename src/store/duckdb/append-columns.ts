/**
 * Column-wise appends through DuckDB data chunks. The row Appender costs one native call per
 * cell plus one per row; a data chunk costs one per column per 2,048 rows for numbers (their
 * vector is a typed array copied in one go) and one per cell only for text and blobs.
 */
import { DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';

/** Rows to append, read column by column. */
export interface ColumnSource {
  /** How many rows it holds. */
  readonly length: number;
  /**
   * Write rows `from … from + count - 1` of table column `column` (the table's physical order)
   * into `vector` positions `0 … count - 1` with `vector.setItem` (null for NULL). The caller
   * flushes the vector.
   */
  fill(column: number, vector: DuckDBVector, from: number, count: number): void;
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
    let chunks = 0;
    for (const source of sources) {
      for (let from = 0; from < source.length; from += size) {
        const count = Math.min(size, source.length - from);
        chunk.reset(); // drops the previous chunk's strings and null masks
        for (let column = 0; column < vectors.length; column++) {
          source.fill(column, vectors[column]!, from, count);
          vectors[column]!.flush();
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
