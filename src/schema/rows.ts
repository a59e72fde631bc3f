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
import type { CborFields } from './cbor-fields.js';
import { MapTemplate } from './map-template.js';
import { BadCell, extras, fitsAsNumber, MAX_TEMPLATE_MISSES, planOf, put, varCellsOf, varsOf, type Plan, type VarCells } from './plan.js';
import type { ColumnDef, Published, Row, TableDef } from './types.js';

/** What a missing map field becomes: publish fills from topic/default (§8.3), upsert prefers null (§8.4). */
type Fill = 'publish' | 'upsert';
type PayloadMap = Record<string, unknown> | Map<string, unknown>;
const NO_VARS: VarCells = [];

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

/**
 * Fill payload column `i`, absent from a map, by precedence (spec §8.3 step 3): topic variable,
 * default, null when nullable. Returns the reason when none applies.
 */
function fillMissing(plan: Plan, target: RowTarget, i: number, vars: VarCells, fill: Fill): string | undefined {
  const col = plan.table.columns[i]!;
  const v = vars[i];
  if (v !== undefined) {
    if (v instanceof BadCell) return v.reason;
    target.set(i, v);
    return undefined;
  }
  if (fill === 'upsert' && col.nullable) return put(plan, target, i, null); // §8.4: missing columns are null
  const dflt = plan.defaults[i];
  if (dflt !== undefined) { target.set(i, dflt); return undefined; }
  if (col.nullable) return put(plan, target, i, null);
  return `missing column '${col.name}'`;
}

function fromMap(plan: Plan, target: RowTarget, map: PayloadMap, vars: VarCells, fill: Fill): string | undefined {
  const { columns } = plan.table;
  for (let i = 0; i < columns.length; i++) {
    const value = field(map, columns[i]!.name, plan.inherited[i]);
    const bad = value === undefined ? fillMissing(plan, target, i, vars, fill) : put(plan, target, i, value);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/**
 * {@link fromMap} for the fields read from CBOR. A number that fits its column as it is goes to
 * the target unboxed (`setNumber`: no heap number, no bigint for a 64-bit cell); anything else
 * through `put`, the coercer and its reasons.
 */
function fromFields(plan: Plan, target: RowTarget, fields: CborFields, vars: VarCells): string | undefined {
  const { values, numeric, numbers } = fields;
  for (let i = 0; i < values.length; i++) {
    let value: unknown;
    if (numeric[i] === 1) {
      const n = numbers[i]!;
      if (target.setNumber !== undefined && fitsAsNumber(plan, i, n)) {
        target.setNumber(i, n);
        continue;
      }
      value = n;
    } else value = values[i];
    const bad = value === undefined ? fillMissing(plan, target, i, vars, 'publish') : put(plan, target, i, value);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/**
 * A positional payload (spec §8.3 step 4, issue 13 item 12): the values fill, in column order,
 * the columns no topic variable names; the topic variables fill theirs, so a payload can never
 * override them. Any other count of values is refused, as Rembus.py refuses a count that differs
 * from its columns (`db.py` `append`: "unsaved … with mismatched fields").
 */
function fromArgs(plan: Plan, target: RowTarget, args: ArrayLike<unknown>, n: number, vars: VarCells): string | undefined {
  const { positional, table } = plan;
  if (n !== positional.length) {
    const given = table.columns.filter((_, i) => !positional.includes(i)).map((c) => c.name);
    const why = given.length === 0 ? '' : ` (the topic gives ${given.join(', ')})`;
    return `expected ${positional.length} positional value(s), got ${n}${why}`;
  }
  let k = 0;
  for (let i = 0; i < table.columns.length; i++) {
    const bad = positional[k] === i ? put(plan, target, i, args[k++]) : fillMissing(plan, target, i, vars, 'publish');
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
  return mapPlanned(plan, cellsOf(plan, msg.topic, vars), msg, target);
}

/** The cells `topic`'s variables give under `plan`'s table (see {@link mapPlanned}). */
export function cellsOf(plan: Plan, topic: string, vars?: Readonly<Record<string, string>>): VarCells {
  return plan.hasVars ? varCellsOf(plan, vars ?? varsOf(plan.table, topic)) : NO_VARS;
}

/**
 * {@link mapPublish} with the table's plan and the topic's variable cells already looked up
 * (`planOf`, {@link cellsOf}): the stage's intake keeps them for the topic it saw last.
 */
export function mapPlanned(plan: Plan, cells: VarCells, msg: Published, target: RowTarget): number | string {
  const mark = target.mark();
  const bad = mapInto(plan, msg, target, cells);
  if (bad === undefined) return target.length - mark;
  target.rollback(mark);
  return bad;
}

function mapInto(plan: Plan, msg: Published, target: RowTarget, cells: VarCells): string | undefined {
  const slot = msg.slot ?? null;
  let bad: string | undefined;
  // The publisher's bytes, when the broker kept them: one map or a list of scalars is read
  // without decoding (cbor-fields.ts); any other payload is decoded below.
  const bytes = msg.argsFrame ?? msg.argsBytes;
  const start = msg.argsFrame === undefined ? 0 : msg.argsAt ?? 0;
  if (bytes !== undefined && plan.template !== undefined && target.setNumber !== undefined) {
    // The key order seen last time, numbers only (map-template.ts); else the general way below.
    const { template } = plan;
    if (template.read(plan, target, bytes, start)) {
      if (plan.templateMisses > 0) plan.templateMisses--;
      const { rest } = template;
      for (let k = 0; k < rest.length && bad === undefined; k++) bad = fillMissing(plan, target, rest[k]!, cells, 'publish');
      if (bad === undefined && plan.hasExtras) bad = extras(plan, target, msg.recv, slot);
      if (bad === undefined) target.commit();
      return bad;
    }
    target.mark(); // forget the cells' byte estimate: the general way sets every cell again
    plan.templateMisses++;
  }
  const shape = bytes === undefined ? false : plan.fields.read(bytes, start);
  if (shape === 'map') {
    bad = fromFields(plan, target, plan.fields, cells);
    if (bad === undefined && target.setNumber !== undefined && (plan.templateMisses < MAX_TEMPLATE_MISSES || (plan.templateMisses & 1023) === 0)) {
      plan.template = MapTemplate.learn(bytes!, start, plan.keyNames);
      if (plan.template === undefined) plan.templateMisses++;
    }
  }
  else if (shape === 'list') {
    const { list, listLength } = plan.fields;
    bad = listLength === 0 && plan.hasVars ? fromMap(plan, target, {}, cells, 'publish') : fromArgs(plan, target, list, listLength, cells);
  } else {
    const { args } = msg;
    const first = args[0];
    if (args.length === 1 && (isDataFrameTag(first) || isDataFrame(first))) return fromFrame(plan, target, first, msg.recv, slot, 'publish');
    if (args.length === 1 && isMap(first)) bad = fromMap(plan, target, first, cells, 'publish');
    else if (args.length === 0 && plan.hasVars) bad = fromMap(plan, target, {}, cells, 'publish');
    else bad = fromArgs(plan, target, args, args.length, cells);
  }
  if (bad === undefined && plan.hasExtras) bad = extras(plan, target, msg.recv, slot);
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
    const bad = fromMap(plan, target, map, NO_VARS, 'upsert')
      ?? extras(plan, target, now, null, (col) => (col.extra === 'slot' ? field(map, col.name) : undefined));
    if (bad !== undefined) return maps.length > 1 ? `[${i}]: ${bad}` : bad;
    target.commit();
  }
  return target.rows;
}
