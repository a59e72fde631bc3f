/** Optional peers (issue 15): a missing package is a MissingPackageError naming it; other failures pass. */
import { describe, expect, it } from 'vitest';
import { MissingPackageError } from '../../src/errors.js';
import { importOptional } from '../../src/internal/optional.js';

describe('importOptional', () => {
  it('names the package to install when it is missing', async () => {
    const missing = 'rembus-test-package-that-does-not-exist';
    const err = await importOptional(missing, 'the test feature', () => import(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    expect((err as MissingPackageError).code).toBe('MISSING_PACKAGE');
    expect((err as MissingPackageError).packageName).toBe(missing);
    expect((err as Error).message).toBe(`the test feature needs the optional package '${missing}': npm install ${missing}`);
  });

  it('passes other failures, and a missing other package, unchanged', async () => {
    const boom = new Error('boom');
    await expect(importOptional('mqtt', 'x', () => Promise.reject(boom))).rejects.toBe(boom);
    const otherName = 'rembus-test-other-missing';
    const other = await importOptional('mqtt', 'x', () => import(otherName)).catch((e: unknown) => e);
    expect(other).not.toBeInstanceOf(MissingPackageError);
  });

  it('resolves with the module when it is there', async () => {
    expect(typeof (await importOptional('cbor-x', 'x', () => import('cbor-x'))).decode).toBe('function');
  });
});
