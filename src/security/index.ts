/**
 * Security: challenge/attestation crypto, the file-store provisioning, the broker's
 * authentication and authorization decisions, and TLS material (Node only).
 */
export {
  attestationFor, challengeBytes, equalSecrets, generateKeyPair, KEY_TYPE, parseKeyMaterial, registrationKey,
  sharedSecretSignature, signChallenge, signedPayload, verifyAttestation,
} from './crypto.js';
export type { ComponentKey, KeyMaterial } from './crypto.js';
export { ADMINS_FILE, KEYS_DIR, openSecurityStore, TENANTS_FILE, TOPIC_AUTH_FILE } from './file-store.js';
export { memorySecurityStore } from './memory-store.js';
export type { MemorySecurityConfig } from './memory-store.js';
export type { SecurityStore } from './types.js';
export { DEFAULT_TENANT, MAX_NAME_LENGTH, tenantOf, validateKeyName } from './names.js';
export { createAuthenticator, newLoginState } from './authenticator.js';
export type {
  Authenticator, AuthenticatorOptions, AuthMode, AuthReply, Identity, LoginState, SecurityAction,
} from './authenticator.js';
export { SECURITY_ADMIN_COMMANDS, securityAdminCommand } from './admin-commands.js';
export { caOptions, findCaFile, keystoreTlsFiles, loadTlsOptions } from './tls.js';
export type { TlsClientOptions, TlsFiles, TlsServerOptions } from './tls.js';
export { InvalidKeyError, InvalidNameError, KeyExistsError, SecurityConfigError, TlsConfigError } from './errors.js';
