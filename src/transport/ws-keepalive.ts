/**
 * The client side's keep-alive of a WebSocket (spec §1: PY and JL clients ping every 30 s). A
 * ping every `interval` ms; a socket that has not answered the previous one by the next is
 * dropped. A path that died without a FIN or an RST (a NAT that forgot the connection, a
 * suspended host, a cable pulled between two routers) then ends the link like a close, and the
 * component reconnects, instead of waiting for a frame that never comes.
 */
import type WebSocket from 'ws';

/** Ping `ws` every `interval` ms (0: never) until it closes; terminate it when a ping goes unanswered. */
export function keepAlive(ws: WebSocket, interval: number): void {
  if (!(interval > 0)) return;
  let answered = true;
  const onPong = (): void => { answered = true; };
  const timer = setInterval(() => {
    if (!answered) {
      ws.terminate(); // its 'close' ends the link, and clears this timer
      return;
    }
    answered = false;
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
