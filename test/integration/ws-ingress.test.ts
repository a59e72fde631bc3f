/**
 * The broker's WebSocket server with our frame reader in front of ws's Receiver, driven by a raw
 * TCP client that writes frames byte for byte as a buggy or hostile peer would: good frames of
 * every size and masking key, fragments with control frames between them, ping, the close
 * handshake, and every refusal with its close code (1002, 1007, 1009).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { listenWebSocket, type WsListener } from '../../src/broker/ws-server.js';
import { readFrames } from '../../src/transport/ws-ingress.js';
import type { Frame, Link } from '../../src/transport/link.js';
import { frame, pattern } from '../unit/ws-frame-builder.js';
import { waitFor } from './helpers.js';

interface Receiver { write(chunk: Buffer): boolean; on(event: string, listener: (...args: never[]) => void): unknown }
const Receiver = (ws as unknown as { Receiver: new (o: { isServer: boolean }) => Receiver }).Receiver;

const MAX_PAYLOAD = 100_000;
let listener: WsListener | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await listener?.close();
  listener = undefined;
});

/** A raw client past the upgrade: what the server sends back, parsed by a client-side Receiver. */
interface Raw {
  socket: Socket;
  /** `ping:…`, `pong:…`, `message:…`, `close:<code>`, `end`. */
  events: string[];
  /** The server-side link and what it delivered. */
  link: Link;
  frames: Frame[];
  completed: () => boolean;
}

async function open(): Promise<Raw> {
  const links: Link[] = [];
  listener ??= await listenWebSocket((l) => links.push(l), { host: '127.0.0.1', port: 0, pingInterval: 0, maxPayload: MAX_PAYLOAD });
  const socket = connect(listener.port, '127.0.0.1');
  sockets.push(socket);
  socket.setNoDelay(true);
  const events: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, binary: boolean) => events.push(`message:${binary ? data.toString('hex') : data.toString()}`));
  receiver.on('ping', (data: Buffer) => events.push(`ping:${data.toString()}`));
  receiver.on('pong', (data: Buffer) => events.push(`pong:${data.toString()}`));
  receiver.on('conclude', (code: number) => events.push(`close:${code}`));
  receiver.on('error', () => events.push('client receiver error'));
  let head = Buffer.alloc(0);
  let upgraded = false;
  socket.on('data', (chunk: Buffer) => {
    if (upgraded) { receiver.write(chunk); return; }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    expect(head.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
    upgraded = true;
    if (head.length > end + 4) receiver.write(head.subarray(end + 4));
  });
  socket.on('end', () => events.push('end'));
  socket.on('error', () => undefined);
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await waitFor(() => links.length > 0, { what: 'the upgrade' });
  const link = links[0]!;
  const frames: Frame[] = [];
  let done = false;
  link.frames$.subscribe({ next: (f) => frames.push(f), complete: () => { done = true; } });
  return { socket, events, link, frames, completed: () => done };
}

/** Write `bytes` one byte per write, each in its own event-loop turn now and then. */
async function trickle(socket: Socket, bytes: Buffer): Promise<void> {
  for (let i = 0; i < bytes.length; i++) {
    socket.write(bytes.subarray(i, i + 1));
    if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const show = (f: Frame): string => (typeof f === 'string' ? `text:${f}` : Buffer.from(f).toString('hex'));
const bin = (...parts: [number, Buffer][]): Buffer => Buffer.concat(parts.map(([b0, payload]) => frame({ b0, masked: true, key: 0x1234_5678, payload })));

describe('broker WebSocket server: frame reader', () => {
  it('reads masked binary frames of every size, zero and random keys, written whole or byte by byte', async () => {
    const raw = await open();
    const sizes = [0, 1, 125, 126, 65_535, 65_536, MAX_PAYLOAD];
    const payloads = sizes.map((n, i) => pattern(n, i));
    const stream = Buffer.concat(payloads.map((payload, i) => frame({ b0: 0x82, masked: true, key: i % 2 === 0 ? 0 : 0x9abc_def0 + i, payload })));
    raw.socket.write(stream);
    const small = [pattern(3, 9), pattern(130, 10)];
    await trickle(raw.socket, Buffer.concat(small.map((payload) => frame({ b0: 0x82, masked: true, key: 0xdead_beef, payload }))));
    const expected = [...payloads, ...small].map(show);
    await waitFor(() => raw.frames.length >= expected.length, { what: 'every frame' });
    expect(raw.frames.map(show)).toEqual(expected);
  });

  it('answers a ping with a pong, takes a pong, and joins fragments around control frames', async () => {
    const raw = await open();
    await trickle(raw.socket, Buffer.concat([
      bin([0x89, Buffer.from('hello')], [0x8a, Buffer.from('unasked')], [0x02, Buffer.from('ab')]),
      bin([0x89, Buffer.from('mid')], [0x00, Buffer.from('cd')], [0x80, Buffer.from('ef')], [0x81, Buffer.from('texté')]),
      bin([0x01, Buffer.from('frag')], [0x80, Buffer.from('ment')], [0x82, Buffer.from('z')]),
    ]));
    await waitFor(() => raw.frames.length >= 4, { what: 'the messages' });
    expect(raw.frames.map(show)).toEqual([Buffer.from('abcdef').toString('hex'), 'text:texté', 'text:fragment', '7a']);
    await waitFor(() => raw.events.length >= 2, { what: 'the pongs' });
    expect(raw.events).toEqual(['pong:hello', 'pong:mid']);
  });

  it('echoes a close frame with its code, then ends the connection', async () => {
    const raw = await open();
    const close = Buffer.concat([Buffer.of(0x0f, 0xa0), Buffer.from('bye')]); // 4000
    raw.socket.write(Buffer.concat([bin([0x82, Buffer.of(1)], [0x88, close], [0x82, Buffer.of(2)])]));
    await waitFor(() => raw.events.includes('end') && raw.completed(), { what: 'the close handshake' });
    expect(raw.events).toEqual(['close:4000', 'end']);
    expect(raw.frames.map(show)).toEqual(['01']); // nothing after the close
  });

  const refusals: [string, Buffer, number][] = [
    ['an unmasked client frame', frame({ b0: 0x82, masked: false, key: 0, payload: Buffer.of(1) }), 1002],
    ['a reserved bit', frame({ b0: 0xa2, masked: true, key: 0, payload: Buffer.of(1) }), 1002],
    ['an unknown opcode', frame({ b0: 0x83, masked: true, key: 7, payload: Buffer.of(1) }), 1002],
    ['a continuation without a start', frame({ b0: 0x80, masked: true, key: 7, payload: Buffer.of(1) }), 1002],
    ['a new message inside a fragmented one', bin([0x02, Buffer.of(1)], [0x82, Buffer.of(2)]), 1002],
    ['a ping longer than 125 bytes', frame({ b0: 0x89, masked: true, key: 7, payload: pattern(126, 0) }), 1002],
    ['a frame over maxPayload', frame({ b0: 0x82, masked: true, key: 7, payload: pattern(MAX_PAYLOAD + 1, 0) }), 1009],
    ['fragments over maxPayload together', bin([0x02, pattern(MAX_PAYLOAD, 0)], [0x80, Buffer.of(1)]), 1009],
    ['a text frame that is not UTF-8', frame({ b0: 0x81, masked: true, key: 7, payload: Buffer.of(0xc3, 0x28) }), 1007],
  ];
  for (const [what, bad, code] of refusals) {
    it(`closes with ${code} on ${what}, delivering what came before and nothing after`, async () => {
      const raw = await open();
      raw.socket.write(Buffer.concat([bin([0x82, Buffer.of(0xaa)]), bad, bin([0x82, Buffer.of(0xbb)])]));
      await waitFor(() => raw.events.includes('end') && raw.completed(), { what: `close ${code}` });
      expect(raw.events).toEqual([`close:${code}`, 'end']);
      expect(raw.frames.map(show)).toEqual(['aa']);
    });
  }

  it('reads nothing while paused and everything after resume', async () => {
    const raw = await open();
    raw.link.pause!();
    const payloads = Array.from({ length: 50 }, (_, i) => pattern(1000 + i, i));
    raw.socket.write(Buffer.concat(payloads.map((payload) => frame({ b0: 0x82, masked: true, key: 0, payload }))));
    // No event says "the bytes are in the server's socket buffer": give them a few turns.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(raw.frames).toEqual([]);
    raw.link.resume!();
    await waitFor(() => raw.frames.length >= payloads.length, { what: 'the frames after resume' });
    expect(raw.frames.map(show)).toEqual(payloads.map(show));
  });

  it('delivers what a paused socket holds when the link is dropped, even the rest of a frame begun', async () => {
    const raw = await open();
    const payloads = [pattern(300, 1), pattern(10, 2)];
    const stream = Buffer.concat(payloads.map((payload) => frame({ b0: 0x82, masked: true, key: 0x0102_0304, payload })));
    const settle = async (): Promise<void> => {
      // No event says "the bytes are in the server's socket buffer": give them a few turns.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    raw.socket.write(stream.subarray(0, 150));
    await settle();
    raw.link.pause!(); // the reader holds half a frame; the rest stays in the socket
    raw.socket.write(stream.subarray(150));
    await settle();
    expect(raw.frames).toEqual([]);
    raw.link.abort!();
    await waitFor(() => raw.completed(), { what: 'the link to complete' });
    expect(raw.frames.map(show)).toEqual(payloads.map(show));
  });
});

describe('readFrames', () => {
  let server: ws.WebSocketServer | undefined;
  afterEach(async () => {
    if (server === undefined) return;
    for (const c of server.clients) c.terminate();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  });

  /** A `ws` server and client pair, `perMessageDeflate` as given on both ends. */
  async function pair(deflate: boolean, allowSynchronousEvents = true): Promise<[ws.WebSocket, ws.WebSocket]> {
    server = new ws.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate, allowSynchronousEvents });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    const accepted = new Promise<ws.WebSocket>((resolve) => server!.once('connection', resolve));
    const client = new ws.WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { perMessageDeflate: deflate });
    await new Promise((resolve) => client.once('open', resolve));
    return [await accepted, client];
  }

  it('takes the binary messages of both ends, leaving the rest to ws', async () => {
    const [serverSide, client] = await pair(false);
    const read: string[] = [];
    const events: string[] = [];
    expect(readFrames(serverSide, (b) => read.push(`server:${b.toString('hex')}`))).toBe(true);
    expect(readFrames(client, (b) => read.push(`client:${b.toString('hex')}`))).toBe(true);
    expect(readFrames(client, () => undefined)).toBe(false); // not twice
    for (const [side, socket] of [['server', serverSide], ['client', client]] as const) {
      socket.on('message', (data: Buffer, binary: boolean) => events.push(`${side}:${binary}:${data.toString()}`));
    }
    client.send(Uint8Array.of(1, 2));
    client.send('hi');
    serverSide.send(Uint8Array.of(3));
    serverSide.send('ho');
    await waitFor(() => read.length === 2 && events.length === 2, { what: 'the messages' });
    expect(read.sort()).toEqual(['client:03', 'server:0102']);
    expect(events.sort()).toEqual(['client:false:ho', 'server:false:hi']);
  });

  it('changes nothing when an extension was negotiated', async () => {
    const [serverSide, client] = await pair(true);
    expect(readFrames(serverSide, () => undefined)).toBe(false);
    expect(readFrames(client, () => undefined)).toBe(false);
    const got = new Promise<Buffer>((resolve) => serverSide.once('message', resolve));
    client.send(Uint8Array.of(9));
    expect([...await got]).toEqual([9]);
  });

  it('changes nothing when ws defers its events (their order against ours would not hold)', async () => {
    const [serverSide] = await pair(false, false);
    expect(readFrames(serverSide, () => undefined)).toBe(false);
  });
});
