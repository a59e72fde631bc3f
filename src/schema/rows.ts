/**
 * Mapping a publish to table rows (spec §8.3 steps 2–6): key_value, positional or DataFrame
 * payloads, topic variables, defaults, nullability and the `recv_ts`/`slot` extras. Pure and
 * total: a payload that does not fit yields a reason string, never an exception.
 *
 * Cells go to a {@link RowTarget}: the stage's column buffers, or row arrays for
 * {@link rowsFor} and {@link rowsForUpsert}. One mapping, two destinations.
 */
import { columnValues, isDataFrame, isDataFrameTag, loadPolars, tagToDataFrame } from '../dataframe/index.js';
import type { RowTarget } from './column-batch.js';
import { coerce, coercer, INVALID, type Coercer } from './column-types.js';
import type { ColumnDef, Published, Row, TableDef } from './types.js';

/** What a missing map field becomes: publish fills from topic/default (§8.3), upsert prefers null (§8.4). */
type Fill = 'publish' | 'upsert';
type PayloadMap = Record<string, unknown> | Map<string, unknown>;

interface Plan {
  readonly table: TableDef;
  /** Coerced defaults, per payload column (undefined: none). */
  readonly defaults: readonly unknown[];
  /** Per layout column. */
  readonly coercers: readonly Coercer[];
  /** Per payload column: its name is also an `Object.prototype` member (`constructor`, …), so a plain lookup could find that. */
  readonly inherited: readonly boolean[];
  readonly hasVars: boolean;
}

const plans = new WeakMap<TableDef, Plan>();

function planOf(table: TableDef): Plan {
  let plan = plans.get(table);
  if (plan === undefined) {
    plan = {
      table, hasVars: table.topic.split('/').some((s) => s.startsWith(':')),
      defaults: table.columns.map((c) => (c.default === undefined || c.default === null ? undefined : coerce(c.type, c.default))),
      coercers: table.layout.map((c) => coercer(c.type)),
      inherited: table.columns.map((c) => c.name in Object.prototype),
    };
    plans.set(table, plan);
  }
  return plan;
}

/** Rows as arrays, for the callers that want them. */
class RowArrays implements RowTarget {
  readonly rows: Row[] = [];
  private row: Row = [];
  get length(): number { return this.rows.length; }
  set(column: number, value: unknown): void { this.row[column] = value; }
  commit(): void { this.rows.push(this.row); this.row = []; }
  mark(): number { this.row = []; return this.rows.length; }
  rollback(mark: number): void { this.rows.length = mark; this.row = []; }
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

/**
 * Put `value`, coerced for layout column `i`, into the row being built; null is checked against
 * `nullable`. Returns the reason when it does not fit, else undefined (no object per cell).
 */
function put(plan: Plan, target: RowTarget, i: number, value: unknown): string | undefined {
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

function isMap(value: unknown): value is PayloadMap {
  if (value instanceof Map) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function field(map: PayloadMap, key: string, inherited = true): unknown {
  if (map instanceof Map) return map.get(key);
  // Only names that Object.prototype also has need the own-property check.
  return !inherited || Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Set the extra columns: a value the payload gives (`given`) wins over the message's. */
function extras(plan: Plan, target: RowTarget, recv: bigint | null, slot: number | null,
  given?: (col: ColumnDef, i: number) => unknown): string | undefined {
  const { layout, columns } = plan.table;
  for (let i = columns.length; i < layout.length; i++) {
    const col = layout[i]!;
    const bad = put(plan, target, i, given?.(col, i) ?? (col.extra === 'recv_ts' ? recv : slot));
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function fromMap(plan: Plan, target: RowTarget, map: PayloadMap, vars: Readonly<Record<string, string>>,
  fill: Fill): string | undefined {
  const { columns } = plan.table;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    let value = field(map, col.name, plan.inherited[i]);
    if (value === undefined) {
      // Precedence (spec §8.3 step 3): topic variable, default, null when nullable.
      const v = vars[col.name];
      const dflt = plan.defaults[i];
      if (v !== undefined) value = fromText(col, v);
      else if (fill === 'upsert' && col.nullable) value = null; // §8.4: missing columns are null
      else if (dflt !== undefined) { target.set(i, dflt); continue; }
      else if (col.nullable) value = null;
      else return `missing column '${col.name}'`;
    }
    const bad = put(plan, target, i, value);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function fromArgs(plan: Plan, target: RowTarget, args: readonly unknown[]): string | undefined {
  const { columns } = plan.table;
  if (args.length !== columns.length) return `expected ${columns.length} positional value(s), got ${args.length}`;
  for (let i = 0; i < columns.length; i++) {
    const bad = put(plan, target, i, args[i]);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function fromFrame(plan: Plan, target: RowTarget, frame: unknown, recv: bigint | null, slot: number | null,
  fill: Fill): string | undefined {
  const { table } = plan;
  if (isDataFrameTag(frame) && loadPolars() === undefined) return 'a DataFrame payload needs nodejs-polars';
  let columns: Map<string, ArrayLike<unknown>>;
  let height: number;
  try {
    const df = isDataFrame(frame) ? frame : tagToDataFrame(frame as Parameters<typeof tagToDataFrame>[0]);
    columns = columnValues(df);
    height = df.height;
  } catch (err) {
    return `unreadable DataFrame: ${(err as Error).message}`;
  }
  const missing = table.columns.find((c) => !columns.has(c.name) && !(fill === 'upsert' && c.nullable));
  if (missing !== undefined) return `DataFrame lacks column '${missing.name}'`;
  // Look each column up once, not once per cell.
  const sources = table.layout.map((c) => columns.get(c.name));
  let r = 0;
  // §8.3 step 5: extra columns the frame has are kept; §8.4: an upsert stamps recv_ts now.
  const given = (col: ColumnDef, i: number): unknown => (fill === 'upsert' && col.extra === 'recv_ts' ? undefined : sources[i]?.[r]);
  for (; r < height; r++) {
    for (let i = 0; i < table.columns.length; i++) {
      const bad = put(plan, target, i, sources[i]?.[r] ?? null);
      if (bad !== undefined) return `row ${r}: ${bad}`;
    }
    const bad = extras(plan, target, recv, slot, given);
    if (bad !== undefined) return `row ${r}: ${bad}`;
    target.commit();
  }
  return undefined;
}

/**
 * Map a publish into `target` (spec §8.3 steps 2–6): the stage's way of calling
 * {@link rowsFor}, without a row array per row.
 * @param table The table the topic matched.
 * @param msg The publish.
 * @param target Receives the cells; the rows of a publish that does not fit are rolled back.
 * @param vars The topic variables, when the caller already has them (else read from `msg.topic`).
 * @returns The number of rows added, or the reason the payload does not fit.
 */
export function mapPublish(table: TableDef, msg: Published, target: RowTarget,
  vars?: Readonly<Record<string, string>>): number | string {
  const plan = planOf(table);
  const mark = target.mark();
  const bad = mapInto(plan, msg, target, vars);
  if (bad === undefined) return target.length - mark;
  target.rollback(mark);
  return bad;
}

function mapInto(plan: Plan, msg: Published, target: RowTarget, vars?: Readonly<Record<string, string>>): string | undefined {
  const { args } = msg;
  const slot = msg.slot ?? null;
  const first = args[0];
  if (args.length === 1 && (isDataFrameTag(first) || isDataFrame(first))) return fromFrame(plan, target, first, msg.recv, slot, 'publish');
  let bad: string | undefined;
  if (args.length === 1 && isMap(first)) bad = fromMap(plan, target, first, vars ?? varsOf(plan.table, msg.topic), 'publish');
  else if (args.length === 0 && plan.hasVars) bad = fromMap(plan, target, {}, vars ?? varsOf(plan.table, msg.topic), 'publish');
  else bad = fromArgs(plan, target, args);
  bad ??= extras(plan, target, msg.recv, slot);
  if (bad === undefined) target.commit();
  return bad;
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
 * @see mapPublish, which writes the same cells into a column batch.
 */
export function rowsFor(table: TableDef, msg: Published, vars?: Readonly<Record<string, string>>): Row[] | string {
  const target = new RowArrays();
  const out = mapPublish(table, msg, target, vars);
  return typeof out === 'string' ? out : target.rows;
}

/**
 * The rows of an `upsert_<t>` object (spec §8.4): a map, an array of maps, or a DataFrame.
 * Missing nullable columns are null (so a keyed upsert leaves them as they are); missing NOT
 * NULL columns take their default. `recv_ts` is `now`; `slot` is taken from the object or null.
 * @returns The rows, or the reason they do not fit.
 */
export function rowsForUpsert(table: TableDef, obj: unknown, now: bigint): Row[] | string {
  const plan = planOf(table);
  const target = new RowArrays();
  if (isDataFrame(obj) || isDataFrameTag(obj)) return fromFrame(plan, target, obj, now, null, 'upsert') ?? target.rows;
  const maps = Array.isArray(obj) ? obj : [obj];
  if (!maps.every(isMap)) return 'expected a map, an array of maps or a DataFrame';
  for (const [i, map] of maps.entries()) {
    const bad = fromMap(plan, target, map, {}, 'upsert')
      ?? extras(plan, target, now, null, (col) => (col.extra === 'slot' ? field(map, col.name) : undefined));
    if (bad !== undefined) return maps.length > 1 ? `[${i}]: ${bad}` : bad;
    target.commit();
  }
  return target.rows;
}
