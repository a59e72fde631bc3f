/**
 * `topic(pattern, schema)`: one declaration that types a topic family, validates it on both
 * ends and (at a broker that has it) stores it in a table. Pure: browser-safe.
 */
import { compilePattern, type CompiledPattern, type Params } from './params.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { isStandardSchema, type AnySchema } from './validate.js';

/** One explicit column of a contract table (spec §8.2 `columns[]`), for a schema without a JSON Schema form. */
export interface ContractColumn {
  readonly col: string;
  /** A DuckDB type name (TEXT, DOUBLE, BIGINT, BOOLEAN, TIMESTAMP, …). */
  readonly type: string;
  /** Default true (key columns never are). */
  readonly nullable?: boolean;
  readonly default?: number | string | boolean | null;
}

/** Where a broker stores a contract's publishes (spec §8): `broker({ contracts })`. */
export interface ContractTable {
  /** The DuckDB table name (a safe identifier); its RPC is `query_<name>`. */
  readonly name: string;
  /** Key columns: upsert on key; default none (append-only). */
  readonly keys?: readonly string[];
  /**
   * The value columns. Default: read from the schema's JSON Schema form (Standard JSON Schema,
   * e.g. zod 4, or `toJSONSchema`); give them when the schema has none. The pattern's parameters
   * are always columns (TEXT NOT NULL) unless listed here.
   */
  readonly columns?: readonly ContractColumn[];
  /** Broker-filled columns: receive time (UBIGINT ns), slot (UINTEGER). Default none. */
  readonly extras?: { readonly recv_ts?: string; readonly slot?: string };
}

/** Options of {@link topic}. */
export interface TopicContractOptions {
  /** Store the publishes in a broker table (a name, or the table's options). Default: no table. */
  readonly table?: string | ContractTable;
}

/** A typed topic family: pattern `P` (with `:name` parameters), values of schema `S`. */
export interface TopicContract<P extends string = string, S extends AnySchema = AnySchema> {
  readonly kind: 'topic';
  readonly pattern: P;
  readonly schema: S;
  /** The parsed pattern (subscription pattern, parameter names). */
  readonly compiled: CompiledPattern;
  /** The broker table, when declared. */
  readonly table?: ContractTable;
}

/** What a publisher passes: the schema's input type. */
export type TopicInput<C extends TopicContract> = StandardSchemaV1.InferInput<C['schema']>;
/** What a subscriber gets: the schema's output type. */
export type TopicValue<C extends TopicContract> = StandardSchemaV1.InferOutput<C['schema']>;
/** A stored row of a contract table: the parameters and the value's fields. */
export type TopicRow<C extends TopicContract> = Params<C['pattern']> & TopicInput<C>;

/**
 * Declare a typed topic family.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { topic } from 'rembus';
 * const telemetry = topic('plant/:site/:dn/telemetry', z.object({ temp: z.number() }));
 * node.subscribe$(telemetry).subscribe(({ params, value }) => console.log(params.site, value.temp));
 * node.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 21.5 });
 * ```
 * @param pattern `/`-separated; a `:name` segment is a parameter matching one topic segment
 * @param schema any Standard Schema (zod, valibot, arktype …) for the one published value
 * @param options a broker table
 * @throws InvalidTopicError for a bad pattern; TypeError when `schema` is not a Standard Schema
 * @see method
 */
export function topic<const P extends string, S extends AnySchema>(pattern: P, schema: S, options: TopicContractOptions = {}): TopicContract<P, S> {
  if (!isStandardSchema(schema)) throw new TypeError(`topic('${pattern}'): the schema is not a Standard Schema (v1)`);
  const compiled = compilePattern(pattern);
  const table = typeof options.table === 'string' ? { name: options.table } : options.table;
  return Object.freeze(table === undefined ? { kind: 'topic', pattern, schema, compiled }
    : { kind: 'topic', pattern, schema, compiled, table });
}

/** Is `value` a topic contract? */
export function isTopicContract(value: unknown): value is TopicContract {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'topic';
}
