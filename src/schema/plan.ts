/**
 * The per-table plan of the row mapping (rows.ts): coercers, defaults, which columns topic
 * variables fill, and the cell helpers every payload format shares. Pure.
 */
import { CborFields } from './cbor-fields.js';
import type { RowTarget } from './column-batch.js';
import { coerce, coercer, INVALID, type Coercer } from './column-types.js';
import type { MapTemplate } from './map-template.js';
import type { ColumnDef, TableDef } from './types.js';

export interface Plan {
  readonly table: TableDef;
  /** Coerced defaults, per payload column (undefined: none). */
  readonly defaults: readonly unknown[];
  /** Per layout column. */
  readonly coercers: readonly Coercer[];
  /** Per payload column: its name is also an `Object.prototype` member (`constructor`, …), so a plain lookup could find that. */
  readonly inherited: readonly boolean[];
  readonly hasVars: boolean;
  /** The layout has extra columns (`recv_ts`, `slot`) after the payload's. */
  readonly hasExtras: boolean;
  /**
   * Payload columns a positional payload fills, in column order: those that no topic variable
   * of the table's pattern names (the topic variables fill the others).
   */
  readonly positional: readonly number[];
  /** Reads key_value and positional payloads from their CBOR bytes (one per table, reused). */
  readonly fields: CborFields;
  /** The payload columns' names as UTF-8 (what a map payload's keys are compared with). */
  readonly keyNames: readonly Uint8Array[];
  /** The key order of the last map payload read the general way (map-template.ts): the fast path. */
  template: MapTemplate | undefined;
  /**
   * Map payloads the template did not take (or could not be learned from), less those it took:
   * past {@link MAX_TEMPLATE_MISSES} it is learned again only once per 1,024 misses (publishers
   * whose key orders differ, or whose fields are not all numbers, would have it relearned at
   * every publish).
   */
  templateMisses: number;
  /** Topic variables (a frozen, cached `vars` object of matchTable) → their cells, per payload column. */
  readonly varCells: WeakMap<object, VarCells>;
  /**
   * Per payload column: which numbers it takes as they are, without boxing or a bigint
   * ({@link fitsAsNumber}): NUM_FLOAT, NUM_INT (with `numberRange`), NUM_INT64, NUM_UINT64, or
   * NUM_NONE (the coercer decides).
   */
  readonly numberKinds: Uint8Array;
  /** Per payload column of kind NUM_INT: its [lo, hi] bounds, flattened. */
  readonly numberRange: Float64Array;
}

export const MAX_TEMPLATE_MISSES = 8;

export const NUM_NONE = 0, NUM_FLOAT = 1, NUM_INT = 2, NUM_INT64 = 3, NUM_UINT64 = 4;
const INT_BOUNDS: Readonly<Record<string, readonly [number, number]>> = {
  TINYINT: [-128, 127], SMALLINT: [-32768, 32767], INTEGER: [-2147483648, 2147483647],
  UTINYINT: [0, 255], USMALLINT: [0, 65535], UINTEGER: [0, 4294967295],
};

function numberKind(type: string): number {
  if (type === 'DOUBLE' || type === 'FLOAT') return NUM_FLOAT;
  if (type === 'BIGINT') return NUM_INT64;
  if (type === 'UBIGINT') return NUM_UINT64;
  return INT_BOUNDS[type] === undefined ? NUM_NONE : NUM_INT;
}

/**
 * Does number `n` fit payload column `i` as it is (the coercer would accept it, giving `n` or
 * `BigInt(n)`)? False means: ask the coercer, which decides and explains.
 */
export function fitsAsNumber(plan: Plan, i: number, n: number): boolean {
  switch (plan.numberKinds[i]) {
    case NUM_FLOAT: return true;
    case NUM_INT: return Number.isInteger(n) && n >= plan.numberRange[2 * i]! && n <= plan.numberRange[2 * i + 1]!;
    case NUM_INT64: return Number.isSafeInteger(n);
    case NUM_UINT64: return Number.isSafeInteger(n) && n >= 0;
    default: return false;
  }
}

/** Per payload column: the topic variable's coerced value, undefined (no variable), or the reason it does not fit. */
export type VarCells = readonly (unknown)[];

/** A topic variable's text that does not fit its column: the reason, boxed so a cell cannot be mistaken for it. */
export class BadCell {
  constructor(readonly reason: string) {}
}

const plans = new WeakMap<TableDef, Plan>();

/** The plan of `table`, made on first use. */
export function planOf(table: TableDef): Plan {
  let plan = plans.get(table);
  if (plan === undefined) {
    const varNames = new Set(table.topic.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1)));
    plan = {
      table, hasVars: varNames.size > 0, hasExtras: table.layout.length > table.columns.length,
      defaults: table.columns.map((c) => (c.default === undefined || c.default === null ? undefined : coerce(c.type, c.default))),
      coercers: table.layout.map((c) => coercer(c.type)),
      inherited: table.columns.map((c) => c.name in Object.prototype),
      positional: table.columns.flatMap((c, i) => (varNames.has(c.name) ? [] : [i])),
      fields: new CborFields(table.columns.map((c) => c.name)),
      keyNames: table.columns.map((c) => new TextEncoder().encode(c.name)), template: undefined, templateMisses: 0,
      varCells: new WeakMap(),
      numberKinds: Uint8Array.from(table.columns, (c) => numberKind(c.type)),
      numberRange: Float64Array.from(table.columns.flatMap((c) => INT_BOUNDS[c.type] ?? [0, 0])),
    };
    plans.set(table, plan);
  }
  return plan;
}

/** The topic variables of `topic` under `table`'s pattern (which it is known to match). */
export function varsOf(table: TableDef, topic: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const segments = topic.split('/');
  table.topic.split('/').forEach((p, i) => { if (p.startsWith(':')) vars[p.slice(1)] = segments[i] ?? ''; });
  return vars;
}

export function show(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object') return value instanceof Uint8Array ? 'bytes' : Array.isArray(value) ? 'an array' : (value.constructor?.name ?? 'object');
  return String(value);
}

/**
 * Put `value`, coerced for layout column `i`, into the row being built; null is checked against
 * `nullable`. Returns the reason when it does not fit, else undefined (no object per cell).
 */
export function put(plan: Plan, target: RowTarget, i: number, value: unknown): string | undefined {
  const col = plan.table.layout[i]!;
  if (value === null || value === undefined) {
    if (!col.nullable) return `column '${col.name}' may not be null`;
    target.set(i, null);
    return undefined;
  }
  const v = plan.coercers[i]!(value);
  if (v === INVALID) return `column '${col.name}': ${show(value)} does not fit ${col.type}`;
  target.set(i, v);
  return undefined;
}

/** A topic segment is text: read numbers and booleans out of it for typed columns. */
function fromText(col: ColumnDef, text: string): unknown {
  if (col.type === 'BOOLEAN') return text === 'true' ? true : text === 'false' ? false : text;
  if (col.type === 'VARCHAR' || col.type === 'BLOB' || col.type.startsWith('TIMESTAMP') || col.type === 'DATE') return text;
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/**
 * The cells topic variables give, per payload column, coerced once per `vars` object (the
 * matcher caches one per topic, so a busy topic pays it once).
 */
export function varCellsOf(plan: Plan, vars: Readonly<Record<string, string>>): VarCells {
  let cells = plan.varCells.get(vars);
  if (cells === undefined) {
    cells = plan.table.columns.map((col, i) => {
      const text = Object.hasOwn(vars, col.name) ? vars[col.name] : undefined;
      if (text === undefined) return undefined;
      const v = plan.coercers[i]!(fromText(col, text));
      return v === INVALID ? new BadCell(`column '${col.name}': ${show(fromText(col, text))} does not fit ${col.type}`) : v;
    });
    if (Object.isFrozen(vars)) plan.varCells.set(vars, cells);
  }
  return cells;
}

/** Set the extra columns: a value the payload gives (`given`) wins over the message's. */
export function extras(plan: Plan, target: RowTarget, recv: bigint | null, slot: number | null,
  given?: (col: ColumnDef, i: number) => unknown): string | undefined {
  const { layout, columns } = plan.table;
  for (let i = columns.length; i < layout.length; i++) {
    const col = layout[i]!;
    const bad = put(plan, target, i, given?.(col, i) ?? (col.extra === 'recv_ts' ? recv : slot));
    if (bad !== undefined) return bad;
  }
  return undefined;
}
