/**
 * Error classes of the security layer (authentication, provisioning files, TLS). Each carries
 * a stable string `code`. Refusals seen by a component stay `AuthError` (../errors.ts); these
 * are the broker-side and configuration conditions an operator or the broker code acts on.
 */
import { RembusError } from '../errors.js';

/**
 * A component name cannot be used to build a key-file path: empty, too long, or holding `/`,
 * `\`, `..`, NUL, a leading `.` or a key-file suffix (spec §3.3 file layout).
 */
export class InvalidNameError extends RembusError {
  readonly code = 'INVALID_NAME';
  constructor(readonly cid: string, reason: string, options?: ErrorOptions) {
    super(`invalid component name ${JSON.stringify(cid)}: ${reason}`, options);
    this.name = 'InvalidNameError';
  }
}

/** A provisioning file (`tenants.json`, `admins.json`, `topic_auth.json`) is unreadable or malformed. */
export class SecurityConfigError extends RembusError {
  readonly code = 'SECURITY_CONFIG';
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = 'SecurityConfigError';
  }
}

/** A key is already on file for the name (REGISTER answers 60 NAME_ALREADY_TAKEN, spec §3.5). */
export class KeyExistsError extends RembusError {
  readonly code = 'KEY_EXISTS';
  constructor(readonly cid: string, options?: ErrorOptions) {
    super(`a key is already on file for ${JSON.stringify(cid)}`, options);
    this.name = 'KeyExistsError';
  }
}

/** Key material given to sign with is not an RSA or ECDSA private key. */
export class InvalidKeyError extends RembusError {
  readonly code = 'INVALID_KEY';
  constructor(reason: string, options?: ErrorOptions) {
    super(`invalid key: ${reason}`, options);
    this.name = 'InvalidKeyError';
  }
}

/** A TLS certificate, private key or CA file is missing or unusable (spec §1.1). */
export class TlsConfigError extends RembusError {
  readonly code = 'TLS_CONFIG';
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = 'TlsConfigError';
  }
}
