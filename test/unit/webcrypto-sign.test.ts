/**
 * The browser's login signing (WebCrypto) against the broker's verifier (node:crypto): every key
 * form a user may hold signs a challenge the broker accepts, and a wrong key does not.
 */
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationFor, registrationKey } from '../../src/component/webcrypto-sign.js';
import { AuthError } from '../../src/errors.js';
import { generateKeyPair, parseKeyMaterial, sharedSecretSignature, verifyAttestation } from '../../src/security/crypto.js';

const rsa = generateKeyPair('rsa');
const ec = generateKeyPair('ecdsa');
const challenge = Uint8Array.of(9, 8, 7, 6);
const pem = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('webcrypto attestationFor', () => {
  const forms: [string, string | Uint8Array, string][] = [
    ['RSA PKCS#8 PEM', rsa.privateKey, rsa.publicKey],
    ['RSA PKCS#1 PEM', createPrivateKey(rsa.privateKey).export({ type: 'pkcs1', format: 'pem' }) as string, rsa.publicKey],
    ['RSA PKCS#8 DER', new Uint8Array(createPrivateKey(rsa.privateKey).export({ type: 'pkcs8', format: 'der' })), rsa.publicKey],
    ['ECDSA PKCS#8 PEM', ec.privateKey, ec.publicKey],
    ['ECDSA SEC1 PEM', createPrivateKey(ec.privateKey).export({ type: 'sec1', format: 'pem' }) as string, ec.publicKey],
  ];
  for (const [what, key, publicKey] of forms) {
    it(`signs with a ${what} key as the broker verifies it`, async () => {
      const signature = await attestationFor(challenge, 'alice', key);
      expect(verifyAttestation(challenge, 'alice', signature, parseKeyMaterial(pem(publicKey)))).toBe(true);
      expect(verifyAttestation(challenge, 'mallory', signature, parseKeyMaterial(pem(publicKey)))).toBe(false);
    });
  }

  it('signs with a CryptoKey given as such', async () => {
    const der = new Uint8Array(createPrivateKey(ec.privateKey).export({ type: 'pkcs8', format: 'der' }));
    const key = await crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const signature = await attestationFor(challenge, 'bob', key);
    expect(verifyAttestation(challenge, 'bob', signature, parseKeyMaterial(pem(ec.publicKey)))).toBe(true);
  });

  it('hashes a shared secret (first line) like the Julia reference', async () => {
    expect(await attestationFor(challenge, 'carol', 'open sesame\nignored')).toEqual(sharedSecretSignature(challenge, 'open sesame'));
  });

  it('refuses an empty secret and PEM that is not a private key', async () => {
    await expect(attestationFor(challenge, 'x', '')).rejects.toBeInstanceOf(AuthError);
    await expect(attestationFor(challenge, 'x', rsa.publicKey)).rejects.toBeInstanceOf(AuthError);
    await expect(attestationFor(challenge, 'x', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'))
      .rejects.toBeInstanceOf(AuthError);
  });
});

describe('webcrypto registrationKey', () => {
  it('derives the public key the broker stores, for RSA and ECDSA', async () => {
    for (const [pair, keyType] of [[rsa, 1], [ec, 2]] as const) {
      const reg = await registrationKey(pair.privateKey);
      expect(reg.keyType).toBe(keyType);
      const signature = await attestationFor(challenge, 'dave', pair.privateKey);
      expect(verifyAttestation(challenge, 'dave', signature, parseKeyMaterial(reg.pubkey))).toBe(true);
    }
  });
});
