/**
 * README "Concepts" (reconnect) for the federation links: a `join` bridge's remote side and each
 * side of `bridge()` (what `rembus bridge` runs) ping their broker every 30 s, like any component,
 * so a path that dies silently ends the link and the bridge reconnects.
 *
 * The peer is a stand-in broker that answers every request with status 0 and counts the pings
 * it is sent; only `setInterval` is faked (the keep-alive's tick), the sockets are real.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { bridge } from '../../src/bridge/index.js';
import { broker } from '../../src/broker/index.js';
import { waitFor } from './helpers.js';

interface Peer { readonly url: string; readonly pings: number[]; readonly frames: number[]; close(): Promise<void> }

async function pingCountingBroker(): Promise<Peer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const pings: number[] = [];
  const frames: number[] = [];
  server.on('connection', (ws) => {
    const i = pings.push(0) - 1;
    frames.push(0);
    ws.on('ping', () => { pings[i]!++; });
    ws.on('message', (data: Buffer) => {
      frames[i]!++;
      const msg = decodeCbor(new Uint8Array(data)) as { id?: bigint };
      if (msg.id !== undefined) ws.send(encodeCbor({ type: 'response', id: msg.id, status: 0, data: null }));
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pings,
    frames,
    close: () => new Promise<void>((done) => {
      for (const ws of server.clients) ws.terminate();
      server.close(() => done());
    }),
  };
}

/**
 * Wait until the link to `peer` is up and quiet: its first connection sent a frame and then no
 * other for 500 ms. Only then may the fake clock jump: a request still awaiting its answer when
 * it jumps 29 s would time out, and the component would reconnect on a second connection.
 */
async function quiet(peer: Peer): Promise<void> {
  // A frame from the bridge, not the server's 'connection': the keep-alive's interval starts on the
  // client's 'open', which may come after the server saw the connection.
  await waitFor(() => (peer.frames[0] ?? 0) > 0, { timeout: 3_000, interval: 10, what: 'the bridge connected' });
  for (let seen = -1; seen !== peer.frames[0];) {
    seen = peer.frames[0]!;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Fire the keep-alive tick: not before 30 s, then once. */
async function expectPingAt30s(peer: Peer): Promise<void> {
  vi.advanceTimersByTime(29_000);
  await new Promise((r) => setTimeout(r, 100));
  expect(peer.pings[0]).toBe(0);
  vi.advanceTimersByTime(1_000);
  await waitFor(() => peer.pings[0]! >= 1, { timeout: 2_000, interval: 10, what: 'a ping at 30 s' });
  expect(peer.pings.length).toBe(1); // the same connection, no reconnect
}

describe('federation links keep alive', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const r of open.splice(0).reverse()) await r.close();
    vi.useRealTimers();
  });

  it('a join bridge pings the broker it joined every 30 s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const peer = await pingCountingBroker();
    open.push(peer);
    open.push(await broker({ port: 0, host: '127.0.0.1', join: [peer.url] }));
    await quiet(peer);
    await expectPingAt30s(peer);
  });

  it('bridge() (rembus bridge) pings both brokers every 30 s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const [a, b] = [await pingCountingBroker(), await pingCountingBroker()];
    open.push(a, b);
    open.push(bridge(a.url, b.url));
    await quiet(a);
    await quiet(b);
    await expectPingAt30s(a);
    expect(b.pings[0]).toBeGreaterThanOrEqual(1);
  });
});
