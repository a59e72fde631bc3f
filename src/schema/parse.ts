/**
 * Parse and validate the schema JSON of spec §8.2. Validation is strict: unknown fields, bad
 * types and unsafe names fail with a {@link SchemaError} naming the field, because table and
 * column names end up in SQL.
 */
import { readFile } from 'node:fs/promises';
import { coerce, columnType, INVALID } from './column-types.js';
import { SchemaError } from './errors.js';
import type { ColumnDef, DefaultValue, Schema, TableDef } from './types.js';

/** Names usable as tables and columns (they are used in SQL). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The broker's own tables (spec §8.1) and the stage's scratch prefix. */
const RESERVED_TABLES = new Set(['component', 'message', 'exposer', 'subscriber', 'mark', 'admin',
  'topic_auth', 'tenant', 'wait_ack2']);
const TABLE_KEYS = new Set(['table', 'topic', 'columns', 'keys', 'extras', 'delete_topic', 'format']);
const COLUMN_KEYS = new Set(['col', 'type', 'nullable', 'default']);

type Obj = Record<string, unknown>;

function object(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SchemaError(path, `expected an object, got ${kind(value)}`);
  return value as Obj;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new SchemaError(path, `expected an array, got ${kind(value)}`);
  return value;
}

function name(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new SchemaError(path, `expected a string, got ${kind(value)}`);
  if (!IDENTIFIER.test(value)) throw new SchemaError(path, `'${value}' is not a safe identifier (${IDENTIFIER.source})`);
  return value;
}

function onlyKeys(obj: Obj, allowed: Set<string>, path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) throw new SchemaError(path === '' ? key : `${path}.${key}`, 'unknown field');
  }
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function parseColumn(value: unknown, path: string, keys: ReadonlySet<string>): ColumnDef {
  const obj = object(value, path);
  onlyKeys(obj, COLUMN_KEYS, path);
  const col = name(obj['col'], `${path}.col`);
  const spelled = obj['type'];
  if (typeof spelled !== 'string') throw new SchemaError(`${path}.type`, `expected a string, got ${kind(spelled)}`);
  const type = columnType(spelled);
  if (type === undefined) throw new SchemaError(`${path}.type`, `unknown type '${spelled}'`);
  const isKey = keys.has(col.toLowerCase());
  let nullable = !isKey;
  if ('nullable' in obj) {
    if (typeof obj['nullable'] !== 'boolean') throw new SchemaError(`${path}.nullable`, `expected a boolean, got ${kind(obj['nullable'])}`);
    if (obj['nullable'] && isKey) throw new SchemaError(`${path}.nullable`, `key column '${col}' cannot be nullable`);
    nullable = obj['nullable'] && !isKey;
  }
  if (!('default' in obj)) return { name: col, type, nullable };
  const dflt = obj['default'];
  if (dflt !== null && !['number', 'string', 'boolean'].includes(typeof dflt)) {
    throw new SchemaError(`${path}.default`, `expected a number, string, boolean or null, got ${kind(dflt)}`);
  }
  if (typeof dflt === 'number' && !Number.isFinite(dflt)) throw new SchemaError(`${path}.default`, 'must be finite');
  if (dflt === null ? !nullable : coerce(type, dflt) === INVALID) {
    throw new SchemaError(`${path}.default`, `${JSON.stringify(dflt)} does not fit ${nullable ? '' : 'NOT NULL '}${type}`);
  }
  return { name: col, type, nullable, default: dflt as DefaultValue };
}

function parseTopic(value: unknown, table: string, path: string): string {
  if (value === undefined) return table;
  if (typeof value !== 'string' || value === '') throw new SchemaError(path, `expected a non-empty string, got ${kind(value)}`);
  const vars = new Set<string>();
  for (const segment of value.split('/')) {
    if (segment === '') throw new SchemaError(path, `empty segment in '${value}'`);
    if (segment === '*' || segment === '**') throw new SchemaError(path, `wildcard '${segment}' is not supported: use a :name variable`);
    if (!segment.startsWith(':')) continue;
    const v = segment.slice(1);
    if (!IDENTIFIER.test(v)) throw new SchemaError(path, `variable '${segment}' is not a safe identifier`);
    if (vars.has(v)) throw new SchemaError(path, `variable '${segment}' appears twice`);
    vars.add(v);
  }
  return value;
}

function parseKeys(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  const keys = array(value, path).map((k, i) => name(k, `${path}[${i}]`));
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (seen.has(k.toLowerCase())) throw new SchemaError(`${path}[${i}]`, `duplicate key '${k}'`);
    seen.add(k.toLowerCase());
  });
  return keys;
}

function parseExtras(value: unknown, path: string): TableDef['extras'] {
  if (value === undefined) return {};
  const obj = object(value, path);
  onlyKeys(obj, new Set(['recv_ts', 'slot']), path);
  const recvTs = obj['recv_ts'] === undefined ? undefined : name(obj['recv_ts'], `${path}.recv_ts`);
  const slot = obj['slot'] === undefined ? undefined : name(obj['slot'], `${path}.slot`);
  if (recvTs !== undefined && slot !== undefined && recvTs.toLowerCase() === slot.toLowerCase()) {
    throw new SchemaError(`${path}.slot`, `'${slot}' is also the recv_ts column`);
  }
  return { ...(recvTs === undefined ? {} : { recvTs }), ...(slot === undefined ? {} : { slot }) };
}

function parseTable(value: unknown, path: string): TableDef {
  const obj = object(value, path);
  onlyKeys(obj, TABLE_KEYS, path);
  const table = name(obj['table'], `${path}.table`);
  if (RESERVED_TABLES.has(table.toLowerCase()) || table.toLowerCase().startsWith('__rembus')) {
    throw new SchemaError(`${path}.table`, `'${table}' is reserved by the broker`);
  }
  const topic = parseTopic(obj['topic'], table, `${path}.topic`);
  const keys = parseKeys(obj['keys'], `${path}.keys`);
  const keySet = new Set(keys.map((k) => k.toLowerCase()));
  const columns = array(obj['columns'], `${path}.columns`).map((c, i) => parseColumn(c, `${path}.columns[${i}]`, keySet));
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c.name.toLowerCase())) throw new SchemaError(`${path}.columns[${i}].col`, `duplicate column '${c.name}'`);
    seen.add(c.name.toLowerCase());
  });
  keys.forEach((k, i) => {
    if (!seen.has(k.toLowerCase())) throw new SchemaError(`${path}.keys[${i}]`, `'${k}' is not a column`);
  });
  const extras = parseExtras(obj['extras'], `${path}.extras`);
  const extraCols: ColumnDef[] = [];
  if (extras.recvTs !== undefined) extraCols.push({ name: extras.recvTs, type: 'UBIGINT', nullable: false, extra: 'recv_ts' });
  if (extras.slot !== undefined) extraCols.push({ name: extras.slot, type: 'UINTEGER', nullable: true, extra: 'slot' });
  for (const e of extraCols) {
    if (seen.has(e.name.toLowerCase())) throw new SchemaError(`${path}.extras.${e.extra ?? ''}`, `'${e.name}' is also a column`);
  }
  return { name: table, topic, columns, keys, extras, layout: [...columns, ...extraCols] };
}

/**
 * Validate a schema document (spec §8.2) and return it in typed form.
 *
 * @example
 * ```ts
 * import { parseSchema } from 'rembus/broker';
 * const schema = parseSchema({ tables: [{ table: 'temperature', topic: ':loc/temperature',
 *   columns: [{ col: 'loc', type: 'TEXT' }, { col: 'value', type: 'DOUBLE' }] }] });
 * ```
 * @param json The parsed JSON (an object with a `tables` array).
 * @returns The schema; types are canonical (`TEXT` → `VARCHAR`), `nullable` defaults to true.
 * @throws SchemaError naming the offending field path (e.g. `tables[1].columns[0].type`).
 * @see loadSchemaFile
 */
export function parseSchema(json: unknown): Schema {
  const root = object(json, '');
  onlyKeys(root, new Set(['tables']), '');
  const tables = array(root['tables'], 'tables').map((t, i) => parseTable(t, `tables[${i}]`));
  const seen = new Set<string>();
  tables.forEach((t, i) => {
    if (seen.has(t.name.toLowerCase())) throw new SchemaError(`tables[${i}].table`, `duplicate table '${t.name}'`);
    seen.add(t.name.toLowerCase());
  });
  return { tables };
}

/**
 * Read a schema JSON file and {@link parseSchema} it.
 * @param path The file path.
 * @returns The schema.
 * @throws SchemaError naming the file (and the field) when it cannot be read, is not JSON, or
 * does not validate.
 */
export async function loadSchemaFile(path: string): Promise<Schema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SchemaError('', `cannot read: ${(err as Error).message}`, path, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SchemaError('', `not valid JSON: ${(err as Error).message}`, path, { cause: err });
  }
  try {
    return parseSchema(json);
  } catch (err) {
    if (err instanceof SchemaError) throw new SchemaError(err.path, err.reason, path, { cause: err });
    throw err;
  }
}
