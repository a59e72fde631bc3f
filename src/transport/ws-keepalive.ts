/**
 * The client side's keep-alive of a WebSocket (spec §1: PY and JL clients ping every 30 s). A
 * ping every `interval` ms; a socket that leaves {@link MAX_PINGS_OUT} pings in a row
 * unanswered is dropped at the next tick. A path that died without a FIN or an RST (a NAT that
 * forgot the connection, a suspended host, a cable pulled between two routers) then ends the
 * link like a close, and the component reconnects, instead of waiting for a frame that never
 * comes.
 *
 * Why two pings out, not one (nats.js `maxPingOut`): a handler that blocks this process's event
 * loop past a period leaves the pong unread in the socket while the next tick already runs, so
 * one unanswered ping is no proof of a dead path.
 */
import type WebSocket from 'ws';

/** Pings left unanswered in a row before the link is dropped. */
export const MAX_PINGS_OUT = 2;

/** Ping `ws` every `interval` ms (0: never) until it closes; terminate it when its pings go unanswered. */
export function keepAlive(ws: WebSocket, interval: number): void {
  if (!(interval > 0)) return;
  let out = 0;
  const onPong = (): void => { out = 0; };
  const timer = setInterval(() => {
    if (out >= MAX_PINGS_OUT) {
      ws.terminate(); // its 'close' ends the link, and clears this timer
      return;
    }
    out++;
    try {
      ws.ping();
    } catch {
      // Closing already: its 'close' comes next.
    }
  }, interval);
  // A ping never keeps the process alive; the component's own handles do.
  timer.unref();
  ws.on('pong', onPong);
  ws.once('close', () => {
    clearInterval(timer);
    ws.off('pong', onPong);
  });
}
