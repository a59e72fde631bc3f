/**
 * Optional peers (DuckDB, nodejs-polars, mqtt, and the durable log engine): loaded only by the
 * feature that needs them, and a missing one becomes a `MissingPackageError` naming the package
 * to install instead of a bare ERR_MODULE_NOT_FOUND.
 */
import { MissingPackageError } from '../errors.js';

/**
 * Run `load` (a dynamic import that reaches `packageName`); when that package is not installed,
 * reject with `MissingPackageError`. Other failures pass unchanged.
 * @example
 * ```ts
 * const { DuckDBInstance } = await importOptional('@duckdb/node-api', 'the durable store', () => import('@duckdb/node-api'));
 * ```
 */
export async function importOptional<T>(packageName: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissing(err, packageName)) throw new MissingPackageError(packageName, feature, { cause: err });
    throw err;
  }
}

/** Is `err` Node's "cannot find package `packageName`" (ESM or CommonJS resolution)? */
export function isMissing(err: unknown, packageName: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = String((err as Error).message);
  return message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`)
    || message.includes(`/${packageName}/`) || message.includes(`'${packageName}/`);
}
