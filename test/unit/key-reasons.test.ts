/**
 * Why a key cannot sign (security/crypto.ts): the reason names the kind of key an operator gave
 * (the public half, an Ed25519 key, broken PEM, binary bytes, nothing), never its bytes. The same
 * reasons reach a component's AuthError and a federation bridge's InvalidKeyError.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationFor, generateKeyPair, InvalidKeyError, registrationKey } from '../../src/security/index.js';

const ec = generateKeyPair('ecdsa');
const ed = generateKeyPairSync('ed25519');
const challenge = Uint8Array.of(1, 2, 3, 4);
const der = (pem: string): Uint8Array => new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' }));

describe('attestationFor and registrationKey with a key that cannot sign', () => {
  it.each([
    ['a PEM public key', () => ec.publicKey, /^invalid key: a public key: signing needs the private key/],
    ['a DER public key', () => der(ec.publicKey), /^invalid key: a public key: signing needs the private key/],
    ['a public KeyObject', () => createPublicKey(ec.publicKey), /^invalid key: a public key: signing needs the private key/],
    ['an Ed25519 PEM private key', () => ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      /^invalid key: a private ed25519 key: only RSA and EC \(ECDSA\) keys sign/],
    ['an Ed25519 DER private key', () => new Uint8Array(ed.privateKey.export({ type: 'pkcs8', format: 'der' })),
      /^invalid key: a private ed25519 key/],
    ['an Ed25519 KeyObject', () => ed.privateKey, /^invalid key: a private ed25519 key/],
    ['PEM that does not parse', () => '-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n', /^invalid key: PEM text that is not a private key$/],
    ['binary bytes', () => Uint8Array.of(0xff, 0xfe, 0x81), /^invalid key: neither a private key nor a text secret$/],
    ['an empty secret', () => '', /^invalid key: empty shared secret$/],
  ])('attestationFor names %s', (_what, key, reason) => {
    const err = (() => { try { attestationFor(challenge, 'x', key()); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(InvalidKeyError);
    expect((err as InvalidKeyError).code).toBe('INVALID_KEY');
    expect((err as Error).message).toMatch(reason);
  });

  it('registrationKey names a public key and an Ed25519 key the same way', () => {
    expect(() => registrationKey(ec.publicKey)).toThrow(/a public key: signing needs the private key/);
    expect(() => registrationKey(ed.privateKey)).toThrow(/a private ed25519 key/);
  });

  it('never puts the key bytes in the reason', () => {
    const body = (ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).split('\n')[1]!;
    const err = (() => { try { attestationFor(challenge, 'x', createPrivateKey(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }))); } catch (e) { return e; } })();
    expect((err as Error).message).not.toContain(body);
    expect((err as Error).message).not.toContain(body.slice(0, 16));
  });

  it('still signs with an EC private key and a text secret', () => {
    expect(attestationFor(challenge, 'x', ec.privateKey).length).toBeGreaterThan(8);
    expect(attestationFor(challenge, 'x', 'a secret').length).toBe(32);
  });
});
