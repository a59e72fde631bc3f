/**
 * README "Security" (a name with a key is owned): a connection that proves a name's key takes the
 * name over from an old link the broker still holds but whose peer is gone (its network path died
 * silently, so the broker's own pings take 30–60 s to notice). Attacked: an impostor without the
 * key; the old link still alive and sending; two proven owners racing; QoS1/QoS2 messages in
 * flight to the old link at the moment of the takeover; a name without a key (no takeover).
 */
import { describe, expect, it } from 'vitest';
import { connect, LastReceived, type Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { RawClient, roundTrip, useScope, waitFor } from './helpers.js';
import { rawPeer } from './security-peer.js';
import { silentRelay } from './silent-relay.js';

const keyed = (): ReturnType<typeof memorySecurityStore> => memorySecurityStore({ keys: { owner: 'sesame' } });
const fast = { initialDelay: 50, maxDelay: 200 };

describe('a proven connection takes a name over from a dead link', () => {
  const scope = useScope();

  it('takes the name at once (not after the broker\'s pings); QoS1/QoS2 in flight to the old link arrive, QoS2 once, in order', async () => {
    // The broker pings every 30 s (its default): without a takeover the owner is refused until then.
    const b = await scope.broker({ security: keyed() });
    const path = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    const owner = scope.track(await connect(`${path.url}/owner`, { key: 'sesame', pingInterval: 100, reconnect: fast }));
    const got: number[] = [];
    owner.subscribe$('news', { msgfrom: LastReceived }).subscribe((m: Message) => got.push(m.args[0] as number));
    await roundTrip(owner);
    const refusals: string[] = [];
    owner.status$.subscribe((s) => { if (s.type === 'reconnecting') refusals.push((s.error as Error).name); });
    const pub = await scope.connect(b, 'pub');
    const qos = (i: number): 1 | 2 => (i % 2 === 0 ? 1 : 2);
    for (let i = 0; i < 4; i++) await pub.publishAsync('news', [i], { qos: qos(i) });
    // Silenced as soon as they are delivered: their ACKs may die with the path (still in flight).
    await waitFor(() => got.length === 4, { timeout: 2_000, interval: 1, what: 'the first messages' });
    path.silence();
    // Sent to the old link and never acknowledged: in flight when the owner comes back.
    for (let i = 4; i < 20; i++) await pub.publishAsync('news', [i], { qos: qos(i) });
    await waitFor(() => new Set(got).size === 20, { timeout: 6_000, interval: 20,
      what: `the owner back with all 20 (got ${got.join(',')}; refused: ${refusals.join(',')})` });
    await roundTrip(owner, pub);
    // Every message, in order of first arrival; a QoS2 one exactly once, a QoS1 one whose ACK was
    // lost with the old path at most once more (at least once).
    expect([...new Set(got)]).toEqual([...Array(20).keys()]);
    for (let i = 0; i < 20; i++) expect(got.filter((v) => v === i).length).toBeLessThanOrEqual(qos(i) === 2 ? 1 : 2);
    expect(got.filter((v) => v >= 4).length).toBe(16);
    expect(refusals).not.toContain('NameTakenError');
    // The old link is gone from the broker: the owner's new one and the publisher's.
    expect(b.stats().connections).toBe(2);
  });

  it('a QoS2 publish of the old link whose ACK died with its path: the copy re-sent by the new link is ACKed, not delivered again', async () => {
    const b = await scope.broker({ security: keyed() });
    const path = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    const sub = await scope.connect(b, 'sub');
    const got: unknown[] = [];
    sub.subscribe$('out').subscribe((m: Message) => got.push(m.args[0]));
    await roundTrip(sub);
    const old = rawPeer(scope.track(await RawClient.open(path.url)));
    expect((await old.login('owner', 'sesame')).status).toBe(0);
    const id = 0xfeedn;
    // A peer re-sends a QoS2 message under the same id until it gets the ACK (spec §4.2).
    const pub = encodeCbor({ type: 'pub', flags: 0x30, id, topic: 'out', args: ['once'] });
    old.raw.sendBinary(pub);
    await waitFor(() => got.length === 1, { timeout: 2_000, interval: 5, what: 'the first copy delivered' });
    path.silence(); // the broker's ACK goes nowhere
    const heir = rawPeer(await scope.raw(b));
    expect((await heir.login('owner', 'sesame')).status).toBe(0);
    heir.raw.sendBinary(pub);
    await waitFor(() => heir.raw.frames.some((f) => typeof f !== 'string' && decodeCbor(f).type === 'ack'),
      { timeout: 2_000, interval: 5, what: 'the copy ACKed' });
    await roundTrip(sub);
    expect(got).toEqual(['once']);
    // ACK2 releases the id: the twin's QoS2 set is the old link's, now served to the new one.
    heir.raw.sendBinary(encodeCbor({ type: 'ack2', id }));
    heir.raw.sendBinary(encodeCbor({ type: 'pub', flags: 0x30, id, topic: 'out', args: ['again'] }));
    await waitFor(() => got.length === 2, { timeout: 2_000, interval: 5, what: 'a new message under the released id' });
    expect(got).toEqual(['once', 'again']);
  });

  it('an impostor without the key takes nothing over: a wrong secret gets 10, an unanswered challenge nothing', async () => {
    const b = await scope.broker({ security: keyed() });
    const path = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    // No pings of its own: the owner does not come back, its dead link stays bound.
    scope.track(await connect(`${path.url}/owner`, { key: 'sesame', pingInterval: 0 }));
    path.silence();
    const wrong = rawPeer(await scope.raw(b));
    const started = Date.now();
    expect((await wrong.login('owner', 'guess')).status).toBe(10);
    // Refused before anything was asked of the old link (no probe for an unproven claim).
    expect(Date.now() - started).toBeLessThan(1_000);
    const squatter = rawPeer(await scope.raw(b));
    expect((await squatter.login('owner')).status).toBe(11);
    // The key holder still can; then the dead link and the impostor refused (closed 0.5 s after its 10) are gone.
    const heir = rawPeer(await scope.raw(b));
    expect((await heir.login('owner', 'sesame')).status).toBe(0);
    await waitFor(() => b.stats().connections === 2, { timeout: 2_000, interval: 10, what: 'the dead link closed' });
  });

  it('the old link alive and sending keeps its name: a second proven connection is refused, the first loses nothing', async () => {
    const b = await scope.broker({ security: keyed() });
    const owner = await scope.connect(b, 'owner', { key: 'sesame' });
    const downs: unknown[] = [];
    owner.status$.subscribe((s) => { if (s.type === 'down') downs.push(s.error); });
    const sub = await scope.connect(b, 'sub');
    const got: unknown[] = [];
    sub.subscribe$('out').subscribe((m: Message) => got.push(m.args[0]));
    await roundTrip(sub);
    const sending = (async () => { for (let i = 0; i < 100; i++) await owner.publishAsync('out', [i], { qos: 1 }); })();
    const second = await connect(`${b.url!}/owner`, { key: 'sesame' }).then((c) => { scope.track(c); return 'connected'; },
      (err: Error) => err.name);
    expect(second).toBe('NameTakenError');
    const raw = rawPeer(await scope.raw(b));
    expect(await raw.login('owner', 'sesame')).toMatchObject({ status: 60, data: 'already connected' });
    await sending;
    await waitFor(() => got.length === 100, { timeout: 3_000, interval: 10, what: 'every publish of the owner' });
    expect(got).toEqual([...Array(100).keys()]);
    expect(downs).toEqual([]);
  });

  it('two proven connections racing for a name held by a dead link: exactly one gets it, the dead link is closed', async () => {
    const b = await scope.broker({ security: keyed() });
    const path = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    scope.track(await connect(`${path.url}/owner`, { key: 'sesame', pingInterval: 0 }));
    path.silence();
    const peers = await Promise.all([0, 1, 2].map(async () => rawPeer(await scope.raw(b))));
    const statuses = await Promise.all(peers.map(async (p) => (await p.login('owner', 'sesame')).status));
    expect([...statuses].sort()).toEqual([0, 60, 60]);
    await waitFor(() => b.stats().connections === 3, { timeout: 2_000, interval: 10, what: 'the dead link closed' });
    // The winner is the twin: its calls are served.
    const winner = peers[statuses.indexOf(0)]!;
    expect((await winner.admin('__config__', { cmd: 'reactive', status: true }))[0]).toBe(0);
  });

  it('a connection holding a name unproven, before its key was on file, is taken over at once, alive or not', async () => {
    const security = memorySecurityStore({});
    const b = await scope.broker({ security });
    const squatter = rawPeer(await scope.raw(b));
    expect((await squatter.login('late')).status).toBe(0);
    // An operator drops the owner's key in afterwards (keys/ in the file store).
    await security.saveKey('late', new TextEncoder().encode('sesame'), 0);
    const started = Date.now();
    const owner = rawPeer(await scope.raw(b));
    expect((await owner.login('late', 'sesame')).status).toBe(0);
    // No probe for a holder that never proved the key: it is a squatter, not an owner.
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(() => !squatter.raw.isOpen, { timeout: 2_000, interval: 10, what: 'the squatter closed' });
    expect(b.stats().connections).toBe(1);
  });

  it('a name without a key keeps today\'s rule: a dead holder is not taken over (anyone could)', async () => {
    const b = await scope.broker();
    const path = scope.track(await silentRelay(Number(new URL(b.url!).port)));
    scope.track(await connect(`${path.url}/label`, { pingInterval: 0 }));
    path.silence();
    const other = rawPeer(await scope.raw(b));
    expect(await other.login('label')).toMatchObject({ status: 60, data: 'already connected' });
  });
});
