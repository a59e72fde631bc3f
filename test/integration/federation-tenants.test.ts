/**
 * Federation into a broker that isolates tenants (README "Security": tenants are isolated for
 * pub/sub, replay and RPC; "MQTT and federation"): a bridge logged in as `x.acme` acts on that
 * broker as a member of tenant `acme`, so it carries only what an `acme` component could see,
 * and what it brings in reaches `acme` only — live, replayed from the log, and by RPC — and no
 * other tenant's component can borrow the federation agent to read or disturb `acme`'s traffic.
 * Real brokers on 127.0.0.1 port 0, the bridge both as `bridge()` and as a broker's `join`.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import { AGENT, FEED_TOPIC } from '../../src/bridge/federation-protocol.js';
import { memoryStore, type Broker } from '../../src/broker/index.js';
import { period, RpcError, type Component, type Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const secret = (name: string): string => `${name} secret`;
const NAMES = ['x.acme', 'y.beta', 'mate.acme', 'pub.beta', 'spy.beta'];
const seen = (ms: Message[]): string[] => ms.map((m) => `${m.topic}:${String(m.args[0])}`);

/** B: tenants acme and beta isolated, a shared secret on file for each test name, a message log. */
function tenantBroker(): Promise<Broker> {
  return scope.broker({ name: 'b', store: memoryStore(), security: memorySecurityStore({
    tenants: { acme: '1111', beta: '2222' },
    keys: Object.fromEntries(NAMES.map((n) => [n, secret(n)])),
  }) });
}

const proven = (b: Broker, name: string): Promise<Component> => scope.connect(b, name, { key: secret(name) });

/** A (no tenants) federated with B as `x.acme`: through `bridge()` or A's own `join`. */
async function federated(how: 'bridge' | 'join'): Promise<{ a: Broker; b: Broker }> {
  const b = await tenantBroker();
  const target = { url: `${b.url!}/x.acme`, key: secret('x.acme') };
  if (how === 'join') {
    const a = await scope.broker({ name: 'a', join: [target] });
    await firstValueFrom(a.links$.pipe(filter((l) => l[0]?.status.type === 'up'), timeout(8_000)));
    return { a, b };
  }
  const a = await scope.broker({ name: 'a' });
  const link = scope.track(bridge(target, `${a.url!}/x-bridge`, { refreshInterval: 100 }));
  await firstValueFrom(link.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
  return { a, b };
}

/** Publish `value` on `topic` until `got` has a value (the bridge attaches after it is up). */
async function publishUntil(node: Component, got: { values: unknown[] }, topic: string, value: unknown): Promise<void> {
  await waitFor(() => {
    if (got.values.length > 0) return true;
    node.publish(topic, value);
    return false;
  }, { timeout: 8_000, interval: 100, what: `'${topic}' to cross` });
}

/** Call until the bridge has learned the method, or fail after `ms`. */
async function callWhenBridged(node: Component, method: string, ms = 8_000): Promise<unknown> {
  let result: unknown;
  await waitFor(async () => {
    try {
      result = await node.rpc(method);
      return true;
    } catch (err) {
      if (err instanceof RpcError || (err as { code?: string }).code === 'METHOD_NOT_FOUND') return false;
      throw err;
    }
  }, { timeout: ms, interval: 50, what: `${method} to be callable` });
  return result;
}

describe.each(['bridge', 'join'] as const)('federation as x.acme into a broker isolating tenants (%s)', (how) => {
  it("carries to the other broker acme's publishes and no other tenant's", async () => {
    const { a, b } = await federated(how);
    const [mate, other] = [await proven(b, 'mate.acme'), await proven(b, 'pub.beta')];
    const [far] = await scope.connectAll(a, 'far');
    const got = collect(far!.subscribe$('news/*'), 1, { what: 'news at A' });
    await roundTrip(far!);
    await publishUntil(mate, got, 'news/acme', 'first');
    other.publish('news/beta', 'beta only');
    await roundTrip(other);
    mate.publish('news/acme', 'last');
    // One feed, in order: had beta's crossed, it would arrive before acme's last.
    await waitFor(() => got.values.some((m) => m.args[0] === 'last'), { what: "acme's last at A" });
    expect(seen(got.values).filter((s) => !s.startsWith('news/acme:'))).toEqual([]);
  });

  it('brings publishes in as acme: delivered and replayed to acme only', async () => {
    const { a, b } = await federated(how);
    const [mate, spy, own] = [await proven(b, 'mate.acme'), await proven(b, 'spy.beta'), await proven(b, 'pub.beta')];
    const [far] = await scope.connectAll(a, 'far');
    const atMate = collect(mate.subscribe$('news'), 1, { what: 'news at mate.acme' });
    const atSpy = collect(spy.subscribe$('news'), 1, { what: 'news at spy.beta' });
    await roundTrip(mate, spy);
    await publishUntil(far!, atMate, 'news', 'from a');
    own.publish('news', 'beta own');
    await atSpy.done;
    await roundTrip(own, spy);
    expect(seen(atSpy.values)).toEqual(['news:beta own']);
    // Replayed from B's log: the same rule as live.
    const replay = collect(spy.subscribe$('**', { msgfrom: period({ minutes: 5 }) }), 1, { what: "spy.beta's replay" });
    expect(seen(await replay.done)).toEqual(['news:beta own']);
    await roundTrip(spy);
    expect(seen(replay.values)).toEqual(['news:beta own']);
    const mates = collect(mate.subscribe$('**', { msgfrom: period({ minutes: 5 }) }), 1, { what: "mate.acme's replay" });
    expect(seen(await mates.done)[0]).toBe('news:from a');
  });

  it("offers each side only acme's methods, and lets only acme call the other side's", async () => {
    const { a, b } = await federated(how);
    const [mate, spy, own] = [await proven(b, 'mate.acme'), await proven(b, 'spy.beta'), await proven(b, 'pub.beta')];
    const [far] = await scope.connectAll(a, 'far');
    far!.expose('a/hello', () => 'hello from a');
    far!.expose('shared', () => 'shared from a');
    own.expose('beta/secret', () => 'beta secret');
    own.expose('shared', () => 'shared from beta');
    mate.expose('acme/open', () => 'acme open');
    await roundTrip(far!, own, mate);
    expect(await callWhenBridged(far!, 'acme/open')).toBe('acme open');
    // The route table that offered acme/open at A named no exposer of beta: nothing of it is offered.
    expect(await far!.rpc('__exposers__', 'beta/secret')).toEqual([]);
    expect(await far!.rpc('__exposers__', 'acme/open')).toHaveLength(1);
    expect(await callWhenBridged(mate, 'a/hello')).toBe('hello from a');
    // beta's exposures neither cross to A nor hide A's method of the same name from acme.
    expect(await callWhenBridged(mate, 'shared', 3_000)).toBe('shared from a');
    expect(await spy.rpc('shared')).toBe('shared from beta');
    await expect(far!.rpc('beta/secret')).rejects.toThrow();
    await expect(spy.rpc('a/hello')).rejects.toThrow();
  });

  it("gives another tenant's component no use of the federation agent against acme's bridge", async () => {
    const { a, b } = await federated(how);
    const [mate, spy] = [await proven(b, 'mate.acme'), await proven(b, 'spy.beta')];
    const [far] = await scope.connectAll(a, 'far');
    const atA = collect(far!.subscribe$('news'), 1, { what: 'news at A' });
    const atMate = collect(mate.subscribe$('news'), 1, { what: 'news at mate.acme' });
    await roundTrip(far!, mate);
    await publishUntil(mate, atA, 'news', 'before');
    // spy.beta attaches as a bridge and listens to the feed; detaches acme's bridge; injects into acme.
    await spy.rpc(AGENT.attach, 'spy.beta').catch(() => undefined);
    const feed = collect(spy.subscribe$(FEED_TOPIC), 1, { what: 'feed at spy.beta' });
    await roundTrip(spy);
    await spy.rpc(AGENT.detach, 'x.acme').catch(() => undefined);
    await spy.rpc(AGENT.publish, 'forged-uid', [], 'news', ['forged'], 0).catch(() => undefined);
    await roundTrip(spy);
    mate.publish('news', 'after');
    await waitFor(() => atA.values.some((m) => m.args[0] === 'after'), { what: "acme's publish to still cross after spy's detach" });
    await roundTrip(mate, spy);
    // As a bridge of its own tenant spy.beta is fed its own forged publish, and nothing of acme's.
    expect(feed.values.map((m) => (m.args[3] as unknown[])[0])).toEqual(['forged']);
    expect(seen(atMate.values).filter((s) => s === 'news:forged')).toEqual([]);
  });
});

describe('federation between two brokers that both isolate tenants', () => {
  it("joins the tenants the bridge's names are in, one on each side, and no other", async () => {
    const b = await tenantBroker();
    const a = await scope.broker({ name: 'a', security: memorySecurityStore({
      tenants: { acme: '3333', beta: '4444' },
      keys: Object.fromEntries(['y.beta', 'near.beta', 'near.acme'].map((n) => [n, secret(n)])),
    }) });
    // A's tenant beta (as y.beta) with B's tenant acme (as x.acme).
    const link = scope.track(bridge({ url: `${a.url!}/y.beta`, key: secret('y.beta') }, { url: `${b.url!}/x.acme`, key: secret('x.acme') },
      { refreshInterval: 100 }));
    await firstValueFrom(link.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
    const [nearBeta, nearAcme] = [await proven(a, 'near.beta'), await proven(a, 'near.acme')];
    const [mate, spy] = [await proven(b, 'mate.acme'), await proven(b, 'spy.beta')];
    const atA = { beta: collect(nearBeta.subscribe$('news'), 1), acme: collect(nearAcme.subscribe$('news'), 1) };
    const atB = { acme: collect(mate.subscribe$('news'), 1), beta: collect(spy.subscribe$('news'), 1) };
    await roundTrip(nearBeta, nearAcme, mate, spy);
    await publishUntil(nearBeta, atB.acme, 'news', 'a beta');
    await publishUntil(mate, atA.beta, 'news', 'b acme');
    nearAcme.publish('news', 'a acme');
    await roundTrip(nearAcme);
    mate.publish('news', 'b acme last');
    nearBeta.publish('news', 'a beta last');
    await waitFor(() => atA.beta.values.some((m) => m.args[0] === 'b acme last')
      && atB.acme.values.some((m) => m.args[0] === 'a beta last'), { what: 'the last publishes to cross' });
    await roundTrip(nearAcme, spy);
    // A's acme (its own publish is not echoed to it) and B's beta get nothing across the bridge.
    expect(seen(atA.acme.values)).toEqual([]);
    expect(seen(atB.beta.values)).toEqual([]);
    expect(new Set(seen(atB.acme.values))).toEqual(new Set(['news:a beta', 'news:a beta last']));
  });
});

describe('a join from a broker that isolates tenants', () => {
  it("carries the tenant of the URL's name, which its local side takes too", async () => {
    const b = await scope.broker({ name: 'b' });
    const a2 = await scope.broker({ name: 'a2', security: memorySecurityStore({
      // No key on file for x.acme here: the join's local side is trusted, not challenged.
      tenants: { acme: '1111', beta: '2222' }, keys: Object.fromEntries(['mate.acme', 'pub.beta'].map((n) => [n, secret(n)])),
    }), join: [`${b.url!}/x.acme`] });
    await firstValueFrom(a2.links$.pipe(filter((l) => l[0]?.status.type === 'up'), timeout(8_000)));
    const [mate, other] = [await proven(a2, 'mate.acme'), await proven(a2, 'pub.beta')];
    const [far] = await scope.connectAll(b, 'far');
    const atB = collect(far!.subscribe$('news'), 1, { what: 'news at B' });
    const atMate = collect(mate.subscribe$('news'), 1, { what: 'news at mate.acme' });
    const atOther = collect(other.subscribe$('news'), 1, { what: 'news at pub.beta' });
    await roundTrip(far!, mate, other);
    await publishUntil(mate, atB, 'news', 'acme');
    await publishUntil(far!, atMate, 'news', 'from b');
    other.publish('news', 'beta');
    await roundTrip(other);
    mate.publish('news', 'acme last');
    await waitFor(() => atB.values.some((m) => m.args[0] === 'acme last'), { what: "acme's last at B" });
    await roundTrip(far!, other);
    expect(seen(atB.values).filter((v) => v !== 'news:acme' && v !== 'news:acme last')).toEqual([]);
    expect(seen(atOther.values)).toEqual([]);
  });
});

describe('two bridges, one per tenant, between the same brokers', () => {
  it('delivers a publish of the open side once in each tenant', async () => {
    const b = await tenantBroker();
    const a = await scope.broker({ name: 'a' });
    for (const name of ['x.acme', 'y.beta']) {
      const link = scope.track(bridge({ url: `${b.url!}/${name}`, key: secret(name) }, `${a.url!}/${name}`, { refreshInterval: 100 }));
      await firstValueFrom(link.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
    }
    const [mate, spy] = [await proven(b, 'mate.acme'), await proven(b, 'spy.beta')];
    const [far] = await scope.connectAll(a, 'far');
    const atMate = collect(mate.subscribe$('news'), 1, { what: 'news at mate.acme' });
    const atSpy = collect(spy.subscribe$('news'), 1, { what: 'news at spy.beta' });
    await roundTrip(mate, spy);
    await publishUntil(far!, atMate, 'news', 'warm-up');
    await publishUntil(far!, atSpy, 'news', 'warm-up');
    far!.publish('news', 'once each');
    await waitFor(() => [atMate, atSpy].every((c) => c.values.some((m) => m.args[0] === 'once each')),
      { what: "'once each' in both tenants" });
    await roundTrip(far!, mate, spy);
    for (const c of [atMate, atSpy]) expect(seen(c.values).filter((v) => v === 'news:once each')).toEqual(['news:once each']);
  });
});
