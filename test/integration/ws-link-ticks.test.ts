/**
 * A WebSocket link reads and writes a frame without `process.nextTick`: a tick makes Node run its
 * tick queue and `processPromiseRejections` (a new `Map` each run), young-generation garbage on
 * every frame of a sequential RPC call (issue 20, W4's tail). Both ends of a ping-pong in this
 * process, over a real socket on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, take } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { wsLink } from '../../src/transport/ws-link.js';
import type { Link } from '../../src/transport/link.js';

let server: WebSocketServer | undefined;
let client: WebSocket | undefined;
const realNextTick = process.nextTick;
afterEach(async () => {
  process.nextTick = realNextTick;
  client?.terminate();
  client = undefined;
  if (server === undefined) return;
  for (const c of server.clients) c.terminate();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

async function pair(): Promise<[Link, Link]> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', (ws) => resolve(ws)));
  client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => { client!.once('open', () => resolve()); client!.once('error', reject); });
  return [wsLink(client, 'peer', true), wsLink(await accepted, 'peer')];
}

describe('ws link ticks', () => {
  it('a ping-pong of 300 frames each way queues (almost) no process.nextTick', async () => {
    const [a, b] = await pair();
    b.frames$.subscribe((f) => b.send(f)); // echo
    const rounds = 300;
    // Warm-up round, then count.
    a.send(new Uint8Array([0]));
    await firstValueFrom(a.frames$);
    let ticks = 0;
    process.nextTick = ((...args: Parameters<typeof process.nextTick>) => {
      ticks++;
      return realNextTick(...args);
    }) as typeof process.nextTick;
    for (let i = 0; i < rounds; i++) {
      const back = firstValueFrom(a.frames$.pipe(take(1)));
      a.send(new Uint8Array([i & 0xff, 1, 2, 3]));
      const f = (await back) as Uint8Array;
      expect(f[0]).toBe(i & 0xff);
    }
    process.nextTick = realNextTick;
    // Before: a write callback's tick per write and `maybeReadMore`'s per read, 4 per round.
    expect(ticks).toBeLessThan(rounds / 10);
  });

  it('a frame sent while a chunk is read leaves when the chunk has been read, before any microtask, in order with later ones', async () => {
    const [a, b] = await pair();
    const socket = (b as unknown as { ws: { _socket: { write: (...x: unknown[]) => boolean } } }).ws._socket;
    const write = socket.write.bind(socket);
    let writes = 0;
    socket.write = (...x: unknown[]) => { writes++; return write(...x); };
    const seenByMicrotask: number[] = [];
    b.frames$.subscribe((f) => {
      void Promise.resolve().then(() => {
        seenByMicrotask.push(writes);
        b.send(new Uint8Array([(f as Uint8Array)[0]!, 2])); // a later frame, from a microtask
      });
      b.send(new Uint8Array([(f as Uint8Array)[0]!, 1]));
    });
    const got: string[] = [];
    const done = new Promise<void>((resolve) => a.frames$.subscribe((f) => {
      got.push(Buffer.from(f as Uint8Array).toString('hex'));
      if (got.length === 4) resolve();
    }));
    a.send(new Uint8Array([7]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    a.send(new Uint8Array([8]));
    await done;
    expect(seenByMicrotask).toEqual([1, 3]); // the echo was written before the microtask ran
    expect(got).toEqual(['0701', '0702', '0801', '0802']);
  });

  it('a paused link still gets every frame once resumed (reads are not starved)', async () => {
    const [a, b] = await pair();
    const got: number[] = [];
    b.frames$.subscribe((f) => got.push((f as Uint8Array)[0]!));
    b.pause!();
    for (let i = 0; i < 50; i++) {
      a.send(new Uint8Array(20_000).fill(i));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    b.resume!();
    for (let i = 0; i < 100 && got.length < 50; i++) await new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
