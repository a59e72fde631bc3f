/**
 * Rows of one schema table held column by column until DuckDB has them. Numbers live in a
 * `Float64Array`, 64-bit integers in a `BigInt64Array`/`BigUint64Array`, other values in a
 * plain array: a waiting row then costs no object of its own, which keeps the garbage collector
 * out of the ingest path (rows wait hundreds of ms, long enough to be promoted), and a column
 * is handed to a DuckDB vector in one loop.
 */
import {
  DuckDBBlobValue, DuckDBDateValue, DuckDBTimestampMillisecondsValue, DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue, DuckDBTimestampTZValue, DuckDBTimestampValue,
} from '@duckdb/node-api';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { RAW_8_BYTES, type RawVector } from '../store/duckdb/append-columns.js';
import type { EpochNs } from '../dataframe/columns.js';
import type { ColumnType } from './column-types.js';
import type { Row, TableDef } from './types.js';

/** Where mapped cells go (see `mapPublish`): a {@link ColumnBatch}, or an array of rows. */
export interface RowTarget {
  /** Rows committed so far. */
  readonly length: number;
  /** Set cell `column` (layout index) of the row being built: a coerced value or null. */
  set(column: number, value: unknown): void;
  /**
   * Optional: set cell `column` to a number that fits it as it is (a float or integer column
   * of up to 32 bits takes `value`, a 64-bit integer column a safe integer, kept as
   * `BigInt(value)` would be) without boxing it. Targets without it get `set`.
   */
  setNumber?(column: number, value: number): void;
  /** The row being built is complete: keep it. A row never committed is overwritten. */
  commit(): void;
  /** Start a publish: a position to return to with {@link RowTarget.rollback}. */
  mark(): number;
  /**
   * Forget the rows committed since the last `mark` (a DataFrame that does not fit is stored
   * whole or not at all).
   */
  rollback(mark: number): void;
}

/**
 * Estimated bytes of a row's cells, for the stage's memory bound: 8 per number, the payload of
 * text and blobs plus a reference, a fixed 32 for other objects (bigints above 64 bits,
 * instants). An estimate of what the rows keep alive, not an exact heap measure.
 */
function valueBytes(value: unknown): number {
  if (value === null) return 8;
  if (typeof value === 'string') return 24 + value.length;
  if (value instanceof Uint8Array) return 64 + value.byteLength;
  return 40;
}

/** Floor division: instants before 1970 round down, as DuckDB does. */
function per(ns: bigint, unit: bigint): bigint {
  const q = ns / unit;
  return ns % unit !== 0n && ns < 0n ? q - 1n : q;
}
const nsOf = (v: unknown): bigint => (v as EpochNs).ns;

/** The DuckDB value a vector of `type` takes for a canonical JS value (see `coerce`). */
type ToVector = (value: unknown) => DuckDBValue;
const AS_IS: ToVector = (v) => v as DuckDBValue;
/** VARCHAR cells: strings, as they are. */
const AS_TEXT: ToVector = (v) => v as DuckDBValue;
const TO_VECTOR: Partial<Record<ColumnType, ToVector>> = {
  BLOB: (v) => new DuckDBBlobValue(v as Uint8Array),
  DATE: (v) => new DuckDBDateValue(Number(per(nsOf(v), 86_400_000_000_000n))),
  TIMESTAMP: (v) => new DuckDBTimestampValue(per(nsOf(v), 1_000n)),
  TIMESTAMP_S: (v) => new DuckDBTimestampSecondsValue(per(nsOf(v), 1_000_000_000n)),
  TIMESTAMP_MS: (v) => new DuckDBTimestampMillisecondsValue(per(nsOf(v), 1_000_000n)),
  TIMESTAMP_NS: (v) => new DuckDBTimestampNanosecondsValue(nsOf(v)),
  TIMESTAMPTZ: (v) => new DuckDBTimestampTZValue(per(nsOf(v), 1_000n)),
};

const NUMBER_TYPES = new Set<ColumnType>(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'FLOAT', 'DOUBLE']);

/** One column's cells. */
interface Column {
  set(row: number, value: unknown): number;
  /** A number that fits (see RowTarget.setNumber); only typed columns get one. */
  setNumber(row: number, value: number): number;
  get(row: number): unknown;
  grow(capacity: number): void;
  /** Write rows `from …` into the chunk: through `raw` when the layouts agree (returns true), else `vector`. */
  fill(vector: DuckDBVector, from: number, count: number, raw?: RawVector): boolean;
}

type Cells = Float64Array | BigInt64Array | BigUint64Array;
/** Index of a 64-bit cell's low word among its two 32-bit words (platform byte order). */
const LOW = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;

/**
 * A column held in a typed array (so a cell is no heap object), with a null mask made on first
 * null: numbers up to 32 bits, FLOAT and DOUBLE in a Float64Array, BIGINT / UBIGINT in a 64-bit
 * integer array.
 */
class TypedColumn<T extends number | bigint> implements Column {
  private data: Cells;
  /** The 64-bit cells as 32-bit words, for numbers written without a bigint (undefined for a Float64Array). */
  private words: Uint32Array | undefined;
  private nulls: Uint8Array | undefined;
  /**
   * @param make Allocates the cells.
   * @param width The vector type whose items have the cells' layout (DOUBLE for a Float64Array,
   * BIGINT, UBIGINT), so a chunk of that type takes them as they are.
   */
  constructor(private readonly make: (capacity: number) => Cells, capacity: number, private readonly width: DuckDBTypeId) {
    this.data = make(capacity);
    this.words = this.wordsOf(this.data);
  }
  private wordsOf(data: Cells): Uint32Array | undefined {
    return data instanceof Float64Array ? undefined : new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
  }
  setNumber(row: number, value: number): number {
    const { words } = this;
    if (words === undefined) this.data[row] = value;
    else {
      // Two's complement in little-endian words, as BigInt(value) would be stored (value is a safe integer).
      const hi = Math.floor(value / 0x1_0000_0000);
      words[2 * row + LOW] = (value - hi * 0x1_0000_0000) >>> 0;
      words[2 * row + 1 - LOW] = hi >>> 0;
    }
    if (this.nulls !== undefined) this.nulls[row] = 0;
    return 8;
  }
  set(row: number, value: unknown): number {
    if (value === null) (this.nulls ??= new Uint8Array(this.data.length))[row] = 1;
    else {
      this.data[row] = value as never;
      if (this.nulls !== undefined) this.nulls[row] = 0;
    }
    return 8;
  }
  get(row: number): unknown { return this.nulls?.[row] === 1 ? null : this.data[row]; }
  grow(capacity: number): void {
    const data = this.make(capacity);
    data.set(this.data as never);
    this.data = data;
    this.words = this.wordsOf(data);
    if (this.nulls !== undefined) { const nulls = new Uint8Array(capacity); nulls.set(this.nulls); this.nulls = nulls; }
  }
  fill(vector: DuckDBVector, from: number, count: number, raw?: RawVector): boolean {
    const { data, nulls } = this;
    // Doubles and 64-bit integers are held as the vector holds them: one copy per chunk.
    if (raw !== undefined && RAW_8_BYTES.has(raw.type.typeId) && this.width === raw.type.typeId) {
      raw.copy(data.buffer, data.byteOffset + from * 8, count * 8);
      if (nulls !== undefined) raw.nulls(count, (i) => nulls[from + i] === 1);
      return true;
    }
    const v = vector as DuckDBVector<T>;
    if (nulls === undefined) for (let i = 0; i < count; i++) v.setItem(i, data[from + i] as T);
    else for (let i = 0; i < count; i++) v.setItem(i, nulls[from + i] === 1 ? null : data[from + i] as T);
    return false;
  }
}

/** Anything else (text, blobs, booleans, 128-bit integers, instants): the canonical values. */
class ValueColumn implements Column {
  /**
   * Sized as the batch is: a plain array grown one cell at a time is copied at every growth
   * and, below 128 KiB, moved by each scavenge it survives; one allocated at its size (tens of
   * thousands of cells) is placed outside the young generation at once.
   */
  private data: unknown[];
  constructor(private readonly toVector: ToVector, capacity: number) {
    this.data = new Array<unknown>(capacity);
  }
  set(row: number, value: unknown): number {
    this.data[row] = value;
    return valueBytes(value);
  }
  get(row: number): unknown { return this.data[row]; }
  setNumber(row: number, value: number): number { return this.set(row, value); }
  grow(capacity: number): void {
    const data = new Array<unknown>(capacity);
    const old = this.data;
    for (let i = 0; i < old.length; i++) data[i] = old[i];
    this.data = data;
  }
  fill(vector: DuckDBVector, from: number, count: number, raw?: RawVector): boolean {
    const { data, toVector } = this;
    // Text (coerced values are strings) goes into the VARCHAR slots directly (see RawVector.strings).
    if (raw !== undefined && toVector === AS_TEXT && raw.type.typeId === DuckDBTypeId.VARCHAR) {
      raw.strings(count, (i) => (data[from + i] ?? null) as string | null);
      return true;
    }
    const v = vector as DuckDBVector<DuckDBValue>;
    for (let i = 0; i < count; i++) {
      const value = data[from + i];
      v.setItem(i, value === null || value === undefined ? null : toVector(value));
    }
    return false;
  }
}

function column(type: ColumnType, capacity: number): Column {
  if (NUMBER_TYPES.has(type)) return new TypedColumn<number>((n) => new Float64Array(n), capacity, DuckDBTypeId.DOUBLE);
  if (type === 'BIGINT') return new TypedColumn<bigint>((n) => new BigInt64Array(n), capacity, DuckDBTypeId.BIGINT);
  if (type === 'UBIGINT') return new TypedColumn<bigint>((n) => new BigUint64Array(n), capacity, DuckDBTypeId.UBIGINT);
  if (type === 'VARCHAR') return new ValueColumn(AS_TEXT, capacity);
  return new ValueColumn(TO_VECTOR[type] ?? AS_IS, capacity);
}

/** Rows a batch with a small first capacity grows to before it goes to its expected size. */
const MIDDLING = 1_024;

/**
 * The rows of one table waiting to be written, column by column in `table.layout` order.
 * Cells must hold coerced values (see `coerce`) or null.
 */
export class ColumnBatch implements RowTarget {
  /** Committed rows. */
  length = 0;
  /** Estimated memory of the committed rows' cells (see the stage's `maxPendingBytes`). */
  bytes = 0;
  /** Highest `Published.seq` among its rows (a cluster's stream sequence); 0: none. */
  seq = 0;
  private rowBytes = 0;
  private capacity: number;
  private readonly columns: Column[];
  /** The last {@link ColumnBatch.mark}: one publish is mapped at a time, so one is enough. */
  private markAt = 0;
  private markBytes = 0;

  /**
   * @param table The table the rows belong to.
   * @param capacity Rows to make room for at first (the buffers double as needed).
   * @param expected Rows the batch is expected to reach (e.g. the stage's `batchSize`): the
   * first growth goes there (to 1,024 first from a smaller capacity), later ones double.
   */
  constructor(readonly table: TableDef, capacity = 256, private readonly expected = Infinity) {
    this.capacity = Math.max(1, capacity);
    this.columns = table.layout.map((c) => column(c.type, this.capacity));
  }

  /** A batch holding `rows` (values in layout order, coerced). */
  static fromRows(table: TableDef, rows: readonly Row[]): ColumnBatch {
    const batch = new ColumnBatch(table, rows.length, rows.length);
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) batch.set(i, row[i] ?? null);
      batch.commit();
    }
    return batch;
  }

  set(columnIndex: number, value: unknown): void {
    // Room is made when a row needs it, not after a commit: a batch emitted at exactly its
    // expected size never grows for nothing.
    if (this.length === this.capacity) this.grow();
    this.rowBytes += this.columns[columnIndex]!.set(this.length, value);
  }

  setNumber(columnIndex: number, value: number): void {
    if (this.length === this.capacity) this.grow();
    this.rowBytes += this.columns[columnIndex]!.setNumber(this.length, value);
  }

  commit(): void {
    this.bytes += this.rowBytes;
    this.rowBytes = 0;
    this.length++;
  }

  private grow(): void {
    const { capacity, expected } = this;
    // A small first capacity grows to a middling one; a batch that outgrows that is a busy
    // table: go straight to the expected size.
    this.capacity = capacity < MIDDLING && expected > MIDDLING ? MIDDLING
      : capacity < expected && Number.isFinite(expected) ? expected : capacity * 2;
    for (const c of this.columns) c.grow(this.capacity);
  }

  mark(): number {
    this.rowBytes = 0; // cells of a row that failed half-way
    this.markAt = this.length;
    this.markBytes = this.bytes;
    return this.length;
  }

  rollback(mark: number): void {
    this.rowBytes = 0;
    if (mark !== this.markAt || mark > this.length) return;
    this.length = mark;
    this.bytes = this.markBytes;
  }

  /** Cell `columnIndex` (layout order) of row `row`. */
  get(row: number, columnIndex: number): unknown {
    return this.columns[columnIndex]!.get(row);
  }

  /** Row `row` as an array in layout order. */
  row(row: number): Row {
    return this.columns.map((c) => c.get(row));
  }

  /**
   * Write rows `from … from + count - 1` of layout column `columnIndex` into a DuckDB vector of
   * that column's type, at positions `0 … count - 1` (see `appendColumns`).
   */
  fill(columnIndex: number, vector: DuckDBVector, from: number, count: number, raw?: RawVector): boolean {
    return this.columns[columnIndex]!.fill(vector, from, count, raw);
  }
}
