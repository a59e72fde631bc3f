/**
 * One event-loop turn of many WebSocket links: frames are written into each link's buffer as they
 * are sent and one microtask flushes every link, each in one socket write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, toArray } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { wsLink } from '../../src/transport/ws-link.js';
import type { Frame, Link } from '../../src/transport/link.js';

let server: WebSocketServer | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  if (server === undefined) return;
  for (const client of server.clients) client.terminate();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

interface Side { link: Link; writes: () => number }

/** Count the socket writes of a `ws` socket. */
function counted(ws: WebSocket): () => number {
  const socket = (ws as unknown as { _socket: { write: (...a: unknown[]) => boolean } })._socket;
  const write = socket.write.bind(socket);
  let n = 0;
  socket.write = (...a: unknown[]) => {
    n++;
    return write(...a);
  };
  return () => n;
}

/**
 * `n` connections: the sending side of each as a Link (server side, or a client masking with a
 * random key when `from` is 'client'), the other side as a Link that receives.
 */
async function links(n: number, from: 'server' | 'client'): Promise<{ senders: Side[]; receivers: Link[] }> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  const senders: Side[] = [];
  const receivers: Link[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', (ws) => resolve(ws)));
    const client = new WebSocket(url, { perMessageDeflate: false });
    clients.push(client);
    await new Promise<void>((resolve, reject) => { client.once('open', () => resolve()); client.once('error', reject); });
    const serverWs = await accepted;
    const [out, back] = from === 'server' ? [serverWs, client] : [client, serverWs];
    senders.push({ link: wsLink(out, 'peer', false), writes: counted(out) });
    receivers.push(wsLink(back, 'peer'));
  }
  return { senders, receivers };
}

const bytes = (f: Frame): string => (typeof f === 'string' ? `s:${f}` : `b:${Buffer.from(f).toString('hex')}`);
const all = (l: Link): Promise<Frame[]> => firstValueFrom(l.frames$.pipe(toArray()));

describe('wsLink: one turn, many links', () => {
  for (const from of ['server', 'client'] as const) {
    it(`keeps the order per link of frames interleaved over many links, one write each (${from} side)`, async () => {
      const { senders, receivers } = await links(6, from);
      const got = receivers.map(all);
      const sent: Frame[][] = senders.map(() => []);
      for (let k = 0; k < 50; k++) {
        senders.forEach((s, i) => {
          const f: Frame = k % 3 === 0 ? `t${i}.${k}` : Uint8Array.of(i, k, ...new Array<number>(k).fill(i));
          sent[i]!.push(f);
          s.link.send(f);
        });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(senders.map((s) => s.writes())).toEqual(senders.map(() => 1));
      for (const s of senders) s.link.close();
      const received = await Promise.all(got);
      received.forEach((frames, i) => expect(frames.map(bytes)).toEqual(sent[i]!.map(bytes)));
    });
  }

  it('a link closed or aborted mid-turn writes nothing after it, and the others still flush', async () => {
    const { senders, receivers } = await links(3, 'server');
    const got = receivers.map(all);
    const [a, b, c] = senders.map((s) => s.link) as [Link, Link, Link];
    a.send(Uint8Array.of(1));
    b.send(Uint8Array.of(2));
    c.send(Uint8Array.of(3));
    b.close(); // flushes b's frame, then the close frame
    b.send(Uint8Array.of(22)); // after close: dropped
    c.abort!(); // c's frame of the turn is dropped with the socket
    c.send(Uint8Array.of(33));
    a.send(Uint8Array.of(11));
    expect(b.bufferedAmount).toBeLessThan(10); // nothing held for a closed link
    await new Promise<void>((resolve) => setImmediate(resolve));
    a.close();
    const [ga, gb, gc] = await Promise.all(got);
    expect(ga!.map(bytes)).toEqual([Uint8Array.of(1), Uint8Array.of(11)].map(bytes));
    expect(gb!.map(bytes)).toEqual([Uint8Array.of(2)].map(bytes));
    expect(gc).toEqual([]);
  });

  for (const from of ['server', 'client'] as const) {
    it(`writes a turn larger than the shared write buffer, and a single frame larger than it, in one write (${from} side)`, async () => {
      const { senders, receivers } = await links(2, from);
      const got = receivers.map(all);
      // Link 0: many small frames adding up to ~200 KiB. Link 1: a frame of 65 535 bytes, whose
      // header takes it past 64 KiB, between two small ones.
      const small: Frame[] = Array.from({ length: 200 }, (_, i) => new Uint8Array(1000).fill(i & 0xff));
      const big: Frame[] = [Uint8Array.of(9), new Uint8Array(65_535).map((_, i) => i % 253), 'end'];
      for (const f of small) senders[0]!.link.send(f);
      for (const f of big) senders[1]!.link.send(f);
      expect(senders[0]!.link.bufferedAmount).toBeGreaterThanOrEqual(200_000);
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(senders.map((s) => s.writes())).toEqual([1, 1]);
      for (const s of senders) s.link.close();
      const [g0, g1] = await Promise.all(got);
      expect(g0!.map(bytes)).toEqual(small.map(bytes));
      expect(g1!.map(bytes)).toEqual(big.map(bytes));
    });
  }

  it('a reader that stops reading gets every turn intact: a pooled buffer is reused only after its write completed', async () => {
    const { senders, receivers } = await links(1, 'server');
    const link = senders[0]!.link;
    const got = all(receivers[0]!);
    receivers[0]!.pause!(); // the socket stops reading: writes complete later, out of turn
    // 240 turns of one 60 000-byte frame (fits the shared 64 KiB buffer), each with its own
    // pattern: a buffer taken back before its write completed would overwrite a turn's bytes.
    const frame = (t: number): Uint8Array => new Uint8Array(60_000).map((_, i) => (t * 7 + i) & 0xff);
    for (let t = 0; t < 240; t++) {
      link.send(frame(t));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(link.bufferedAmount).toBeGreaterThan(0); // the kernel's buffers are full: writes wait
    receivers[0]!.resume!();
    link.close();
    const frames = await got;
    expect(frames.length).toBe(240);
    frames.forEach((f, t) => expect(Buffer.compare(f as Uint8Array, frame(t))).toBe(0));
  });
});

