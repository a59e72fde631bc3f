import { constants, createHash, createPrivateKey, createPublicKey, publicDecrypt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attestationFor, equalSecrets, generateKeyPair, InvalidKeyError, InvalidNameError, KEY_TYPE, parseKeyMaterial,
  registrationKey, sharedSecretSignature, signChallenge, signedPayload, tenantOf, validateKeyName, verifyAttestation,
} from '../../src/security/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
const CHALLENGE = Uint8Array.of(1, 2, 3, 4);
const CID = 'mycomponent';
// DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1): what RSASSA-PKCS1-v1_5 wraps the digest in.
const SHA256_DIGEST_INFO = '3031300d060960864801650304020105000420';

describe('signedPayload (vectors §9)', () => {
  it('encodes [h\'01020304\', "mycomponent"] byte for byte', () => {
    expect(hex(signedPayload(CHALLENGE, CID))).toBe('824401020304' + '6b6d79636f6d706f6e656e74');
  });

  it('has the SHA-256 digest given by the vectors', () => {
    expect(createHash('sha256').update(signedPayload(CHALLENGE, CID)).digest('hex'))
      .toBe('a5c1bb275992207dccae8de747a64bcba6fca25b98a673fe1835b60cef22fd89');
  });

  it('returns a plain Uint8Array even for a Buffer challenge', () => {
    const payload = signedPayload(Buffer.from(CHALLENGE), CID);
    expect(payload.constructor).toBe(Uint8Array);
  });
});

describe('sharedSecretSignature (vectors §9)', () => {
  it('hashes CBOR [h\'01020304\', "mysecret"] to the vector digest', () => {
    expect(hex(signedPayload(CHALLENGE, 'mysecret'))).toBe('824401020304' + '686d79736563726574');
    expect(hex(sharedSecretSignature(CHALLENGE, 'mysecret')))
      .toBe('9d8015acb6c3e20cabdc19f30456d2397b45a43ad0c1bb9d72b6d23c86ef4dcb');
  });
});

describe('signChallenge / verifyAttestation', () => {
  let rsa: { publicKey: string; privateKey: string };
  let ec: { publicKey: string; privateKey: string };
  beforeAll(() => {
    rsa = generateKeyPair('rsa');
    ec = generateKeyPair('ecdsa');
  });

  it('signs with RSASSA-PKCS1-v1_5 over the SHA-256 digest of the payload', () => {
    const signature = signChallenge(CHALLENGE, CID, rsa.privateKey);
    expect(signature).toHaveLength(256);
    const recovered = publicDecrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    expect(recovered.toString('hex'))
      .toBe(SHA256_DIGEST_INFO + 'a5c1bb275992207dccae8de747a64bcba6fca25b98a673fe1835b60cef22fd89');
    expect(verifyAttestation(CHALLENGE, CID, signature, utf8(rsa.publicKey))).toBe(true);
  });

  it('signs ECDSA P-256 with a DER (ASN.1 SEQUENCE) signature that verifies', () => {
    const signature = signChallenge(CHALLENGE, CID, ec.privateKey);
    expect(signature[0]).toBe(0x30);
    expect(signature[1]).toBe(signature.length - 2);
    expect(verifyAttestation(CHALLENGE, CID, signature, utf8(ec.publicKey))).toBe(true);
  });

  it('accepts KeyObjects, PKCS#1 PEM, SPKI DER and PKCS#1 DER public keys', () => {
    const rsaPublic = createPublicKey(rsa.publicKey);
    const ecPublic = createPublicKey(ec.publicKey);
    const rsaSig = signChallenge(CHALLENGE, CID, createPrivateKey(rsa.privateKey));
    const ecSig = signChallenge(CHALLENGE, CID, ec.privateKey);
    const pkcs1Pem = rsaPublic.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1Pem).toContain('BEGIN RSA PUBLIC KEY');
    const forms: [Uint8Array, Uint8Array][] = [
      [utf8(pkcs1Pem), rsaSig],
      [new Uint8Array(rsaPublic.export({ type: 'spki', format: 'der' })), rsaSig],
      [new Uint8Array(rsaPublic.export({ type: 'pkcs1', format: 'der' })), rsaSig],
      [new Uint8Array(ecPublic.export({ type: 'spki', format: 'der' })), ecSig],
    ];
    for (const [key, signature] of forms) {
      const material = parseKeyMaterial(key);
      expect(material.type).toBe('public-key');
      expect(verifyAttestation(CHALLENGE, CID, signature, material)).toBe(true);
    }
  });

  it('rejects a tampered signature, another key, another cid and another challenge', () => {
    const signature = signChallenge(CHALLENGE, CID, rsa.privateKey);
    const tampered = Uint8Array.from(signature);
    tampered[10] = tampered[10]! ^ 0xff;
    const key = utf8(rsa.publicKey);
    expect(verifyAttestation(CHALLENGE, CID, tampered, key)).toBe(false);
    expect(verifyAttestation(CHALLENGE, CID, signature, utf8(generateKeyPair('rsa').publicKey))).toBe(false);
    expect(verifyAttestation(CHALLENGE, 'other', signature, key)).toBe(false);
    expect(verifyAttestation(Uint8Array.of(1, 2, 3, 5), CID, signature, key)).toBe(false);
    expect(verifyAttestation(CHALLENGE, CID, signChallenge(CHALLENGE, CID, ec.privateKey), key)).toBe(false);
    expect(verifyAttestation(CHALLENGE, CID, Uint8Array.of(1, 2), utf8(ec.publicKey))).toBe(false);
  });

  it('refuses to sign with something that is not a private key', () => {
    expect(() => signChallenge(CHALLENGE, CID, rsa.publicKey)).toThrow(InvalidKeyError);
    expect(() => signChallenge(CHALLENGE, CID, 'no key')).toThrow(InvalidKeyError);
    expect(() => signChallenge(CHALLENGE, CID, createPublicKey(ec.publicKey))).toThrow(InvalidKeyError);
  });

  it('derives the registration key and keytype from a private key', () => {
    const r = registrationKey(rsa.privateKey);
    expect(r.keyType).toBe(KEY_TYPE.RSA);
    expect(Buffer.from(r.pubkey).toString()).toBe(rsa.publicKey);
    const e = registrationKey(ec.privateKey);
    expect(e.keyType).toBe(KEY_TYPE.ECDSA);
    expect(Buffer.from(e.pubkey).toString()).toBe(ec.publicKey);
  });

  it('signs through attestationFor with a PEM string, PEM bytes or a KeyObject', () => {
    const pairs: [Parameters<typeof attestationFor>[2], string][] = [
      [rsa.privateKey, rsa.publicKey], [utf8(ec.privateKey), ec.publicKey], [createPrivateKey(rsa.privateKey), rsa.publicKey],
    ];
    for (const [key, publicKey] of pairs) {
      expect(verifyAttestation(CHALLENGE, CID, attestationFor(CHALLENGE, CID, key), utf8(publicKey))).toBe(true);
    }
  });
});

describe('shared secrets', () => {
  it('logs in with the first line of a bare key file (JL readline)', () => {
    const material = parseKeyMaterial(utf8('mysecret\r\nignored\n'));
    expect(material).toEqual({ type: 'secret', secret: 'mysecret' });
    const signature = unhex('9d8015acb6c3e20cabdc19f30456d2397b45a43ad0c1bb9d72b6d23c86ef4dcb');
    expect(verifyAttestation(CHALLENGE, CID, signature, material)).toBe(true);
    expect(verifyAttestation(CHALLENGE, CID, attestationFor(CHALLENGE, CID, 'mysecret\n'), material)).toBe(true);
  });

  it('fails for a wrong secret, a truncated digest or the cid-based digest', () => {
    const material = utf8('mysecret');
    expect(verifyAttestation(CHALLENGE, CID, sharedSecretSignature(CHALLENGE, 'other'), material)).toBe(false);
    expect(verifyAttestation(CHALLENGE, CID, sharedSecretSignature(CHALLENGE, 'mysecret').subarray(0, 31), material)).toBe(false);
    expect(verifyAttestation(CHALLENGE, CID, sharedSecretSignature(CHALLENGE, CID), material)).toBe(false);
  });

  it('never treats an empty, binary or corrupt PEM file as a secret', () => {
    expect(parseKeyMaterial(new Uint8Array()).type).toBe('invalid');
    expect(parseKeyMaterial(Uint8Array.of(0xff, 0xfe, 0x00)).type).toBe('invalid');
    const corrupt = utf8('-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n');
    expect(parseKeyMaterial(corrupt).type).toBe('invalid');
    const guess = sharedSecretSignature(CHALLENGE, '-----BEGIN PUBLIC KEY-----');
    expect(verifyAttestation(CHALLENGE, CID, guess, corrupt)).toBe(false);
    expect(() => attestationFor(CHALLENGE, CID, '')).toThrow(InvalidKeyError);
  });

  it('compares PINs in constant time without length shortcuts', () => {
    expect(equalSecrets('11223344', '11223344')).toBe(true);
    expect(equalSecrets('11223344', '1122334')).toBe(false);
    expect(equalSecrets('', 'x')).toBe(false);
  });
});

describe('tenantOf', () => {
  it.each([
    ['sensor.acme.com', 'acme.com'], ['sensor', '.'], ['a.b', 'b'], ['a.', ''], ['x.y.z', 'y.z'],
  ])('%s belongs to tenant %s', (name, tenant) => {
    expect(tenantOf(name)).toBe(tenant);
  });
});

describe('validateKeyName', () => {
  it.each([
    ['', 'empty'], ['../etc/passwd', 'separator'], ['a/b', 'separator'], ['a\\b', 'separator'],
    ['a\0b', 'NUL'], ['..', '".."'], ['a..b', '".."'], ['.hidden', 'starts with'],
    ['x'.repeat(246), 'longer'], ['alice.rsa.pem', 'suffix'], ['bob.ecdsa.der', 'suffix'],
  ])('rejects %j (%s)', (name, reason) => {
    expect(() => validateKeyName(name)).toThrow(InvalidNameError);
    expect(() => validateKeyName(name)).toThrow(reason);
  });

  it.each(['mycomponent', 'sensor.acme.com', 'x'.repeat(245), 'a-b_c@1'])('accepts %j', (name) => {
    expect(validateKeyName(name)).toBe(name);
  });
});
