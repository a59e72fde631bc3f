/**
 * TLS material for `wss://` (spec §1.1): the broker's certificate and private key, and the CA
 * bundle a component trusts. Files are read and checked up front so a misconfiguration fails at
 * start with the file named, not at the first handshake.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TlsConfigError } from './errors.js';

/** Paths of the broker's certificate chain and private key (PEM). */
export interface TlsFiles { cert: string; key: string }

/** What `https.createServer` / `tls.createServer` take. */
export interface TlsServerOptions { cert: Buffer; key: Buffer }

/** What a `ws` client (`dialWebSocket(url, { wsOptions })`) takes to trust a private CA. */
export interface TlsClientOptions { ca: Buffer }

/** The broker files in a keystore directory: `rembus.crt` and `rembus.key` (spec §1.1). */
export function keystoreTlsFiles(keystoreDir: string): TlsFiles {
  return { cert: join(keystoreDir, 'rembus.crt'), key: join(keystoreDir, 'rembus.key') };
}

/**
 * Read and check the broker's certificate and key: both must parse and the key must match.
 * @example
 * ```ts
 * import { createServer } from 'node:https';
 * import { loadTlsOptions } from 'rembus/broker';
 * const server = createServer(await loadTlsOptions({ cert: 'rembus.crt', key: 'rembus.key' }));
 * ```
 * @throws TlsConfigError naming the missing or unusable file
 */
export async function loadTlsOptions({ cert, key }: TlsFiles): Promise<TlsServerOptions> {
  const [certPem, keyPem] = await Promise.all([readTlsFile(cert, 'certificate'), readTlsFile(key, 'private key')]);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (err) {
    throw new TlsConfigError(cert, 'not a PEM certificate', { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new TlsConfigError(key, 'not a PEM private key', { cause: err });
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new TlsConfigError(key, `does not match the certificate ${cert}`);
  return { cert: certPem, key: keyPem };
}

/**
 * Read a CA bundle (PEM) for a component to trust.
 * @throws TlsConfigError naming the missing or unusable file
 */
export async function caOptions(caFile: string): Promise<TlsClientOptions> {
  const ca = await readTlsFile(caFile, 'CA bundle');
  try {
    new X509Certificate(ca);
  } catch (err) {
    throw new TlsConfigError(caFile, 'not a PEM certificate', { cause: err });
  }
  return { ca };
}

/**
 * The CA file of a `$REMBUS_DIR/ca` directory: the single file it holds (spec §1.1).
 * @throws TlsConfigError when the directory is missing, empty or holds several files
 */
export async function findCaFile(caDir: string): Promise<string> {
  let entries;
  try {
    entries = await readdir(caDir, { withFileTypes: true });
  } catch (err) {
    throw new TlsConfigError(caDir, 'CA directory not readable', { cause: err });
  }
  const files = entries.filter((e) => e.isFile()).map((e) => join(caDir, e.name));
  if (files.length !== 1) throw new TlsConfigError(caDir, `expected exactly one CA file, found ${files.length}`);
  return files[0]!;
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TlsConfigError(file, code === 'ENOENT' ? `${what} file not found` : `cannot read ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.length === 0) throw new TlsConfigError(file, `${what} file is empty`);
  return bytes;
}
