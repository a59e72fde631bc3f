/**
 * Table resolution (spec §8.3 step 1): the first table, in file order, whose topic pattern has
 * as many segments as the topic and whose literal segments equal the topic's; `:name` segments
 * capture. Patterns are compiled once per schema and indexed by segment count and first
 * literal segment, so a topic is compared with few candidates.
 */
import type { Schema, TableDef } from './types.js';

/** A table a topic resolved to, with the values of its `:name` variables. */
export interface TableMatch {
  readonly table: TableDef;
  /** Variable name → topic segment. */
  readonly vars: Readonly<Record<string, string>>;
}

interface Compiled {
  readonly order: number;
  readonly table: TableDef;
  /** Per segment: the literal to equal, or null for a variable. */
  readonly literals: readonly (string | null)[];
  /** Per segment: the variable name, or null for a literal. */
  readonly names: readonly (string | null)[];
}

interface Bucket {
  readonly byFirst: Map<string, Compiled[]>;
  readonly varFirst: Compiled[];
}

const indexes = new WeakMap<Schema, Map<number, Bucket>>();

function compile(schema: Schema): Map<number, Bucket> {
  const index = new Map<number, Bucket>();
  schema.tables.forEach((table, order) => {
    const segments = table.topic.split('/');
    const names = segments.map((s) => (s.startsWith(':') ? s.slice(1) : null));
    const entry: Compiled = { order, table, names, literals: segments.map((s, i) => (names[i] === null ? s : null)) };
    let bucket = index.get(segments.length);
    if (bucket === undefined) index.set(segments.length, bucket = { byFirst: new Map(), varFirst: [] });
    const first = entry.literals[0];
    if (first === null || first === undefined) bucket.varFirst.push(entry);
    else {
      const list = bucket.byFirst.get(first);
      if (list === undefined) bucket.byFirst.set(first, [entry]); else list.push(entry);
    }
  });
  return index;
}

function test(entry: Compiled, segments: readonly string[]): TableMatch | undefined {
  for (let i = 0; i < segments.length; i++) {
    const literal = entry.literals[i];
    if (literal !== null && literal !== segments[i]) return undefined;
  }
  const vars: Record<string, string> = {};
  entry.names.forEach((n, i) => { if (n !== null) vars[n] = segments[i] ?? ''; });
  return { table: entry.table, vars };
}

/**
 * The table a published topic maps to (spec §8.3 step 1).
 *
 * @example
 * ```ts
 * import { matchTable, parseSchema } from 'rembus/broker';
 * const m = matchTable(schema, 'veneto/belluno/temperature');
 * // → { table: <temperature>, vars: { regione: 'veneto', loc: 'belluno' } }
 * ```
 * @param schema A parsed schema (its compiled index is cached per schema object).
 * @param topic The concrete topic of a publish.
 * @returns The first matching table in file order with its captured variables, or
 * `undefined` (the message is then only logged).
 */
export function matchTable(schema: Schema, topic: string): TableMatch | undefined {
  let index = indexes.get(schema);
  if (index === undefined) indexes.set(schema, index = compile(schema));
  const segments = topic.split('/');
  const bucket = index.get(segments.length);
  if (bucket === undefined) return undefined;
  const literal = bucket.byFirst.get(segments[0] ?? '') ?? [];
  const variable = bucket.varFirst;
  // Merge the two candidate lists by file order: the first match wins.
  let i = 0, j = 0;
  while (i < literal.length || j < variable.length) {
    const a = literal[i], b = variable[j];
    const next = b === undefined || (a !== undefined && a.order < b.order) ? (i++, a) : (j++, b);
    const match = next === undefined ? undefined : test(next, segments);
    if (match !== undefined) return match;
  }
  return undefined;
}
