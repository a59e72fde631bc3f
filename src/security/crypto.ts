/**
 * Challenge / attestation cryptography (spec §3.3, vectors §9) over node:crypto. Pure: no file
 * or socket I/O. Byte results are plain `Uint8Array`s (not `Buffer`s).
 */
import {
  constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign,
  timingSafeEqual, verify, type KeyObject,
} from 'node:crypto';
import { encodeValue } from '../codec/cbor.js';
import { InvalidKeyError } from './errors.js';

/** REGISTER `keytype` values (spec §2.2): 1 = RSA, 2 = ECDSA. */
export const KEY_TYPE = { RSA: 1, ECDSA: 2 } as const;

/** What a broker key file holds once parsed (spec §3.3). */
export type KeyMaterial =
  | { type: 'public-key'; key: KeyObject }
  | { type: 'secret'; secret: string }
  | { type: 'invalid'; reason: string };

/** A component's private material: a KeyObject, PEM/DER private key, or the text of a shared secret. */
export type ComponentKey = KeyObject | string | Uint8Array;

const PEM = Buffer.from('-----BEGIN');

/** 4 random challenge bytes (spec §3.3; RESPONSE status 11 data). */
export function challengeBytes(): Uint8Array {
  return bytesOf(randomBytes(4));
}

/**
 * The bytes a component signs: CBOR `[h'challenge', cid]` (spec §3.3 step 1, vectors §9).
 * @example
 * ```ts
 * signedPayload(Uint8Array.of(1, 2, 3, 4), 'mycomponent'); // 82 44 01 02 03 04 6b 6d 79 …
 * ```
 */
export function signedPayload(challenge: Uint8Array, cid: string): Uint8Array {
  return bytesOf(encodeValue([bytesOf(challenge), cid]));
}

/**
 * Sign a challenge with an RSA (RSASSA-PKCS1-v1_5, SHA-256) or ECDSA (SHA-256, DER signature) key.
 * @param key private key: KeyObject, PEM (PKCS#8, PKCS#1, SEC1) or DER bytes
 * @throws InvalidKeyError when `key` is not an RSA or EC private key
 * @see verifyAttestation, attestationFor
 */
export function signChallenge(challenge: Uint8Array, cid: string, key: ComponentKey): Uint8Array {
  const privateKey = toPrivateKey(key);
  if (privateKey === undefined) throw new InvalidKeyError(whyNotSigning(key));
  const data = signedPayload(challenge, cid);
  return bytesOf(privateKey.asymmetricKeyType === 'rsa'
    ? sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING })
    : sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }));
}

/** JL shared-secret attestation: SHA-256 of CBOR `[h'challenge', secret]` (32 bytes, vectors §9). */
export function sharedSecretSignature(challenge: Uint8Array, secret: string): Uint8Array {
  return bytesOf(createHash('sha256').update(signedPayload(challenge, secret)).digest());
}

/**
 * The ATTESTATION signature a component sends for its key (what `component(url, { key })` needs).
 * Key material signs (see {@link signChallenge}); any other text is a shared secret, of which
 * the first line is used, as JL reads a `.secret` file.
 * @throws InvalidKeyError for PEM text that is not a usable private key
 */
export function attestationFor(challenge: Uint8Array, cid: string, key: ComponentKey): Uint8Array {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) return signChallenge(challenge, cid, key);
  const bytes = typeof key === 'string' ? Buffer.from(key) : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (isPem(bytes) || toPrivateKey(bytes) !== undefined) return signChallenge(challenge, cid, bytes);
  const secret = firstLine(bytes);
  if (secret === undefined) throw new InvalidKeyError(whyNotSigning(bytes, 'neither a private key nor a text secret'));
  if (secret === '') throw new InvalidKeyError('empty shared secret');
  return sharedSecretSignature(challenge, secret);
}

/**
 * Parse a broker key file: PEM SPKI, PEM PKCS#1 RSA, DER SPKI or DER PKCS#1 give a public key;
 * anything else is a shared secret (its first line, as JL reads it). Empty files, non-UTF-8
 * bytes and PEM text that does not parse are `invalid`: never usable as a secret, so a corrupt
 * key file cannot be "guessed" (spec §12: a corrupted key file makes login fail).
 */
export function parseKeyMaterial(bytes: Uint8Array): KeyMaterial {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPem(buf)) {
    const key = attempt(() => createPublicKey({ key: buf, format: 'pem' }));
    return usable(key) ?? { type: 'invalid', reason: 'PEM text is not an RSA or EC key' };
  }
  const der = attempt(() => createPublicKey({ key: buf, format: 'der', type: 'spki' }))
    ?? attempt(() => createPublicKey({ key: buf, format: 'der', type: 'pkcs1' }));
  const parsed = usable(der);
  if (parsed !== undefined) return parsed;
  const secret = firstLine(buf);
  if (secret === undefined) return { type: 'invalid', reason: 'neither a key nor a text secret' };
  return secret === '' ? { type: 'invalid', reason: 'empty key file' } : { type: 'secret', secret };
}

/**
 * Check an ATTESTATION signature (spec §3.3 step 4) against key material or raw key-file bytes.
 * Secrets are compared in constant time. Never throws: anything unusable is `false`.
 * @example
 * ```ts
 * verifyAttestation(challenge, 'mycomponent', signature, parseKeyMaterial(fileBytes));
 * ```
 */
export function verifyAttestation(
  challenge: Uint8Array, cid: string, signature: Uint8Array, material: KeyMaterial | Uint8Array,
): boolean {
  const parsed = material instanceof Uint8Array ? parseKeyMaterial(material) : material;
  switch (parsed.type) {
    case 'public-key': {
      const key = parsed.key;
      const data = signedPayload(challenge, cid);
      return attempt(() => key.asymmetricKeyType === 'rsa'
        ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
        : verify('sha256', data, { key, dsaEncoding: 'der' }, signature)) ?? false;
    }
    case 'secret': {
      const expected = sharedSecretSignature(challenge, parsed.secret);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    }
    case 'invalid': return false;
  }
}

/** Compare two secrets (PINs) in constant time: both are hashed first, so lengths do not leak. */
export function equalSecrets(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The public half and REGISTER keytype of a private key (what a component registers, spec §3.5). */
export function registrationKey(privateKey: ComponentKey): { pubkey: Uint8Array; keyType: number } {
  const key = toPrivateKey(privateKey);
  if (key === undefined) throw new InvalidKeyError(whyNotSigning(privateKey));
  const pem = createPublicKey(key).export({ type: 'spki', format: 'pem' });
  return { pubkey: bytesOf(Buffer.from(pem)), keyType: key.asymmetricKeyType === 'rsa' ? KEY_TYPE.RSA : KEY_TYPE.ECDSA };
}

/**
 * A fresh key pair as PEM text (public SPKI, private PKCS#8): RSA-2048 or ECDSA P-256, the sizes
 * PY generates (spec §3.3). For tests and the CLI.
 */
export function generateKeyPair(kind: 'rsa' | 'ecdsa'): { publicKey: string; privateKey: string } {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  return kind === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
    : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding });
}

function toPrivateKey(key: ComponentKey): KeyObject | undefined {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    return key.type === 'private' && isRsaOrEc(key) ? key : undefined;
  }
  const buf = typeof key === 'string' ? Buffer.from(key) : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const parsed = isPem(buf) ? attempt(() => createPrivateKey({ key: buf, format: 'pem' }))
    : attempt(() => createPrivateKey({ key: buf, format: 'der', type: 'pkcs8' }))
      ?? attempt(() => createPrivateKey({ key: buf, format: 'der', type: 'pkcs1' }))
      ?? attempt(() => createPrivateKey({ key: buf, format: 'der', type: 'sec1' }));
  return parsed !== undefined && isRsaOrEc(parsed) ? parsed : undefined;
}

/**
 * Why `key` cannot sign, in words an operator can act on: the public half given for the private
 * one (the usual mix-up of the two files), or a key type Rembus logins do not use. Names the
 * kind of key only, never its bytes.
 */
function whyNotSigning(key: ComponentKey, otherwise = 'not an RSA or EC private key'): string {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    if (key.type !== 'private') return `a ${key.type} key: signing needs the private key`;
    return `a private ${key.asymmetricKeyType ?? 'unknown'} key: only RSA and EC (ECDSA) keys sign a login`;
  }
  const buf = typeof key === 'string' ? Buffer.from(key) : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const pem = isPem(buf);
  const asPrivate = attempt(() => createPrivateKey(pem ? { key: buf, format: 'pem' } : { key: buf, format: 'der', type: 'pkcs8' }));
  if (asPrivate !== undefined) return `a private ${asPrivate.asymmetricKeyType ?? 'unknown'} key: only RSA and EC (ECDSA) keys sign a login`;
  const asPublic = pem ? attempt(() => createPublicKey({ key: buf, format: 'pem' }))
    : attempt(() => createPublicKey({ key: buf, format: 'der', type: 'spki' }));
  if (asPublic !== undefined) return 'a public key: signing needs the private key (the public one goes to the broker)';
  return pem ? 'PEM text that is not a private key' : otherwise;
}

function usable(key: KeyObject | undefined): KeyMaterial | undefined {
  return key !== undefined && isRsaOrEc(key) ? { type: 'public-key', key } : undefined;
}

function isRsaOrEc(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ec';
}

function isPem(bytes: Uint8Array): boolean {
  return bytes.length >= PEM.length && PEM.every((b, i) => bytes[i] === b);
}

/** The first line of UTF-8 text without its line ending, or undefined for non-UTF-8 bytes. */
function firstLine(bytes: Uint8Array): string | undefined {
  const text = attempt(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  return text?.split('\n', 1)[0]?.replace(/\r$/, '');
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** A plain Uint8Array copy (a `Buffer` would leak Node types to callers). */
function bytesOf(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
