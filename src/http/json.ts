/**
 * JSON bodies of the HTTP room: results of any CBOR type rendered as JSON (bigint → number
 * when exact, else its decimal text; bytes → base64; Map → object; Tag → its value), and
 * request bodies parsed into positional arguments as Rembus.jl does (an array is the argument
 * list, any other value one argument, an empty body none).
 */
import { jsonNestingExceeds, MAX_NESTING } from '../codec/nesting.js';

/** `value` as JSON text. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), x]));
    if (v instanceof Set) return [...v];
    if (typeof v === 'object' && v !== null && 'tag' in v && 'value' in v && v.constructor?.name === 'Tag') return v.value;
    return v;
  });
}

/** The argument list of a request body. @throws SyntaxError for malformed JSON or nesting past {@link MAX_NESTING} */
export function argsOfBody(body: string): unknown[] {
  if (body.trim() === '') return [];
  const value = parseJson(body);
  return Array.isArray(value) ? value : [value];
}

/**
 * `JSON.parse`, refusing what the broker refuses on a WebSocket: nesting past
 * {@link MAX_NESTING} (the encoders would overflow the stack). @throws SyntaxError
 */
export function parseJson(body: string): unknown {
  if (jsonNestingExceeds(body)) throw new SyntaxError(`nested deeper than ${MAX_NESTING} levels`);
  return JSON.parse(body);
}
