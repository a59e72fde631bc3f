/**
 * `method(name, args, result)`: a typed RPC, validated by the caller (arguments before sending,
 * the result on receipt) and by the exposer (arguments on receipt, its handler's result before
 * answering). Pure: browser-safe.
 */
import type { Observable } from 'rxjs';
import { validateTopic } from '../topic/validate.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { isStandardSchema, type AnySchema } from './validate.js';

/** The arguments of a method: one schema for one argument, or a list of schemas, one per positional argument. */
export type ArgsSchema = AnySchema | readonly AnySchema[];

/** A typed RPC method. */
export interface MethodContract<N extends string = string, A extends ArgsSchema = ArgsSchema, R extends AnySchema = AnySchema> {
  readonly kind: 'method';
  readonly name: N;
  readonly args: A;
  readonly result: R;
}

type InputsOf<A extends readonly AnySchema[]> = { -readonly [K in keyof A]: StandardSchemaV1.InferInput<A[K]> };
type OutputsOf<A extends readonly AnySchema[]> = { -readonly [K in keyof A]: StandardSchemaV1.InferOutput<A[K]> };

/** The caller's arguments of `M` (schema inputs). */
export type MethodArgs<M extends MethodContract> = M['args'] extends readonly AnySchema[] ? InputsOf<M['args']>
  : M['args'] extends AnySchema ? [StandardSchemaV1.InferInput<M['args']>] : never;
/** What the handler of `M` receives (schema outputs). */
export type MethodParams<M extends MethodContract> = M['args'] extends readonly AnySchema[] ? OutputsOf<M['args']>
  : M['args'] extends AnySchema ? [StandardSchemaV1.InferOutput<M['args']>] : never;
/** What the caller of `M` gets. */
export type MethodResult<M extends MethodContract> = StandardSchemaV1.InferOutput<M['result']>;
/** What the handler of `M` returns: the result schema's input, as a value, Promise or Observable. */
export type MethodHandler<M extends MethodContract> = (...args: MethodParams<M>) =>
  StandardSchemaV1.InferInput<M['result']> | Promise<StandardSchemaV1.InferInput<M['result']>> | Observable<StandardSchemaV1.InferInput<M['result']>>;

/**
 * Declare a typed RPC method.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { method } from 'rembus';
 * const add = method('add', [z.number(), z.number()], z.number());
 * server.expose(add, (a, b) => a + b);
 * const sum = await client.rpc(add, 1, 2); // number
 * ```
 * @param name the method (a topic)
 * @param args a list of schemas, one per positional argument, or one schema for a single argument
 * @param result the schema of the answer
 * @throws InvalidTopicError for a bad name; TypeError when a schema is not a Standard Schema
 * @see topic
 */
export function method<const N extends string, const A extends ArgsSchema, R extends AnySchema>(name: N, args: A, result: R): MethodContract<N, A, R> {
  validateTopic(name);
  const schemas = Array.isArray(args) ? args as readonly unknown[] : [args];
  if (!schemas.every(isStandardSchema) || !isStandardSchema(result)) {
    throw new TypeError(`method('${name}'): every schema must be a Standard Schema (v1)`);
  }
  return Object.freeze({ kind: 'method', name, args, result });
}

/** Is `value` a method contract? */
export function isMethodContract(value: unknown): value is MethodContract {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'method';
}
