/**
 * Topic patterns with named parameters: `plant/:site/:dn/telemetry`. A `:name` segment matches
 * one topic segment and names it, as in the schema file's `topic` (spec §8.2). At the type level
 * the names are read from the pattern string; at run time the pattern becomes a subscription
 * pattern (`:name` → `*`) and received topics are split back into parameters. Pure.
 */
import { InvalidTopicError } from '../errors.js';
import { ContractParamsError } from './errors.js';

/** The segments of `P`, a union. */
type Segments<P extends string> = P extends `${infer Head}/${infer Rest}` ? Head | Segments<Rest> : P;

/** The parameter names of pattern `P`: `'site' | 'dn'` for `plant/:site/:dn/telemetry`. */
export type ParamNames<P extends string> = Segments<P> extends infer S ? S extends `:${infer N}` ? N : never : never;

/** The parameters of pattern `P`, one string each; `{}` for a pattern without any. */
export type Params<P extends string> = { readonly [K in ParamNames<P>]: string };

/** A pattern parsed once: its segments and parameter names. */
export interface CompiledPattern {
  readonly pattern: string;
  /** A literal segment, or `{ param }` for `:param`. */
  readonly segments: readonly (string | { readonly param: string })[];
  readonly params: readonly string[];
  /** The subscription pattern: every `:name` segment as `*`. */
  readonly subscription: string;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Parse a contract pattern.
 * @throws InvalidTopicError for an empty segment, a wildcard (`*`, `**`: a contract names one
 * topic shape), a `:` segment that is not `:identifier`, or a parameter named twice
 */
export function compilePattern(pattern: string): CompiledPattern {
  if (typeof pattern !== 'string' || pattern === '') throw new InvalidTopicError(pattern, 'a contract pattern is a non-empty string');
  const params: string[] = [];
  const segments = pattern.split('/').map((segment) => {
    if (segment === '') throw new InvalidTopicError(pattern, 'empty segment');
    if (segment.includes('*')) throw new InvalidTopicError(pattern, "a contract pattern takes ':name' segments, not wildcards");
    if (!segment.startsWith(':')) return segment;
    const name = PARAM.exec(segment)?.[1];
    if (name === undefined) throw new InvalidTopicError(pattern, `'${segment}' is not ':identifier'`);
    if (params.includes(name)) throw new InvalidTopicError(pattern, `parameter '${name}' appears twice`);
    params.push(name);
    return { param: name };
  });
  const subscription = segments.map((s) => (typeof s === 'string' ? s : '*')).join('/');
  return { pattern, segments, params, subscription };
}

/**
 * The concrete topic of `params` on `compiled`.
 * @throws ContractParamsError when a parameter is missing, empty, not a string, or holds `/` or `*`
 */
export function topicOf(compiled: CompiledPattern, params: Readonly<Record<string, unknown>>): string {
  return compiled.segments.map((s) => {
    if (typeof s === 'string') return s;
    const value = params[s.param];
    if (typeof value !== 'string') throw new ContractParamsError(compiled.pattern, s.param, `expected a string, got ${value === null ? 'null' : typeof value}`);
    if (value === '' || value.includes('/') || value.includes('*')) {
      throw new ContractParamsError(compiled.pattern, s.param, `'${value}' is not one topic segment`);
    }
    return value;
  }).join('/');
}

/** The parameters of `topic` on `compiled`, or undefined when the topic does not fit the pattern. */
export function paramsOf(compiled: CompiledPattern, topic: string): Record<string, string> | undefined {
  const parts = topic.split('/');
  if (parts.length !== compiled.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const s = compiled.segments[i]!;
    const part = parts[i]!;
    if (typeof s === 'string') {
      if (s !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[s.param] = part;
    }
  }
  return params;
}
