/**
 * Start-up audit of the admin list (README "Security"): an admin acts only after proving its
 * name (spec §3.3), so an admin without a key or shared secret on file holds no rights at all.
 * The broker warns about each such name when it starts, so the operator learns before relying on it.
 */
import type { Logger } from '../types.js';
import type { SecurityStore } from './types.js';

/** The admins of `store` with no usable key or shared secret on file (unreadable names included). */
export async function adminsWithoutCredentials(store: SecurityStore): Promise<string[]> {
  const missing: string[] = [];
  for (const name of store.admins()) {
    const material = await store.keyFor(name).catch(() => undefined);
    if (material === undefined || material.type === 'invalid') missing.push(name);
  }
  return missing;
}

/** Log a warning for each admin {@link adminsWithoutCredentials} finds. Never rejects. */
export async function warnAdminsWithoutCredentials(store: SecurityStore, log: Logger): Promise<void> {
  for (const admin of await adminsWithoutCredentials(store)) {
    log.warn({ admin }, `admin ${admin} has no key or shared secret on file: it cannot prove its name and has no admin rights`);
  }
}
