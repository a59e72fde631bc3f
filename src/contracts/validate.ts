/**
 * Running a Standard Schema: synchronously when the schema answers at once (zod, valibot,
 * arktype without async refinements), else through its Promise. Pure.
 */
import { defer, from, of, type Observable } from 'rxjs';
import type { StandardSchemaV1 } from './standard-schema.js';

/** The outcome of one validation. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly StandardSchemaV1.Issue[] };

/** A value of any Standard Schema library. */
export type AnySchema = StandardSchemaV1<any, any>;

/** Validate `value`: a result now, or a Promise of one for an async schema. */
export function check<S extends AnySchema>(schema: S, value: unknown): Checked<StandardSchemaV1.InferOutput<S>> | Promise<Checked<StandardSchemaV1.InferOutput<S>>> {
  const result = schema['~standard'].validate(value);
  return result instanceof Promise ? result.then(outcome) : outcome(result);
}

/** `check` as a cold Observable of its one outcome. */
export function check$<S extends AnySchema>(schema: S, value: unknown): Observable<Checked<StandardSchemaV1.InferOutput<S>>> {
  return defer(() => {
    const result = check(schema, value);
    return result instanceof Promise ? from(result) : of(result);
  });
}

function outcome<T>(result: StandardSchemaV1.Result<T>): Checked<T> {
  return result.issues === undefined ? { ok: true, value: result.value } : { ok: false, issues: result.issues };
}

/** Is `value` a Standard Schema? */
export function isStandardSchema(value: unknown): value is AnySchema {
  const std = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
  return typeof value === 'object' || typeof value === 'function'
    ? std !== undefined && std.version === 1 && typeof std.validate === 'function' : false;
}
