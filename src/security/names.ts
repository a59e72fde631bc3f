/**
 * Component names as the security layer sees them: the tenant of a name (spec §1.2) and the
 * check that a name can safely become a key-file name (spec §3.3 layout). Pure.
 */
import { InvalidNameError } from './errors.js';

/** The tenant of names without a dot, and of single-tenant setups (spec §3.5). */
export const DEFAULT_TENANT = '.';

/**
 * Longest name accepted for a key file: 255 (the usual file-name limit) minus the longest
 * suffix appended to it, `.ecdsa.pem`.
 */
export const MAX_NAME_LENGTH = 245;

const KEY_SUFFIX = /\.(rsa|ecdsa)\.(pem|der)$/;

/**
 * The tenant (domain) of a component name: what follows its first `.`, or `'.'` (spec §1.2).
 * @example
 * ```ts
 * tenantOf('sensor.acme.com'); // 'acme.com'
 * tenantOf('sensor');          // '.'
 * ```
 */
export function tenantOf(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? DEFAULT_TENANT : name.slice(dot + 1);
}

/**
 * Check that `cid` can name a file in the keys directory and return it.
 * Refused: empty; longer than {@link MAX_NAME_LENGTH}; holding `/`, `\`, NUL or `..`; starting
 * with `.` (temporary files live there); ending in a key-file suffix such as `.rsa.pem`, since
 * the bare file `keys/<cid>` of such a name would be another name's key file.
 * @throws InvalidNameError
 */
export function validateKeyName(cid: string): string {
  const reason = cid === '' ? 'empty'
    : cid.length > MAX_NAME_LENGTH ? `longer than ${MAX_NAME_LENGTH} characters`
      : /[/\\\0]/.test(cid) ? 'holds a path separator or NUL'
        : cid.includes('..') ? 'holds ".."'
          : cid.startsWith('.') ? 'starts with "."'
            : KEY_SUFFIX.test(cid) ? 'ends with a key-file suffix'
              : undefined;
  if (reason !== undefined) throw new InvalidNameError(cid, reason);
  return cid;
}
