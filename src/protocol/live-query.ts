/**
 * Live queries on schema tables (README "Live queries"), a TS extension of spec §8.4 that a
 * reference client can use unmodified, since it is one RPC plus one topic. Pure.
 *
 * - `live_<t>({ where?, topic?, format? })` answers with the rows of `<t>` matching `where`
 *   now (a DataFrame, or with `format: 'rows'` a list of maps). With `topic`, every row stored
 *   afterwards that matches is then published to the caller alone on `topic`, one PUB per
 *   commit: args `[rows]` (same form as the answer). No row is in both, none is missed.
 * - `unlive_<t>(topic)` stops it (true if it was running). A disconnect stops it too.
 * - A live query the broker ends by itself (its close, a schema stage stopping) gets a last PUB
 *   on its topic with args `[null, { code, reason, message }]`.
 *
 * Refusals answer the RPC with status 41 (method exception) and a message that starts with a
 * stable code, `<CODE>: <reason>`; {@link liveQueryError} rebuilds the typed error from it.
 */
import { RembusError } from '../errors.js';

/** The RPC that starts a live query on table `t` (or takes a one-shot snapshot). */
export const liveMethod = (table: string): string => `live_${table}`;
/** The RPC that stops the live query published on a topic. */
export const unliveMethod = (table: string): string => `unlive_${table}`;
/** Option keys `live_<t>` accepts. */
export const LIVE_OPTIONS = ['where', 'topic', 'format'] as const;

/** A `query$`/`live_<t>` call the broker refuses: bad options, unknown column, bad `where`. */
export class QueryError extends RembusError {
  readonly code = 'QUERY';
  constructor(readonly table: string, readonly reason: string, options?: ErrorOptions) {
    super(`query on '${table}': ${reason}`, options);
    this.name = 'QueryError';
  }
}

/** The table has no live/one-shot query here: not in the broker's schema (or no schema). */
export class UnknownTableError extends RembusError {
  readonly code = 'UNKNOWN_TABLE';
  constructor(readonly table: string, options?: ErrorOptions) {
    super(`table '${table}' is not in the broker's schema`, options);
    this.name = 'UnknownTableError';
  }
}

/**
 * The `where` of a live query uses a construct the broker cannot evaluate on new rows exactly
 * as DuckDB would (`construct` names it, e.g. `regexp_matches`, `INTERVAL`, `CAST AS INTEGER`).
 * The same condition works in a one-shot query.
 */
export class LiveQueryUnsupportedError extends RembusError {
  readonly code = 'LIVE_QUERY_UNSUPPORTED';
  constructor(readonly table: string, readonly construct: string, options?: ErrorOptions) {
    super(`live query on '${table}': ${construct} cannot be evaluated on new rows; use it in a one-shot query`, options);
    this.name = 'LiveQueryUnsupportedError';
  }
}

/** A connection already runs the broker's maximum of live queries (`limit`). */
export class LiveQueryLimitError extends RembusError {
  readonly code = 'LIVE_QUERY_LIMIT';
  constructor(readonly table: string, readonly limit: number, options?: ErrorOptions) {
    super(`live query on '${table}': this connection already runs ${limit} live queries (the broker's limit)`, options);
    this.name = 'LiveQueryLimitError';
  }
}

/** The broker ended a live query by itself (`reason`: closing, overflow, topic reused). */
export class LiveQueryEndedError extends RembusError {
  readonly code = 'LIVE_QUERY_ENDED';
  constructor(readonly table: string, readonly reason: string, options?: ErrorOptions) {
    super(`live query on '${table}' ended by the broker: ${reason}`, options);
    this.name = 'LiveQueryEndedError';
  }
}

/** Codes a refusal message starts with. */
export const LIVE_ERROR_CODES = ['QUERY', 'UNKNOWN_TABLE', 'LIVE_QUERY_UNSUPPORTED', 'LIVE_QUERY_LIMIT', 'LIVE_QUERY_ENDED'] as const;

/** The refusal text sent on the wire: `<CODE>: <message>`. */
export function liveErrorText(err: QueryError | UnknownTableError | LiveQueryUnsupportedError | LiveQueryLimitError | LiveQueryEndedError): string {
  const detail = err instanceof QueryError ? err.reason : err instanceof LiveQueryUnsupportedError ? err.construct
    : err instanceof LiveQueryLimitError ? String(err.limit) : err instanceof LiveQueryEndedError ? err.reason : '';
  return `${err.code}: ${detail}`;
}

/**
 * The typed error a refusal text stands for, or undefined when `text` is no refusal.
 * @param table The queried table.
 * @param text The RESPONSE's data (status 41).
 */
export function liveQueryError(table: string, text: unknown, options?: ErrorOptions): RembusError | undefined {
  if (typeof text !== 'string') return undefined;
  const colon = text.indexOf(': ');
  const code = colon < 0 ? text : text.slice(0, colon);
  const detail = colon < 0 ? '' : text.slice(colon + 2);
  switch (code) {
    case 'QUERY': return new QueryError(table, detail, options);
    case 'UNKNOWN_TABLE': return new UnknownTableError(table, options);
    case 'LIVE_QUERY_UNSUPPORTED': return new LiveQueryUnsupportedError(table, detail, options);
    case 'LIVE_QUERY_LIMIT': return new LiveQueryLimitError(table, Number(detail), options);
    case 'LIVE_QUERY_ENDED': return new LiveQueryEndedError(table, detail, options);
    default: return undefined;
  }
}
