/**
 * README "Concepts" (reconnect, first contact) and "Security" (a name without a key is a label),
 * attacked while a named owner is away or coming back: its network path goes silent (no FIN, no
 * RST: a NAT that forgot it, a suspended laptop), another connection claims its name meanwhile —
 * a name with a key on file and one without.
 */
import { createServer, connect as connectTcp, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, LastReceived, type Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { roundTrip, useScope, waitFor } from './helpers.js';
import { rawPeer } from './security-peer.js';

/** A TCP relay whose current connections can go silent: nothing forwarded, nothing closed. */
interface SilentRelay { readonly url: string; silence(): void; close(): Promise<void> }

function silentRelay(port: number): Promise<SilentRelay> {
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

describe('a named owner away or coming back', () => {
  const scope = useScope();

  it('notices a network path gone silent, reconnects by itself and gets what it missed', async () => {
    const b = await scope.broker({ pingInterval: 200 });
    const relay = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    const owner = scope.track(await connect(`${relay.url}/owner`, { pingInterval: 200, reconnect: { initialDelay: 50, maxDelay: 200 } }));
    const got: unknown[] = [];
    owner.subscribe$('news', { msgfrom: LastReceived }).subscribe((m: Message) => got.push(m.args[0]));
    await roundTrip(owner);
    const downs: unknown[] = [];
    owner.status$.subscribe((s) => { if (s.type === 'down') downs.push(s.error); });
    relay.silence();
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('news', ['while silent'], { qos: 1 });
    // The broker drops its side within two of its pings; the owner must find out on its own.
    await waitFor(() => got.length === 1, { timeout: 5_000, interval: 20, what: `the owner back with the missed message (downs: ${downs.length})` });
    expect(got).toEqual(['while silent']);
  });
});
