/**
 * Lazy access to nodejs-polars, an optional peer (STYLE §2): importing this module loads no
 * native addon; the first call that needs polars does, once.
 */
import { createRequire } from 'node:module';
import type * as Polars from 'nodejs-polars';
import { MissingPackageError } from '../errors.js';

/** The nodejs-polars module namespace. */
export type PolarsModule = typeof Polars;

const require = createRequire(import.meta.url);
/** `undefined`: not tried yet; `null`: tried and not installed. */
let cached: PolarsModule | null | undefined;

/**
 * nodejs-polars, loaded on first use.
 * @returns The module, or `undefined` when it is not installed (or its addon fails to load).
 */
export function loadPolars(): PolarsModule | undefined {
  if (cached === undefined) {
    try {
      cached = require('nodejs-polars') as PolarsModule;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

/**
 * nodejs-polars, loaded on first use.
 * @throws MissingPackageError when nodejs-polars is not installed.
 */
export function requirePolars(): PolarsModule {
  const pl = loadPolars();
  if (pl === undefined) throw new MissingPackageError('nodejs-polars', 'polars DataFrames');
  return pl;
}
