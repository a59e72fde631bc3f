import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caOptions, findCaFile, keystoreTlsFiles, loadTlsOptions, TlsConfigError } from '../../src/security/index.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-tls-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function failure(promise: Promise<unknown>): Promise<TlsConfigError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TlsConfigError);
  return error as TlsConfigError;
}

describe('loadTlsOptions', () => {
  it('names a missing certificate or key file', async () => {
    const cert = join(dir, 'rembus.crt');
    const key = join(dir, 'rembus.key');
    await writeFile(key, 'x');
    const missingCert = await failure(loadTlsOptions({ cert, key }));
    expect(missingCert.file).toBe(cert);
    expect(missingCert.code).toBe('TLS_CONFIG');
    expect(missingCert.message).toBe(`${cert}: certificate file not found`);
    await rm(key);
    await writeFile(cert, 'x');
    expect((await failure(loadTlsOptions({ cert, key }))).message).toBe(`${key}: private key file not found`);
  });

  it('names an empty or unparsable file', async () => {
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    await writeFile(cert, '');
    await writeFile(key, 'not a key');
    expect((await failure(loadTlsOptions({ cert, key }))).message).toBe(`${cert}: certificate file is empty`);
    await writeFile(cert, 'not a certificate');
    expect((await failure(loadTlsOptions({ cert, key }))).message).toBe(`${cert}: not a PEM certificate`);
  });
});

describe('caOptions', () => {
  it('names a missing or unparsable CA file', async () => {
    const ca = join(dir, 'ca.crt');
    expect((await failure(caOptions(ca))).file).toBe(ca);
    await writeFile(ca, 'junk');
    expect((await failure(caOptions(ca))).message).toBe(`${ca}: not a PEM certificate`);
  });
});

describe('findCaFile / keystoreTlsFiles', () => {
  it('finds the single file of a CA directory', async () => {
    const caDir = join(dir, 'ca');
    expect((await failure(findCaFile(caDir))).file).toBe(caDir);
    await mkdir(caDir);
    expect((await failure(findCaFile(caDir))).message).toContain('found 0');
    await writeFile(join(caDir, 'one.crt'), 'x');
    expect(await findCaFile(caDir)).toBe(join(caDir, 'one.crt'));
    await writeFile(join(caDir, 'two.crt'), 'x');
    expect((await failure(findCaFile(caDir))).message).toContain('found 2');
  });

  it('names rembus.crt and rembus.key in the keystore', () => {
    expect(keystoreTlsFiles('/ks')).toEqual({ cert: join('/ks', 'rembus.crt'), key: join('/ks', 'rembus.key') });
  });
});
