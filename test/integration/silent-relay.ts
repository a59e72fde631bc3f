/**
 * A TCP relay in front of a broker whose current connections can go silent: a network path that
 * died without a FIN or an RST (a NAT that forgot it, a suspended laptop). Neither side hears of
 * a close; each side's bytes are read and discarded.
 */
import { createServer, connect as connectTcp, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP relay whose current connections can go silent: nothing forwarded, nothing closed. */
export interface SilentRelay { readonly url: string; silence(): void; close(): Promise<void> }

export function silentRelay(port: number): Promise<SilentRelay> {
  const pairs: [Socket, Socket][] = [];
  const server: Server = createServer((inbound) => {
    const outbound = connectTcp(port, '127.0.0.1');
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.push(pair);
    const drop = (): void => { inbound.destroy(); outbound.destroy(); };
    for (const s of pair) s.on('error', drop).on('close', drop);
    inbound.pipe(outbound).pipe(inbound);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const relay: SilentRelay = {
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      // Like a path that died: each side's bytes go nowhere and neither side hears of a close.
      silence: () => {
        for (const [a, b] of pairs) {
          a.unpipe(b);
          b.unpipe(a);
          for (const s of [a, b]) {
            s.removeAllListeners('close');
            s.removeAllListeners('error');
            s.on('error', () => undefined);
            s.resume(); // read and discard
          }
        }
      },
      close: () => new Promise<void>((done) => {
        for (const pair of pairs.splice(0)) for (const s of pair) s.destroy();
        server.close(() => done());
      }),
    };
    resolve(relay);
  }));
}
