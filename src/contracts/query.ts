/**
 * `query$(contract, { where })`: the broker's `query_<table>` RPC of a contract table (spec
 * §8.4), its DataFrame answer turned into typed rows. Browser-safe: the DataFrame arrives in the
 * process's representation (polars on Node, an apache-arrow Table with `arrowFrames`).
 */
import { map, throwError, type Observable } from 'rxjs';
import { NotSupportedError, RembusError } from '../errors.js';
import type { ContractHost } from './client.js';
import type { TopicContract, TopicRow } from './topic.js';

/** Options of `query$` on a contract. */
export interface ContractQueryOptions {
  /** A SQL condition over the table's columns (`query_<t>` `where`, spec §8.4). Default: every row. */
  readonly where?: string;
  /** Emit the DataFrame as received instead of rows. Default false. */
  readonly frame?: boolean;
}

/** The contract has no table (`topic(pattern, schema, { table })`). */
export class ContractTableError extends RembusError {
  readonly code = 'CONTRACT_NO_TABLE';
  constructor(readonly contract: string, options?: ErrorOptions) {
    super(`contract '${contract}' declares no table`, options);
    this.name = 'ContractTableError';
  }
}

/**
 * Cold: one `query_<table>` call; emits the rows (or the DataFrame with `frame: true`) and completes.
 * Errors: ContractTableError, NotSupportedError (a DataFrame representation without rows: `ArrowIpc`),
 * and those of `call$` (`RpcError` 40 for a refused `where`).
 */
export function queryContract$<C extends TopicContract>(host: ContractHost, contract: C,
  options: ContractQueryOptions = {}): Observable<readonly TopicRow<C>[] | unknown> {
  const table = contract.table?.name;
  if (table === undefined) return throwError(() => new ContractTableError(contract.pattern));
  const args = options.where === undefined ? [] : [{ where: options.where }];
  const answer$ = host.call$<unknown>(`query_${table}`, args, { stream: false });
  return options.frame === true ? answer$ : answer$.pipe(map((frame) => rowsOf(frame) as TopicRow<C>[]));
}

/** The rows of a polars DataFrame or an apache-arrow Table, as plain objects. */
export function rowsOf(frame: unknown): Record<string, unknown>[] {
  const f = frame as { toRecords?: () => Record<string, unknown>[]; toArray?: () => unknown[]; schema?: unknown } | null;
  if (typeof f?.toRecords === 'function') return f.toRecords();
  if (typeof f?.toArray === 'function' && f.schema !== undefined) {
    return f.toArray().map((r) => (typeof (r as { toJSON?: unknown }).toJSON === 'function'
      ? (r as { toJSON(): Record<string, unknown> }).toJSON() : r as Record<string, unknown>));
  }
  throw new NotSupportedError('rows of this DataFrame representation (use nodejs-polars, or useDataFrames(arrowFrames(arrow)))');
}
