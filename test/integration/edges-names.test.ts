/**
 * README "Concepts" (reconnect, first contact) and "Security" (a name without a key is a label),
 * attacked while a named owner is away or coming back: its network path goes silent (no FIN, no
 * RST: a NAT that forgot it, a suspended laptop), another connection claims its name meanwhile —
 * a name with a key on file and one without.
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor } from '../../src/codec/index.js';
import { connect, LastReceived, type Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { tmpdir } from 'node:os';
import { freePort, kill, startBroker } from './broker-process.js';
import { relay, roundTrip, useScope, waitFor } from './helpers.js';
import { rawPeer } from './security-peer.js';
import { silentRelay } from './silent-relay.js';

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
    // The broker drops its side within two of its pings; the owner must find out on its own (three of its own).
    await waitFor(() => got.length === 1, { timeout: 5_000, interval: 20, what: `the owner back with the missed message (downs: ${downs.length})` });
    expect(got).toEqual(['while silent']);
  });

  it('a name with a key: nobody claims it while its owner reconnects, and the owner gets all it missed', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ keys: { owner: 'sesame' } }) });
    const path = scope.track(await relay(Number(new URL(b.url!).port)));
    const owner = scope.track(await connect(`${path.url}/owner`, { key: 'sesame', reconnect: { initialDelay: 400, maxDelay: 400, jitter: 0 } }));
    const got: unknown[] = [];
    owner.subscribe$('news', { msgfrom: LastReceived }).subscribe((m: Message) => got.push(m.args[0]));
    await roundTrip(owner);
    path.cut();
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('news', ['n1'], { qos: 1 });
    // While the owner waits to reconnect: a wrong secret, and a challenge left unanswered.
    const wrong = rawPeer(await scope.raw(b));
    expect((await wrong.login('owner', 'guess')).status).toBe(10);
    const squatter = rawPeer(await scope.raw(b));
    expect((await squatter.login('owner')).status).toBe(11);
    await pub.publishAsync('news', ['n2'], { qos: 1 });
    await waitFor(() => got.length >= 2, { timeout: 5_000, interval: 20, what: `the owner back with n1, n2 (got ${JSON.stringify(got)})` });
    expect(got).toEqual(['n1', 'n2']);
    // The squatter's pending challenge got it nothing: no delivery, and its attestation now fails.
    const signature = new Uint8Array(32);
    expect((await squatter.call({ type: 'attestation', id: 77n, cid: 'owner', signature })).status).toBe(10);
    const seen = [...wrong.raw.frames, ...squatter.raw.frames].map((f) => decodeCbor(f as Uint8Array).type);
    expect(seen.filter((type) => type !== 'response')).toEqual([]);
  });

  it('a name without a key is a label: another connection may hold it meanwhile; the owner is retried, not refused for good', async () => {
    const b = await scope.broker();
    const path = scope.track(await relay(Number(new URL(b.url!).port)));
    const owner = scope.track(await connect(`${path.url}/label`, { reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 } }));
    owner.subscribe$('news', { msgfrom: LastReceived }).subscribe();
    await roundTrip(owner);
    const statuses: string[] = [];
    owner.status$.subscribe((s) => statuses.push(s.type === 'reconnecting' ? `reconnecting:${(s.error as Error).name}` : s.type));
    path.cut();
    const other = rawPeer(await scope.raw(b));
    expect((await other.login('label')).status).toBe(0);
    // README "Security": a name without a key is a label anyone may use; holding it is not owning
    // it — and the holder is that name's twin: its subscriptions deliver to it.
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('news', ['to whoever holds the label'], { qos: 1 });
    await waitFor(() => other.raw.frames.some((f) => typeof f !== 'string' && decodeCbor(f).type === 'pub'),
      { timeout: 3_000, interval: 10, what: 'the holder served the twin\'s subscription' });
    await waitFor(() => statuses.includes('reconnecting:NameTakenError'), { timeout: 3_000, interval: 10, what: 'a refused reconnect' });
    await other.raw.close();
    await waitFor(() => statuses.at(-1) === 'up', { timeout: 3_000, interval: 10, what: `the owner up again (${statuses.join(', ')})` });
    expect(await owner.rpc('rid')).toBe('broker');
  });

  it('keeps a live link whose own event loop is blocked past a ping period, turn after turn (the pong waits unread)', async () => {
    // The broker in its own process: it answers the pings while this one is blocked.
    const broker = await startBroker(tmpdir(), await freePort(), ['--no-persist']);
    scope.track({ close: () => kill(broker) });
    const node = scope.track(await connect(`${broker.url}/busy`, { pingInterval: 100 }));
    const downs: unknown[] = [];
    node.status$.subscribe((s) => { if (s.type === 'down') downs.push(s.error); });
    // Handlers hogging the loop turn after turn (150 ms each, past the period): each turn's
    // timers run before its I/O, so the pong to the last ping is still unread when they fire.
    await new Promise<void>((done) => {
      let turns = 0;
      const hog = (): void => {
        const until = Date.now() + 150;
        while (Date.now() < until) { /* busy */ }
        if (++turns < 8) setImmediate(hog);
        else done();
      };
      setImmediate(hog);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(downs).toEqual([]);
    expect(await node.rpc('rid')).toBe('broker');
  });

  it('one name claimed by 20 connections in the same instant: exactly one gets it (with and without a key)', async () => {
    const b = await scope.broker({ security: memorySecurityStore({ keys: { keyed: 'sesame' } }) });
    for (const [name, secret] of [['free', undefined], ['keyed', 'sesame']] as const) {
      const peers = await Promise.all([...Array(20).keys()].map(async () => rawPeer(await scope.raw(b))));
      // Every IDENTITY leaves before any answer comes back (the keyed login awaits the store).
      const statuses = await Promise.all(peers.map(async (p) => (await p.login(name, secret)).status));
      expect(statuses.filter((s) => s === 0), `${name}: ${statuses.join(',')}`).toHaveLength(1);
      expect(statuses.filter((s) => s !== 0).every((s) => s === 60), `${name}: ${statuses.join(',')}`).toBe(true);
    }
  });
});
