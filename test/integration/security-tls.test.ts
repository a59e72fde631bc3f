/**
 * wss:// with files produced by openssl: a private CA signs a certificate for 127.0.0.1; the
 * server side uses loadTlsOptions, the client trusts the CA through caOptions (spec §1.1).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { broker } from '../../src/broker/index.js';
import { ConnectionError } from '../../src/errors.js';
import { connect } from '../../src/index.js';
import { caOptions, keystoreTlsFiles, loadTlsOptions, TlsConfigError } from '../../src/security/index.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';
import { hasOpenssl } from './helpers.js';

let dir: string;
const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function makeCa(name: string): void {
  openssl('req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '1');
}

// Skipped only where the openssl binary is missing: it makes the test CA and certificates.
describe.skipIf(!hasOpenssl)('wss with a private CA', () => {
  let server: Server;
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-wss-'));
    makeCa('ca');
    makeCa('other-ca');
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('req', ...ec, '-keyout', 'rembus.key', '-out', 'rembus.csr', '-subj', '/CN=127.0.0.1');
    openssl('x509', '-req', '-in', 'rembus.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'rembus.crt', '-days', '1', '-extfile', 'san.ext');
    server = createServer(await loadTlsOptions(keystoreTlsFiles(dir)));
    wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/alice`;
  });

  afterAll(async () => {
    for (const client of wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('connects when the component trusts the CA', async () => {
    const link = await dialWebSocket(url, { wsOptions: await caOptions(join(dir, 'ca.crt')) });
    expect(link.isOpen).toBe(true);
    link.close();
  });

  it('fails to connect without the CA or with another CA', async () => {
    await expect(dialWebSocket(url)).rejects.toBeInstanceOf(ConnectionError);
    await expect(dialWebSocket(url, { wsOptions: await caOptions(join(dir, 'other-ca.crt')) }))
      .rejects.toBeInstanceOf(ConnectionError);
  });

  it('serves a component over wss:// from broker({ tls }) when the component trusts the CA', async () => {
    const b = await broker({ port: 0, host: '127.0.0.1', tls: await loadTlsOptions(keystoreTlsFiles(dir)) });
    try {
      expect(b.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
      const { ca } = await caOptions(join(dir, 'ca.crt'));
      const sub = await connect(`${b.url!}/sub`, { ca });
      const pub = await connect(`${b.url!}/pub`, { ca: ca.toString('utf8') });
      try {
        const got = new Promise((resolve) => sub.subscribe$('t').subscribe((m) => resolve(m.args)));
        await sub.rpc('rid');
        pub.publish('t', 'over tls');
        expect(await got).toEqual(['over tls']);
        expect(await pub.rpc('rid')).toBe('broker');
      } finally {
        await Promise.all([sub.close(), pub.close()]);
      }
      // Without the CA the handshake fails; the broker keeps serving.
      await expect(connect(`${b.url!}/x`, { reconnect: { maxRetries: 0 } })).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await b.close();
    }
  });

  it('refuses a key that does not match the certificate, naming the key file', async () => {
    const key = join(dir, 'other-ca.key');
    const error = await loadTlsOptions({ cert: join(dir, 'rembus.crt'), key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TlsConfigError);
    expect((error as TlsConfigError).file).toBe(key);
  });
});
