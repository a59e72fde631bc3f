/**
 * Errors of schema-driven tables: a schema that does not validate, and a per-table RPC
 * called with arguments it cannot accept (the broker answers those with status 40).
 */
import { RembusError } from '../errors.js';

/**
 * The schema JSON (spec §8.2) is not valid. `path` names the offending field, e.g.
 * `tables[1].columns[0].type`, and starts the message.
 *
 * @example
 * ```ts
 * import { parseSchema, SchemaError } from 'rembus/broker';
 * try { parseSchema(json); } catch (e) { if (e instanceof SchemaError) console.error(e.path, e.message); }
 * ```
 */
export class SchemaError extends RembusError {
  readonly code = 'SCHEMA';
  /**
   * @param path The offending field, e.g. `tables[1].columns[0].type` ('' for the document).
   * @param reason What is wrong with it.
   * @param file The schema file it was read from, when there is one.
   */
  constructor(readonly path: string, readonly reason: string, readonly file?: string, options?: ErrorOptions) {
    super(`${file === undefined ? '' : `schema file ${file}: `}${path === '' ? '' : `${path}: `}${reason}`, options);
    this.name = 'SchemaError';
  }
}

/**
 * A `query_<t>`, `delete_<t>` or `upsert_<t>` call (spec §8.4) had arguments it cannot
 * accept: an unknown option key, a `where` outside the allowed grammar, an unknown column, a
 * `when` on a database without time travel, or rows that do not fit the table.
 */
export class TableRpcError extends RembusError {
  readonly code = 'TABLE_RPC';
  constructor(readonly method: string, reason: string, options?: ErrorOptions) {
    super(`${method}: ${reason}`, options);
    this.name = 'TableRpcError';
  }
}

/**
 * A `where` condition is outside the allowed grammar (see `compileWhere`). `position` is the
 * character offset of the offending token.
 */
export class WhereClauseError extends RembusError {
  readonly code = 'WHERE_CLAUSE';
  constructor(reason: string, readonly position: number, options?: ErrorOptions) {
    super(`invalid where clause at ${position}: ${reason}`, options);
    this.name = 'WhereClauseError';
  }
}
