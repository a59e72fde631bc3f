/**
 * tcp:// and tls:// components (spec §1.4, Rembus.jl's framing) through one broker that also
 * serves ws://: pub/sub and RPC across transports, a raw framed peer as Rembus.jl writes it,
 * and peers that break the framing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import { ConnectionError } from '../../src/errors.js';
import { connect, type Component } from '../../src/index.js';
import { keystoreTlsFiles, loadTlsOptions } from '../../src/security/index.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/tcp-framing.js';
import { collect, hasOpenssl, hex, roundTrip, textHex, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** Pub/sub both ways and RPC both ways between `a` and `b`. */
async function exchange(a: Component, b: Component): Promise<void> {
  const atB = collect(b.subscribe$<[number, string]>('from/a'), 2, { what: 'publishes at b' });
  const atA = collect(a.subscribe$<[Uint8Array]>('from/b'), 1, { what: 'publishes at a' });
  a.expose('a_add', (x: number, y: number) => x + y);
  b.expose('b_upper', (s: string) => s.toUpperCase());
  await roundTrip(a, b);
  a.publish('from/a', 1, 'one');
  a.publish('from/a', 2, 'x'.repeat(70_000)); // a 4-byte-length frame
  b.publish('from/b', Uint8Array.of(1, 2, 3));
  expect((await atB.done).map((m) => m.args[0])).toEqual([1, 2]);
  expect((await atB.done)[1]!.args[1]).toHaveLength(70_000);
  expect([...(await atA.done)[0]!.args[0]]).toEqual([1, 2, 3]);
  expect(await b.rpc('a_add', 2, 3)).toBe(5);
  expect(await a.rpc('b_upper', 'tcp')).toBe('TCP');
  atA.unsubscribe();
  atB.unsubscribe();
}

/** A raw TCP peer: framed CBOR in, framed CBOR out, as Rembus.jl does. */
async function rawPeer(url: string): Promise<{ socket: Socket; frames: Uint8Array[]; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = netConnect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const frames: Uint8Array[] = [];
  const decoder = new FrameDecoder(1 << 20);
  socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  scope.track({ close: () => socket.destroy() });
  return { socket, frames, closed };
}

describe('tcp transport', () => {
  it('serves a tcp:// component and a ws:// one through one broker: pub/sub and RPC both ways', async () => {
    const b = await scope.broker({ tcp: { port: 0 } });
    expect(b.tcpUrl).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const overTcp = scope.track(await connect(`${b.tcpUrl!}/tcp_one`));
    const overWs = await scope.connect(b, 'ws_one');
    await exchange(overTcp, overWs);
    // The name is the same twin whatever the transport: a direct call finds it.
    expect(await overWs.call('a_add', [40, 2], { target: 'tcp_one' })).toBe(42);
  });

  it('answers a raw peer writing Rembus.jl frames, byte by byte', async () => {
    const b = await scope.broker({ port: null, tcp: { port: 0 } });
    expect(b.url).toBeUndefined();
    const peer = await rawPeer(b.tcpUrl!);
    const frame = encodeFrame(encodeCbor({ type: 'rpc', id: 7n, topic: 'rid', target: null, args: [] }));
    for (const byte of frame) peer.socket.write(Uint8Array.of(byte));
    await waitFor(() => peer.frames.length > 0, { what: 'the response' });
    expect(decodeCbor(peer.frames[0]!)).toMatchObject({ type: 'response', id: 7n, status: 0, data: 'broker' });
  });

  it('drops a peer that sends a bad header byte or an oversized length, and keeps serving others', async () => {
    const b = await scope.broker({ tcp: { port: 0 }, maxPayload: 4096 });
    const good = scope.track(await connect(`${b.tcpUrl!}/steady`));
    const bad = await rawPeer(b.tcpUrl!);
    bad.socket.write(Uint8Array.of(0x82, 0x01, 0x00));
    await bad.closed;
    const big = await rawPeer(b.tcpUrl!);
    big.socket.write(Uint8Array.of(0x8d, 0x10, 0x01)); // 4097 bytes announced: over the cap
    await big.closed;
    expect(big.frames).toEqual([]);
    expect(await good.rpc('rid')).toBe('broker');
  });

  it('drops a tcp subscriber that reads nothing (flow control) and lets a tcp publisher go on', async () => {
    const b = await scope.broker({ tcp: { port: 0 }, flowControl: { highWater: 256 * 1024, stallTimeout: 2_000, maxPause: 60_000 } });
    const stuck = await rawPeer(b.tcpUrl!);
    stuck.socket.write(encodeFrame(hex(`84 03 48 01 00 00 00 00 00 00 00 ${textHex('bulk')} a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65`)));
    await waitFor(() => stuck.frames.length === 1, { what: 'the subscribe to be acknowledged' });
    stuck.socket.pause();
    const pub = scope.track(await connect(`${b.tcpUrl!}/bulk_pub`));
    const other = scope.track(await connect(`${b.tcpUrl!}/bulk_sub`));
    const count = 30_000;
    const got = collect(other.subscribe$('bulk'), count, { timeout: 60_000 });
    await roundTrip(other);
    for (let i = 0; i < count; i++) pub.publish('bulk', i, 'x'.repeat(1000));
    await waitFor(() => b.stats().connections === 2, { timeout: 20_000, what: 'the stuck subscriber to be dropped' });
    stuck.socket.resume();
    await stuck.closed;
    expect((await got.done).map((m) => m.args[0])).toEqual([...Array(count).keys()]);
  }, 120_000);

  it('refuses a connection when nothing listens, with ConnectionError', async () => {
    const b = await scope.broker({ tcp: { port: 0 } });
    const url = b.tcpUrl!;
    await b.close();
    await expect(connect(`${url}/late`, { reconnect: { maxRetries: 0 }, connectTimeout: 2_000 }))
      .rejects.toBeInstanceOf(ConnectionError);
  });

  it('drops tcp connections when the broker closes', async () => {
    const b = await scope.broker({ tcp: { port: 0 } });
    const peer = await rawPeer(b.tcpUrl!);
    await b.close();
    await peer.closed;
  });
});

// Skipped only where the openssl binary is missing: it makes the self-signed certificate.
describe.skipIf(!hasOpenssl)('tls transport', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'rembus.key', '-out', 'rembus.crt', '-subj', '/CN=127.0.0.1', '-days', '1',
      '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a tls:// component that trusts the certificate, next to a wss:// one', async () => {
    const tls = await loadTlsOptions(keystoreTlsFiles(dir));
    const ca = await readFile(join(dir, 'rembus.crt'), 'utf8');
    const b = await scope.broker({ tls, tcp: { port: 0 } });
    expect(b.tcpUrl).toMatch(/^tls:\/\//);
    const overTls = scope.track(await connect(`${b.tcpUrl!}/tls_one`, { ca }));
    const overWss = await scope.connect(b, 'wss_one', { ca });
    await exchange(overTls, overWss);
  });

  it('refuses a tls:// connection to a component that does not trust the certificate', async () => {
    const tls = await loadTlsOptions(keystoreTlsFiles(dir));
    const b = await scope.broker({ tls, tcp: { port: 0 } });
    await expect(connect(`${b.tcpUrl!}/wary`, { reconnect: { maxRetries: 0 }, connectTimeout: 2_000 }))
      .rejects.toBeInstanceOf(ConnectionError);
    // The broker is not disturbed by the failed handshake.
    const ca = await readFile(join(dir, 'rembus.crt'), 'utf8');
    const ok = scope.track(await connect(`${b.tcpUrl!}/trusting`, { ca }));
    expect(await ok.rpc('rid')).toBe('broker');
  });
});
