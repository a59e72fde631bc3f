/**
 * README "Concepts" (reconnect): after a reconnect the component declares its subscriptions
 * again, and a replaying one waits for the broker's answer before it delivers (what comes
 * before it, the replay sends again). When that answer does not come in time, the subscription
 * must not stay waiting: it would ACK and drop every message the broker then sends it.
 *
 * The peer is a stand-in broker on a real socket: it answers every request with status 0, except
 * the subscribe of the second connection, which it never answers; it then sends a QoS1 message.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { component, LastReceived, type Component } from '../../src/index.js';
import { waitFor } from './helpers.js';

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const r of opened.splice(0).reverse()) await r.close();
});

async function standIn(): Promise<{ url: string; sockets: WebSocket[]; acks: bigint[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const sockets: WebSocket[] = [];
  const acks: bigint[] = [];
  server.on('connection', (ws) => {
    const n = sockets.push(ws);
    ws.on('message', (data: Buffer) => {
      const msg = decodeCbor(new Uint8Array(data)) as { type: string; id?: bigint; cmd?: { cmd?: string } };
      if (msg.type === 'ack' && msg.id !== undefined) acks.push(msg.id);
      if (msg.id === undefined || msg.type === 'ack') return;
      if (n === 2 && msg.type === 'admin' && msg.cmd?.cmd === 'subscribe') return; // never answered
      ws.send(encodeCbor({ type: 'response', id: msg.id, status: 0, data: null }));
    });
  });
  opened.push({ close: () => new Promise<void>((done) => { for (const ws of server.clients) ws.terminate(); server.close(() => done()); }) });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets, acks };
}

describe('a re-declared subscription whose answer never comes', () => {
  it('still delivers what the broker sends it after the request timed out', async () => {
    const peer = await standIn();
    const node: Component = component(`${peer.url}/late-sub`, { requestTimeout: 200, reconnect: { initialDelay: 20, maxDelay: 50 } });
    opened.push(node);
    const got: unknown[] = [];
    node.subscribe$('t', { msgfrom: LastReceived }).subscribe((m) => got.push(m.args[0]));
    await node.ready();
    await waitFor(() => peer.sockets.length === 1, { what: 'the first connection' });
    peer.sockets[0]!.terminate();
    await waitFor(() => peer.sockets.length === 2, { timeout: 3_000, what: 'the reconnect' });
    await new Promise((r) => setTimeout(r, 400)); // past requestTimeout: the re-declaration failed
    peer.sockets[1]!.send(encodeCbor({ type: 'pub', flags: 0x10, id: 77n, topic: 't', args: [42] }));
    await waitFor(() => peer.acks.includes(77n), { timeout: 2_000, what: 'the ACK' });
    await waitFor(() => got.length > 0, { timeout: 2_000, what: 'the delivery' });
    expect(got).toEqual([42]);
  });
});
