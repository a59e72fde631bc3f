/**
 * Table resolution (spec §8.3 step 1): the first table, in file order, whose topic pattern has
 * as many segments as the topic and whose literal segments equal the topic's; `:name` segments
 * capture. Patterns are compiled once per schema and indexed by segment count and first
 * literal segment, so a topic is compared with few candidates; the answers for recent topics
 * are cached (bounded), since telemetry repeats the same topics at a high rate.
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

interface Index {
  readonly buckets: Map<number, Bucket>;
  /** Topic → its match, or null for none: the last {@link MAX_CACHED_TOPICS} topics resolved. */
  readonly cache: Map<string, TableMatch | null>;
}

/**
 * Topics whose answer is kept. A hit saves splitting the topic and a vars object; past the bound
 * the oldest entry goes first, so a stream of ever-new topics costs one delete per miss and the
 * memory stays at a few MB (topic, match and vars per entry).
 */
export const MAX_CACHED_TOPICS = 10_000;

const indexes = new WeakMap<Schema, Index>();

function compile(schema: Schema): Index {
  const buckets = new Map<number, Bucket>();
  schema.tables.forEach((table, order) => {
    const segments = table.topic.split('/');
    const names = segments.map((s) => (s.startsWith(':') ? s.slice(1) : null));
    const entry: Compiled = { order, table, names, literals: segments.map((s, i) => (names[i] === null ? s : null)) };
    let bucket = buckets.get(segments.length);
    if (bucket === undefined) buckets.set(segments.length, bucket = { byFirst: new Map(), varFirst: [] });
    const first = entry.literals[0];
    if (first === null || first === undefined) bucket.varFirst.push(entry);
    else {
      const list = bucket.byFirst.get(first);
      if (list === undefined) bucket.byFirst.set(first, [entry]); else list.push(entry);
    }
  });
  return { buckets, cache: new Map() };
}

function test(entry: Compiled, segments: readonly string[]): TableMatch | undefined {
  for (let i = 0; i < segments.length; i++) {
    const literal = entry.literals[i];
    if (literal !== null && literal !== segments[i]) return undefined;
  }
  const vars: Record<string, string> = {};
  entry.names.forEach((n, i) => { if (n !== null) vars[n] = segments[i] ?? ''; });
  // Shared through the cache: nobody may change it.
  return Object.freeze({ table: entry.table, vars: Object.freeze(vars) });
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
 * `undefined` (the message is then only logged). The same topic may get the same (frozen)
 * object back.
 */
export function matchTable(schema: Schema, topic: string): TableMatch | undefined {
  let index = indexes.get(schema);
  if (index === undefined) indexes.set(schema, index = compile(schema));
  const cached = index.cache.get(topic);
  if (cached !== undefined) return cached ?? undefined;
  const match = resolve(index.buckets, topic);
  if (index.cache.size >= MAX_CACHED_TOPICS) index.cache.delete(index.cache.keys().next().value!);
  index.cache.set(topic, match ?? null);
  return match;
}

function resolve(buckets: Map<number, Bucket>, topic: string): TableMatch | undefined {
  const segments = topic.split('/');
  const bucket = buckets.get(segments.length);
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
