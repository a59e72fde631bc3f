/**
 * Mapping a publish to table rows (spec §8.3 steps 2–6): key_value, positional or DataFrame
 * payloads, topic variables, defaults, nullability and the `recv_ts`/`slot` extras. Pure and
 * total: a payload that does not fit yields a reason string, never an exception.
 */
import { dataFrameColumns, isDataFrame, isDataFrameTag, loadPolars, tagToDataFrame } from '../dataframe/index.js';
import { coerce, INVALID } from './column-types.js';
import type { ColumnDef, Published, Row, TableDef } from './types.js';

/** What a missing map field becomes: publish fills from topic/default (§8.3), upsert prefers null (§8.4). */
type Fill = 'publish' | 'upsert';

interface Plan {
  readonly table: TableDef;
  /** Coerced defaults, per payload column (undefined: none). */
  readonly defaults: readonly unknown[];
  readonly hasVars: boolean;
}

const plans = new WeakMap<TableDef, Plan>();

function planOf(table: TableDef): Plan {
  let plan = plans.get(table);
  if (plan === undefined) {
    plan = { table, hasVars: table.topic.split('/').some((s) => s.startsWith(':')),
      defaults: table.columns.map((c) => (c.default === undefined || c.default === null ? undefined : coerce(c.type, c.default))) };
    plans.set(table, plan);
  }
  return plan;
}

/** The topic variables of `topic` under `table`'s pattern (which it is known to match). */
function varsOf(table: TableDef, topic: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const segments = topic.split('/');
  table.topic.split('/').forEach((p, i) => { if (p.startsWith(':')) vars[p.slice(1)] = segments[i] ?? ''; });
  return vars;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object') return value instanceof Uint8Array ? 'bytes' : Array.isArray(value) ? 'an array' : (value.constructor?.name ?? 'object');
  return String(value);
}

/** `value` coerced for `col`, or a reason. Null is checked against `nullable`. */
function cell(col: ColumnDef, value: unknown): { v: unknown } | string {
  if (value === null || value === undefined) return col.nullable ? { v: null } : `column '${col.name}' may not be null`;
  const v = coerce(col.type, value);
  return v === INVALID ? `column '${col.name}': ${show(value)} does not fit ${col.type}` : { v };
}

/** A topic segment is text: read numbers and booleans out of it for typed columns. */
function fromText(col: ColumnDef, text: string): unknown {
  if (col.type === 'BOOLEAN') return text === 'true' ? true : text === 'false' ? false : text;
  if (col.type === 'VARCHAR' || col.type === 'BLOB' || col.type.startsWith('TIMESTAMP') || col.type === 'DATE') return text;
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function isMap(value: unknown): value is Record<string, unknown> | Map<string, unknown> {
  if (value instanceof Map) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function field(map: Record<string, unknown> | Map<string, unknown>, key: string): unknown {
  return map instanceof Map ? map.get(key) : Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Append the extra columns: a value the payload gives (`given`) wins over the message's. */
function extras(table: TableDef, row: Row, recv: bigint | null, slot: number | null,
  given?: (col: ColumnDef) => unknown): string | undefined {
  for (let i = table.columns.length; i < table.layout.length; i++) {
    const col = table.layout[i]!;
    const c = cell(col, given?.(col) ?? (col.extra === 'recv_ts' ? recv : slot));
    if (typeof c === 'string') return c;
    row.push(c.v);
  }
  return undefined;
}

function fromMap(plan: Plan, map: Record<string, unknown> | Map<string, unknown>, vars: Record<string, string>,
  fill: Fill): Row | string {
  const row: Row = [];
  const { columns } = plan.table;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    let value = field(map, col.name);
    if (value === undefined) {
      // Precedence (spec §8.3 step 3): topic variable, default, null when nullable.
      const v = vars[col.name];
      const dflt = plan.defaults[i];
      if (v !== undefined) value = fromText(col, v);
      else if (fill === 'upsert' && col.nullable) value = null; // §8.4: missing columns are null
      else if (dflt !== undefined) { row.push(dflt); continue; }
      else if (col.nullable) value = null;
      else return `missing column '${col.name}'`;
    }
    const c = cell(col, value);
    if (typeof c === 'string') return c;
    row.push(c.v);
  }
  return row;
}

function fromArgs(plan: Plan, args: readonly unknown[]): Row | string {
  const { columns } = plan.table;
  if (args.length !== columns.length) return `expected ${columns.length} positional value(s), got ${args.length}`;
  const row: Row = [];
  for (let i = 0; i < columns.length; i++) {
    const c = cell(columns[i]!, args[i]);
    if (typeof c === 'string') return c;
    row.push(c.v);
  }
  return row;
}

function fromFrame(table: TableDef, frame: unknown, recv: bigint | null, slot: number | null, fill: Fill): Row[] | string {
  if (isDataFrameTag(frame) && loadPolars() === undefined) return 'a DataFrame payload needs nodejs-polars';
  let columns: Map<string, unknown[]>;
  let height: number;
  try {
    const df = isDataFrame(frame) ? frame : tagToDataFrame(frame as Parameters<typeof tagToDataFrame>[0]);
    columns = dataFrameColumns(df);
    height = df.height;
  } catch (err) {
    return `unreadable DataFrame: ${(err as Error).message}`;
  }
  const missing = table.columns.find((c) => !columns.has(c.name) && !(fill === 'upsert' && c.nullable));
  if (missing !== undefined) return `DataFrame lacks column '${missing.name}'`;
  const rows: Row[] = [];
  for (let r = 0; r < height; r++) {
    const row: Row = [];
    for (const col of table.columns) {
      const c = cell(col, columns.get(col.name)?.[r] ?? null);
      if (typeof c === 'string') return `row ${r}: ${c}`;
      row.push(c.v);
    }
    // §8.3 step 5: extra columns the frame has are kept; §8.4: an upsert stamps recv_ts now.
    const bad = extras(table, row, recv, slot,
      (col) => (fill === 'upsert' && col.extra === 'recv_ts' ? undefined : columns.get(col.name)?.[r]));
    if (bad !== undefined) return `row ${r}: ${bad}`;
    rows.push(row);
  }
  return rows;
}

/**
 * The rows a publish adds to `table` (spec §8.3 steps 2–6).
 *
 * Payload format: one map argument → key_value; one DataFrame (or tag 80) → dataframe; no
 * arguments and a pattern with variables → key_value of `{}`; otherwise positional.
 *
 * @example
 * ```ts
 * import { matchTable, rowsFor } from 'rembus/broker';
 * const m = matchTable(schema, 'veneto/belluno/temperature')!;
 * const rows = rowsFor(m.table, { topic: 'veneto/belluno/temperature', args: [{ sensor: 's1', value: 21.5 }],
 *   flags: 0, recv: 1_700_000_000_000_000_000n, origin: 'x' });
 * ```
 * @param table The table the topic matched.
 * @param msg The publish.
 * @param vars The topic variables, when the caller already has them (else read from `msg.topic`).
 * @returns Rows with values in `table.layout` order, or the reason the payload does not fit.
 */
export function rowsFor(table: TableDef, msg: Published, vars?: Readonly<Record<string, string>>): Row[] | string {
  const plan = planOf(table);
  const { args } = msg;
  const slot = msg.slot ?? null;
  const first = args[0];
  if (args.length === 1 && (isDataFrameTag(first) || isDataFrame(first))) return fromFrame(table, first, msg.recv, slot, 'publish');
  let row: Row | string;
  if (args.length === 1 && isMap(first)) row = fromMap(plan, first, vars ?? varsOf(table, msg.topic), 'publish');
  else if (args.length === 0 && plan.hasVars) row = fromMap(plan, {}, vars ?? varsOf(table, msg.topic), 'publish');
  else row = fromArgs(plan, args);
  if (typeof row === 'string') return row;
  const bad = extras(table, row, msg.recv, slot);
  return bad ?? [row];
}

/**
 * The rows of an `upsert_<t>` object (spec §8.4): a map, an array of maps, or a DataFrame.
 * Missing nullable columns are null (so a keyed upsert leaves them as they are); missing NOT
 * NULL columns take their default. `recv_ts` is `now`; `slot` is taken from the object or null.
 * @returns The rows, or the reason they do not fit.
 */
export function rowsForUpsert(table: TableDef, obj: unknown, now: bigint): Row[] | string {
  const plan = planOf(table);
  if (isDataFrame(obj) || isDataFrameTag(obj)) return fromFrame(table, obj, now, null, 'upsert');
  const maps = Array.isArray(obj) ? obj : [obj];
  if (!maps.every(isMap)) return 'expected a map, an array of maps or a DataFrame';
  const rows: Row[] = [];
  for (const [i, map] of maps.entries()) {
    const row = fromMap(plan, map, {}, 'upsert');
    const bad = typeof row === 'string' ? row
      : extras(table, row, now, null, (col) => (col.extra === 'slot' ? field(map, col.name) : undefined));
    if (bad !== undefined) return maps.length > 1 ? `[${i}]: ${bad}` : bad;
    rows.push(row as Row);
  }
  return rows;
}
