/**
 * Login signatures through WebCrypto (`globalThis.crypto.subtle`: browsers, Deno, Bun, Node ≥ 20),
 * byte for byte what security/crypto.ts makes with node:crypto (spec §3.3, vectors §9): RSA
 * RSASSA-PKCS1-v1_5 or ECDSA with SHA-256 (DER signature) over CBOR `[h'challenge', cid]`, or
 * for a shared secret the SHA-256 of CBOR `[h'challenge', secret]`. Browser-safe.
 */
import { encodeValue } from '../codec/cbor-encode.js';
import { AuthError } from '../errors.js';
import type { ComponentKey } from './types.js';

/** REGISTER `keytype` values (spec §2.2). */
const RSA = 1;
const ECDSA = 2;

type Kind = { keyType: typeof RSA } | { keyType: typeof ECDSA; curve: string; size: number };

// The slice of WebCrypto used here, typed locally: no DOM lib or @types/node needed.
interface CryptoKey { readonly type: string; readonly algorithm: { name: string; namedCurve?: string } }
type Jwk = Record<string, string>;
interface SubtleCrypto {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
  sign(algorithm: string | object, key: CryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  importKey(format: string, data: Uint8Array | Jwk, algorithm: object, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<Jwk>;
  exportKey(format: 'spki', key: CryptoKey): Promise<ArrayBuffer>;
}

const subtle = (): SubtleCrypto => {
  const s = (globalThis as unknown as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (s === undefined) throw new AuthError('this runtime has no WebCrypto (crypto.subtle): cannot sign the login challenge');
  return s;
};

/** The ATTESTATION signature for `key` (see security/crypto.ts `attestationFor`). */
export async function attestationFor(challenge: Uint8Array, cid: string, key: ComponentKey): Promise<Uint8Array> {
  const parsed = await privateKeyOf(key);
  if (parsed === undefined) {
    const secret = secretOf(key);
    return new Uint8Array(await subtle().digest('SHA-256', payload(challenge, secret)));
  }
  const [cryptoKey, kind] = parsed;
  const data = payload(challenge, cid);
  if (kind.keyType === RSA) return new Uint8Array(await subtle().sign('RSASSA-PKCS1-v1_5', cryptoKey, data));
  const raw = new Uint8Array(await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, cryptoKey, data));
  return rawToDer(raw);
}

/** The public half (SPKI PEM bytes) and keytype of a private key, for REGISTER (spec §3.5). */
export async function registrationKey(key: ComponentKey): Promise<{ pubkey: Uint8Array; keyType: number }> {
  const parsed = await privateKeyOf(key, true);
  if (parsed === undefined) throw new AuthError('registration needs an RSA or EC private key');
  const [cryptoKey, kind] = parsed;
  const jwk = await subtle().exportKey('jwk', cryptoKey);
  const pub: Jwk = kind.keyType === RSA ? { kty: 'RSA', n: jwk.n!, e: jwk.e! }
    : { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  const algorithm = kind.keyType === RSA ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: kind.curve };
  const publicKey = await subtle().importKey('jwk', pub, algorithm, true, ['verify']);
  const spki = new Uint8Array(await subtle().exportKey('spki', publicKey));
  const lines = toBase64(spki).match(/.{1,64}/g)!.join('\n');
  return { pubkey: new TextEncoder().encode(`-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`), keyType: kind.keyType };
}

function payload(challenge: Uint8Array, text: string): Uint8Array {
  return encodeValue([new Uint8Array(challenge), text]);
}

/** A CryptoKey given as such, or PEM / DER private key bytes; undefined for a text secret. */
async function privateKeyOf(key: ComponentKey, extractable = false): Promise<[CryptoKey, Kind] | undefined> {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    const k = key as unknown as CryptoKey;
    if (k.algorithm === undefined) throw new AuthError('a key object here must be a WebCrypto CryptoKey');
    const name = k.algorithm.name;
    const curve = k.algorithm.namedCurve ?? 'P-256';
    return [k, name === 'ECDSA' ? { keyType: ECDSA, curve, size: CURVE_SIZE[curve] ?? 32 } : { keyType: RSA }];
  }
  const text = typeof key === 'string' ? key : decodeText(key);
  let der: Uint8Array;
  if (text !== undefined && text.startsWith('-----BEGIN')) {
    const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END/.exec(text);
    if (m === null) throw new AuthError('PEM text that is not a private key');
    der = fromBase64(m[2]!.replace(/\s+/g, ''));
    if (m[1] === 'RSA PRIVATE KEY') der = pkcs8(RSA_ALGORITHM, der);
    else if (m[1] === 'EC PRIVATE KEY') der = pkcs8(ecAlgorithm(der), der);
    else if (m[1] !== 'PRIVATE KEY') throw new AuthError(`a '${m[1]!}' PEM block is not a private key`);
  } else if (key instanceof Uint8Array && key[0] === 0x30) {
    der = key;
  } else {
    return undefined;
  }
  const found = await importPkcs8(der, extractable);
  if (found === undefined) throw new AuthError('not an RSA or EC (P-256/384/521) private key');
  return found;
}

async function importPkcs8(der: Uint8Array, extractable: boolean): Promise<[CryptoKey, Kind] | undefined> {
  const attempts: [object, Kind][] = [
    [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { keyType: RSA }],
    ...Object.entries(CURVE_SIZE).map(([curve, size]): [object, Kind] =>
      [{ name: 'ECDSA', namedCurve: curve }, { keyType: ECDSA, curve, size }]),
  ];
  for (const [algorithm, kind] of attempts) {
    try {
      return [await subtle().importKey('pkcs8', der, algorithm, extractable, ['sign']), kind];
    } catch { /* another algorithm */ }
  }
  return undefined;
}

function secretOf(key: ComponentKey): string {
  const text = typeof key === 'string' ? key : decodeText(key as Uint8Array);
  const secret = text?.split('\n', 1)[0]?.replace(/\r$/, '');
  if (secret === undefined) throw new AuthError('the key is neither a private key nor a text secret');
  if (secret === '') throw new AuthError('empty shared secret');
  return secret;
}

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// ---- DER: just enough to wrap PKCS#1 / SEC1 keys in PKCS#8 and to write ECDSA signatures ----

const CURVE_SIZE: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_OIDS: Record<string, number[]> = {
  'P-256': [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
  'P-384': [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
  'P-521': [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
};
const RSA_ALGORITHM = seq([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01], [0x05, 0x00]);
const EC_PUBLIC_KEY_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/** The AlgorithmIdentifier of a SEC1 key: its curve is named inside it (OpenSSL writes it). */
function ecAlgorithm(sec1: Uint8Array): number[] {
  for (const oid of Object.values(CURVE_OIDS)) {
    if (indexOf(sec1, oid) >= 0) return seq(EC_PUBLIC_KEY_OID, oid);
  }
  throw new AuthError('an EC private key on a curve other than P-256/384/521');
}

function pkcs8(algorithm: number[], key: Uint8Array): Uint8Array {
  return Uint8Array.from(seq([0x02, 0x01, 0x00], algorithm, [0x04, ...len(key.length), ...key]));
}

function seq(...parts: number[][]): number[] {
  const body = parts.flat();
  return [0x30, ...len(body.length), ...body];
}

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** IEEE P1363 `r || s` (WebCrypto) → DER `SEQUENCE { INTEGER r, INTEGER s }` (node:crypto, PY, JL). */
function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const int = (b: Uint8Array): number[] => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = [...b.subarray(i)];
    if (v[0]! >= 0x80) v.unshift(0);
    return [0x02, ...len(v.length), ...v];
  };
  return Uint8Array.from(seq(int(raw.subarray(0, half)), int(raw.subarray(half))));
}

function indexOf(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
