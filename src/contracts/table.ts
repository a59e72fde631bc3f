/**
 * A contract's table as a table of the schema file (spec §8.2): the contracts become the same
 * JSON document the schema stage reads (`parseSchema`), so a contract table is created, filled,
 * queried and migrated exactly like a table of a schema file. The value columns come from the
 * schema's JSON Schema form (Standard JSON Schema: zod 4, arktype …) unless the contract lists
 * them; the pattern's parameters are TEXT NOT NULL columns. Pure.
 */
import { SchemaError } from '../schema/errors.js';
import type { ContractColumn, TopicContract } from './topic.js';

type Json = Record<string, unknown>;

/** The spec §8.2 `tables[]` entries of the contracts that declare a table, in order. */
export function contractTables(contracts: readonly TopicContract[]): Json[] {
  return contracts.filter((c) => c.table !== undefined).map((c) => {
    const table = c.table!;
    const path = `contract '${c.pattern}'`;
    const values = table.columns ?? columnsFromJsonSchema(jsonSchemaOf(c, path), path);
    const named = new Set(values.map((col) => col.col.toLowerCase()));
    const params: ContractColumn[] = c.compiled.params.filter((p) => !named.has(p.toLowerCase()))
      .map((p) => ({ col: p, type: 'TEXT', nullable: false }));
    const keys = new Set((table.keys ?? []).map((k) => k.toLowerCase()));
    // Key columns are NOT NULL in the schema file; a parameter or required field already is.
    const columns = [...params, ...values].map((col) => (keys.has(col.col.toLowerCase()) ? { ...col, nullable: false } : col));
    return {
      table: table.name, topic: c.pattern, columns,
      ...(table.keys === undefined ? {} : { keys: [...table.keys] }),
      ...(table.extras === undefined ? {} : { extras: { ...table.extras } }),
    };
  });
}

function jsonSchemaOf(c: TopicContract, path: string): Json {
  const converter = (c.schema['~standard'] as { jsonSchema?: { input?: (o: { target: string }) => Json } }).jsonSchema;
  if (typeof converter?.input !== 'function') {
    throw new SchemaError(path, `the ${c.schema['~standard'].vendor} schema has no JSON Schema form (Standard JSON Schema): give the table's columns`);
  }
  try {
    return converter.input({ target: 'draft-2020-12' });
  } catch (err) {
    throw new SchemaError(path, `the schema cannot be converted to JSON Schema (${(err as Error).message}): give the table's columns`, undefined, { cause: err });
  }
}

/**
 * The columns of an object JSON Schema: one per property, in order; a property not `required`,
 * or whose type admits null, is nullable.
 * @throws SchemaError for a schema that is not an object of scalar properties
 */
export function columnsFromJsonSchema(schema: Json, path: string): ContractColumn[] {
  const properties = schema['properties'];
  if (schema['type'] !== 'object' || properties === null || typeof properties !== 'object') {
    throw new SchemaError(path, 'a table needs an object schema (one column per property), or explicit columns');
  }
  const required = new Set(Array.isArray(schema['required']) ? schema['required'] as string[] : []);
  return Object.entries(properties as Record<string, Json>).map(([col, prop]) => {
    const { type, nullable } = scalar(prop, `${path}.${col}`);
    return { col, type, nullable: nullable || !required.has(col) };
  });
}

/** The DuckDB type of one property, and whether it admits null. */
function scalar(prop: Json, path: string): { type: string; nullable: boolean } {
  const variants = Array.isArray(prop['anyOf']) ? prop['anyOf'] as Json[] : Array.isArray(prop['oneOf']) ? prop['oneOf'] as Json[] : [prop];
  const types = variants.flatMap((v) => typesOf(v));
  const nullable = types.includes('null');
  const kinds = [...new Set(types.filter((t) => t !== 'null'))];
  const type = kinds.length === 1 ? COLUMN_OF[kinds[0]!] : kinds.length === 2 && kinds.includes('integer') && kinds.includes('number') ? 'DOUBLE' : undefined;
  if (type === undefined) throw new SchemaError(path, `no column type for JSON Schema ${JSON.stringify(prop)}: give the table's columns`);
  return { type, nullable };
}

function typesOf(v: Json): string[] {
  if (Array.isArray(v['type'])) return v['type'] as string[];
  if (typeof v['type'] === 'string') return [v['type']];
  if ('const' in v) return [v['const'] === null ? 'null' : typeof v['const'] === 'number' ? 'number' : typeof v['const']];
  if (Array.isArray(v['enum'])) return [...new Set((v['enum'] as unknown[]).map((e) => (e === null ? 'null' : typeof e)))];
  return [];
}

const COLUMN_OF: Record<string, string | undefined> = { string: 'TEXT', number: 'DOUBLE', integer: 'BIGINT', boolean: 'BOOLEAN' };
