/**
 * Benchmark role (W11): a subscriber that stops reading. A raw `ws` client (no component: it
 * must be able to stop reading its TCP socket) subscribes anonymously to `--pattern` (`**`),
 * answers `ready` once the broker confirmed the subscription, and on `go` pauses its socket
 * (`ws._socket.pause()`): from then on it reads nothing, so what the broker sends it piles up
 * in the kernel's buffers and then in the broker.
 *
 * Result (on `stop`): `{ type: 'result', pausedAt, received }` — when it stopped reading
 * (`now()`, comparable with the broker's clock) and how many deliveries it read before.
 */
import WebSocket from 'ws';
import { encodeCbor, newMsgId } from '../src/codec/index.js';
import { die, now, onParent, parseArgs, str, tell } from './common.js';

const args = parseArgs();

try {
  const ws = new WebSocket(str(args, 'url'), { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  const answered = new Promise((resolve) => ws.once('message', resolve));
  ws.send(encodeCbor({ type: 'admin', id: newMsgId(), topic: str(args, 'pattern'), cmd: { cmd: 'subscribe', msg_from: 0 } }));
  await answered;
  let received = 0;
  let pausedAt = 0;
  ws.on('message', () => { received++; });
  onParent({
    go: () => {
      pausedAt = now();
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    },
    stop: () => tell({ type: 'result', pausedAt, received }),
    exit: () => { ws.terminate(); },
  });
  tell({ type: 'ready' });
} catch (err) {
  die(err);
}
