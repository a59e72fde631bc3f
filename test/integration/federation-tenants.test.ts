/**
 * Federation into a broker that isolates tenants (README "Security": tenants are isolated for
 * pub/sub, replay and RPC; "MQTT and federation"): a bridge logged in as `x.acme` acts on that
 * broker as a member of tenant `acme`, so it carries only what an `acme` component could see,
 * and what it brings in reaches `acme` only — live, replayed from the log, and by RPC — and no
 * other tenant's component can borrow the federation agent to read or disturb `acme`'s traffic.
 * Real brokers on 127.0.0.1 port 0, the bridge as `bridge()`, as a broker's `join` and as a
 * `rembus bridge` process. Other topologies: federation-tenants-topologies.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import { AGENT, FEED_TOPIC } from '../../src/bridge/federation-protocol.js';
import type { Broker } from '../../src/broker/index.js';
import { period, RpcError, type Component } from '../../src/index.js';
import { publishUntil, secret, seen, tenantBroker, proven as provenIn } from './federation-tenant-helpers.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const proven = (b: Broker, name: string): Promise<Component> => provenIn(scope, b, name);

/** A (no tenants) federated with B as `x.acme`: through `bridge()` or A's own `join`. */
async function federated(how: 'bridge' | 'join'): Promise<{ a: Broker; b: Broker }> {
  const b = await tenantBroker(scope);
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

describe('rembus bridge as x.acme into a broker isolating tenants', () => {
  const children = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
  });

  it("logs in with $REMBUS_DIR/x.acme/.secret and carries acme's publishes only, then exits 0 on SIGTERM", async () => {
    const b = await tenantBroker(scope);
    const a = await scope.broker({ name: 'a' });
    const dir = mkdtempSync(join(tmpdir(), 'rembus-fed-tenant-'));
    try {
      mkdirSync(join(dir, 'x.acme'));
      writeFileSync(join(dir, 'x.acme', '.secret'), secret('x.acme'), { mode: 0o600 });
      const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_'))), REMBUS_DIR: dir };
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bridge', a.url!, `${b.url!}/x.acme`,
        '--refresh', '100'], { cwd: join(import.meta.dirname, '../..'), env, stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      const [mate, other] = [await proven(b, 'mate.acme'), await proven(b, 'pub.beta')];
      const [far] = await scope.connectAll(a, 'far');
      const got = collect(far!.subscribe$('news'), 1, { what: 'news at A', timeout: 20_000 });
      await roundTrip(far!);
      await waitFor(() => {
        if (got.values.length > 0) return true;
        mate.publish('news', 'acme');
        return false;
      }, { timeout: 20_000, interval: 100, what: `acme's publish to cross (bridge stderr: ${stderr})` });
      other.publish('news', 'beta');
      await roundTrip(other);
      mate.publish('news', 'acme last');
      await waitFor(() => got.values.some((m) => m.args[0] === 'acme last'), { what: "acme's last at A" });
      expect(seen(got.values).filter((v) => v === 'news:beta')).toEqual([]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
