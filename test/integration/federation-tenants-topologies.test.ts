/**
 * Federation across tenants in other topologies (federation-tenants.test.ts has the bridge into
 * one isolating broker): two brokers that both isolate tenants, a join from an isolating
 * broker, and one bridge per tenant between the same two brokers. Real brokers on 127.0.0.1
 * port 0.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import type { Broker } from '../../src/broker/index.js';
import type { Component } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { publishUntil, secret, seen, tenantBroker, proven as provenIn } from './federation-tenant-helpers.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const proven = (b: Broker, name: string): Promise<Component> => provenIn(scope, b, name);

describe('federation between two brokers that both isolate tenants', () => {
  it("joins the tenants the bridge's names are in, one on each side, and no other", async () => {
    const b = await tenantBroker(scope);
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
    const b = await tenantBroker(scope);
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
