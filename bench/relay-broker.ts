/**
 * Benchmark role: the raw limit of a Node WebSocket broker. `ws` server, binary frames, one
 * `send` per frame and per receiver, no protocol logic (see relay.ts for the frame layout).
 *
 * Usage (from run.ts): `tsx bench/relay-broker.ts`
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { die, onParent, tell } from './common.js';
import { OP } from './relay.js';

const OK = Buffer.from([OP.OK]);
const subscribers = new Set<WebSocket>();
const connections = new Map<number, WebSocket>();
let server: WebSocket | undefined;
let nextId = 1;

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('error', die);
wss.on('connection', (ws) => {
  const id = nextId++;
  connections.set(id, ws);
  ws.on('error', () => undefined);
  ws.on('close', () => {
    connections.delete(id);
    subscribers.delete(ws);
    if (server === ws) server = undefined;
  });
  ws.on('message', (data: Buffer) => {
    switch (data[0]) {
      case OP.PUB:
        for (const sub of subscribers) if (sub !== ws) sub.send(data);
        return;
      case OP.REQ:
        data.writeUInt32BE(id, 1);
        server?.send(data);
        return;
      case OP.RES:
        connections.get(data.readUInt32BE(1))?.send(data.subarray(5));
        return;
      case OP.SUB:
        subscribers.add(ws);
        ws.send(OK);
        return;
      case OP.EXPOSE:
        server = ws;
        ws.send(OK);
        return;
    }
  });
});
wss.on('listening', () => {
  const address = wss.address();
  if (address === null || typeof address === 'string') die(new Error('no TCP address'));
  onParent({
    exit: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
  });
  tell({ type: 'ready', port: address.port });
});
