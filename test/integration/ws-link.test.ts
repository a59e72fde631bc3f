import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, toArray } from 'rxjs';
import { WebSocketServer } from 'ws';
import { dialWebSocket, wsLink } from '../../src/transport/ws-link.js';
import type { Frame, Link } from '../../src/transport/link.js';

let server: WebSocketServer | undefined;
afterEach(async () => {
  if (server === undefined) return;
  for (const client of server.clients) client.terminate();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** A server whose first connection becomes a Link, and a client Link dialled to it. */
async function pair(): Promise<{ serverSide: Link; clientSide: Link }> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const accepted = new Promise<Link>((resolve) => server!.once('connection', (ws) => resolve(wsLink(ws, 'client'))));
  const port = (server.address() as { port: number }).port;
  const clientSide = await dialWebSocket(`ws://127.0.0.1:${port}`);
  return { serverSide: await accepted, clientSide };
}

const bytes = (f: Frame): string => (typeof f === 'string' ? `s:${f}` : `b:${Buffer.from(f).toString('hex')}`);

describe('wsLink', () => {
  for (const direction of ['server → client', 'client → server'] as const) {
    it(`delivers the frames of one turn in order, then closes (${direction})`, async () => {
      const { serverSide, clientSide } = await pair();
      const [from, to] = direction === 'server → client' ? [serverSide, clientSide] : [clientSide, serverSide];
      const large = new Uint8Array(100_000).map((_, i) => i % 251);
      const sent: Frame[] = [Uint8Array.of(1, 2, 3), 'text é', large, Uint8Array.of(4), 'x'.repeat(70_000), Uint8Array.of()];
      const got = firstValueFrom(to.frames$.pipe(toArray()));
      for (const f of sent) from.send(f);
      from.close(); // in the same turn: the batch must leave before the close frame
      expect((await got).map(bytes)).toEqual(sent.map(bytes));
    });
  }

  it('masks with the all-zero key on a loopback link, the frames it batches and those ws writes', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    const raw: Buffer[] = [];
    const accepted = new Promise<Link>((resolve) => server!.once('connection', (ws, req) => {
      req.socket.on('data', (chunk: Buffer) => raw.push(chunk));
      resolve(wsLink(ws, 'client'));
    }));
    const clientSide = await dialWebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
    const serverSide = await accepted;
    const large = new Uint8Array(70_000).fill(7);
    const got = firstValueFrom(serverSide.frames$.pipe(toArray()));
    clientSide.send(Uint8Array.of(1, 2, 3));
    clientSide.send(large);
    clientSide.close();
    expect((await got).map(bytes)).toEqual([Uint8Array.of(1, 2, 3), large].map(bytes));
    // Walk the raw frames: every one (data and close) has the mask bit and a zero key.
    const wire = Buffer.concat(raw);
    let p = 0;
    let frames = 0;
    while (p < wire.length) {
      const len7 = wire[p + 1]! & 0x7f;
      expect(wire[p + 1]! & 0x80).toBe(0x80);
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      const length = ext === 0 ? len7 : ext === 2 ? wire.readUInt16BE(p + 2) : Number(wire.readBigUInt64BE(p + 2));
      const key = p + 2 + ext;
      expect([...wire.subarray(key, key + 4)]).toEqual([0, 0, 0, 0]);
      p = key + 4 + length;
      frames++;
    }
    expect(frames).toBe(3);
  });

  it('counts frames not yet written in bufferedAmount', async () => {
    const { serverSide } = await pair();
    serverSide.send(new Uint8Array(1000));
    expect(serverSide.bufferedAmount).toBeGreaterThanOrEqual(1000);
    serverSide.close();
  });
});
