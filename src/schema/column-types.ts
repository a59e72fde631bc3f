/**
 * The DuckDB column types a schema may use, their spellings, and the coercion of a payload
 * value to a column's canonical JS form. Coercion decides whether a publish "fits" its table
 * (spec §8.3), so the Appender never meets a value it cannot write.
 */
import { EpochNs } from '../dataframe/columns.js';

/** Column types a schema may declare (canonical DuckDB spelling). */
export const COLUMN_TYPES = [
  'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
  'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'VARCHAR', 'BLOB', 'DATE', 'TIMESTAMP',
  'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMPTZ',
] as const;

/** A column type a schema may declare. */
export type ColumnType = typeof COLUMN_TYPES[number];

const ALIASES: Record<string, ColumnType> = {
  TEXT: 'VARCHAR', STRING: 'VARCHAR', CHAR: 'VARCHAR', BPCHAR: 'VARCHAR', BOOL: 'BOOLEAN', LOGICAL: 'BOOLEAN',
  INT1: 'TINYINT', INT2: 'SMALLINT', SHORT: 'SMALLINT', INT: 'INTEGER', INT4: 'INTEGER', SIGNED: 'INTEGER',
  INT8: 'BIGINT', LONG: 'BIGINT', INT128: 'HUGEINT', UINT8: 'UTINYINT', UINT16: 'USMALLINT',
  UINT32: 'UINTEGER', UINT64: 'UBIGINT', UINT128: 'UHUGEINT', REAL: 'FLOAT', FLOAT4: 'FLOAT',
  FLOAT8: 'DOUBLE', BYTEA: 'BLOB', BINARY: 'BLOB', VARBINARY: 'BLOB', DATETIME: 'TIMESTAMP',
  TIMESTAMP_US: 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};
const CANONICAL = new Set<string>(COLUMN_TYPES);

/**
 * The canonical type for a spelling (case-insensitive; aliases such as TEXT, INT, BOOL).
 * @returns The type, or `undefined` when the schema may not use it.
 */
export function columnType(spelling: string): ColumnType | undefined {
  const upper = spelling.trim().replace(/\s+/g, ' ').toUpperCase();
  return CANONICAL.has(upper) ? upper as ColumnType : ALIASES[upper];
}

/** Returned by {@link coerce} for a value that does not fit. */
export const INVALID: unique symbol = Symbol('invalid');

const INT_RANGE: Partial<Record<ColumnType, readonly [number, number]>> = {
  TINYINT: [-128, 127], SMALLINT: [-32768, 32767], INTEGER: [-2147483648, 2147483647],
  UTINYINT: [0, 255], USMALLINT: [0, 65535], UINTEGER: [0, 4294967295],
};
const BIG_RANGE: Partial<Record<ColumnType, readonly [bigint, bigint]>> = {
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n], HUGEINT: [-(2n ** 127n), 2n ** 127n - 1n],
  UBIGINT: [0n, 2n ** 64n - 1n], UHUGEINT: [0n, 2n ** 128n - 1n],
};

/** Coerces one non-null value to a column type's canonical JS form, or returns {@link INVALID}. */
export type Coercer = (value: unknown) => unknown;

function intCoercer([lo, hi]: readonly [number, number]): Coercer {
  return (value) => {
    const n = typeof value === 'bigint' ? Number(value) : value;
    return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi ? n : INVALID;
  };
}

function bigCoercer([lo, hi]: readonly [bigint, bigint]): Coercer {
  return (value) => {
    const n = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
    return typeof n === 'bigint' && n >= lo && n <= hi ? n : INVALID;
  };
}

const FLOAT: Coercer = (value) => (typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : INVALID);
const TEXT: Coercer = (value) => {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : INVALID;
};
const INSTANT: Coercer = (value) => instant(value) ?? INVALID;

/** One coercer per type, built once: the row mapping calls them per cell. */
const COERCERS = new Map<ColumnType, Coercer>(COLUMN_TYPES.map((type): [ColumnType, Coercer] => {
  const small = INT_RANGE[type];
  if (small !== undefined) return [type, intCoercer(small)];
  const big = BIG_RANGE[type];
  if (big !== undefined) return [type, bigCoercer(big)];
  switch (type) {
    case 'BOOLEAN': return [type, (value) => (typeof value === 'boolean' ? value : INVALID)];
    case 'FLOAT': case 'DOUBLE': return [type, FLOAT];
    case 'VARCHAR': return [type, TEXT];
    case 'BLOB': return [type, (value) => (value instanceof Uint8Array ? value : INVALID)];
    default: return [type, INSTANT];
  }
}));

/**
 * The coercion of `type` as a function (see {@link coerce}), to look up once per column rather
 * than once per cell.
 */
export function coercer(type: ColumnType): Coercer {
  return COERCERS.get(type)!;
}

/**
 * `value` in the canonical JS form of `type`: number for integers up to 32 bits and floats,
 * bigint for 64/128-bit integers, string, boolean, Uint8Array, {@link EpochNs} for DATE and
 * TIMESTAMP*. Never null: callers handle null first.
 *
 * Accepted inputs: integers as number or bigint within range; floats as number or bigint; text
 * from string, number, bigint or boolean; instants as Date, EpochNs or ISO-8601 text (no zone
 * means UTC).
 * @returns The coerced value, or {@link INVALID}.
 */
export function coerce(type: ColumnType, value: unknown): unknown {
  return coercer(type)(value);
}

function instant(value: unknown): EpochNs | undefined {
  if (value instanceof EpochNs) return value;
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : new EpochNs(BigInt(ms) * 1_000_000n);
  }
  return typeof value === 'string' ? parseInstant(value) : undefined;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parse `YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]][Z|±HH[:MM]]` exactly; no zone means UTC.
 * @returns The instant, or `undefined` for any other text.
 */
export function parseInstant(text: string): EpochNs | undefined {
  const m = ISO.exec(text.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  // Date.UTC rolls 02-30 over to March: reject dates that do not exist.
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return undefined;
  let ns = BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0');
    ns -= BigInt((zone.startsWith('-') ? -minutes : minutes) * 60) * 1_000_000_000n;
  }
  return new EpochNs(ns);
}

/**
 * A default value as a SQL literal: numbers, strings (quotes doubled), booleans, NULL.
 * @throws RangeError for a non-finite number (parseSchema rejects those first).
 */
export function sqlLiteral(value: number | string | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quote a (validated) identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
