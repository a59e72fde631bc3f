import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeCbor } from '../../src/codec/index.js';
import { useScope, waitFor } from './helpers.js';

describe('broker keep-alive', () => {
  const scope = useScope();

  it('drops a peer that stops answering pings, freeing its name', async () => {
    const b = await scope.broker({ pingInterval: 100 });
    const ws = new WebSocket(b.url!);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const replies: Buffer[] = [];
    ws.on('message', (data: Buffer) => replies.push(data));
    ws.send(encodeCbor({ type: 'identity', id: 1n, cid: 'sleeper' }));
    await waitFor(() => replies.length === 1, { timeout: 2_000, interval: 5, what: 'identity reply' });
    // A peer gone without a TCP close: its socket no longer reads, so pings go unanswered.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const taken = await scope.connect(b, 'sleeper').then(() => 'connected', (err: Error) => err.name);
    expect(taken).toBe('NameTakenError');
    // Within two ping periods the broker gives up on it; the name is free again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const again = await scope.connect(b, 'sleeper');
    expect(await again.rpc('rid')).toBe('broker');
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
  });

  it('keeps a peer that answers pings', async () => {
    const b = await scope.broker({ pingInterval: 50 });
    const node = await scope.connect(b, 'awake');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await node.rpc('rid')).toBe('broker');
  });
});
