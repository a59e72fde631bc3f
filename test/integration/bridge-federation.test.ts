/**
 * Federation (spec §10): brokers joined with `broker({ join })`, bridged with `bridge()` and with
 * the `rembus bridge` CLI; publishes and RPCs cross both ways, and a cycle neither loops nor
 * delivers twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import { FEED_TOPIC } from '../../src/bridge/federation-protocol.js';
import type { Broker, Published } from '../../src/broker/index.js';
import { RpcError, type Component, type Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** How long "nothing more arrives" is watched for across bridges. */
const QUIET_MS = 400;
const ROOT = resolve(import.meta.dirname, '../..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/** Resolves once every link of `b` is up. */
function linksUp(b: Broker, ms = 8_000): Promise<unknown> {
  return firstValueFrom(b.links$.pipe(filter((links) => links.length > 0 && links.every((l) => l.status.type === 'up')),
    timeout(ms)));
}

/** What `b` accepted on topics starting with `prefix`. */
function accepted(b: Broker, prefix: string): Published[] {
  const seen: Published[] = [];
  b.messages$.pipe(filter((m) => m.topic.startsWith(prefix))).subscribe((m) => seen.push(m));
  return seen;
}

/** Call until the bridges have learned the method (their routes refresh every second). */
async function callWhenBridged<R>(node: Component, method: string, ...args: unknown[]): Promise<R> {
  let result: R | undefined;
  await waitFor(async () => {
    try {
      result = await node.rpc<R>(method, ...args);
      return true;
    } catch (err) {
      if (err instanceof RpcError || (err as { code?: string }).code === 'METHOD_NOT_FOUND') return false;
      throw err;
    }
  }, { timeout: 8_000, interval: 50, what: `${method} to be callable` });
  return result!;
}

/**
 * Publish until `got` has a first value: a bridge forwards only once it has attached (a bridge
 * process started through tsx may take longer than 8 s to attach on a loaded machine).
 */
async function publishUntil(node: Component, got: { values: unknown[] }, topic: string, ...args: unknown[]): Promise<void> {
  await publishUntilWithin(8_000, node, got, topic, ...args);
}

async function publishUntilWithin(timeout: number, node: Component, got: { values: unknown[] }, topic: string,
  ...args: unknown[]): Promise<void> {
  await waitFor(() => {
    if (got.values.length > 0) return true;
    node.publish(topic, ...args);
    return false;
  }, { timeout, interval: 100, what: `'${topic}' to cross` });
}

const args = (messages: readonly Message[]): unknown[] => messages.map((m) => [m.topic, ...m.args]);

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('federation: broker({ join })', () => {
  it('forwards publishes from A to B and from B to A', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    await linksUp(b);
    const onA = await scope.connect(a, 'on-a');
    const onB = await scope.connect(b, 'on-b');
    const atB = collect(onB.subscribe$('fed/ab'), 1, { what: 'at b' });
    const atA = collect(onA.subscribe$('fed/*'), 1, { what: 'at a' });
    await roundTrip(onA, onB);
    onA.publish('fed/ab', { n: 1 }, 'x');
    expect(args(await atB.done)).toEqual([['fed/ab', { n: 1 }, 'x']]);
    onB.publish('fed/ba', 2);
    expect(args(await atA.done)).toEqual([['fed/ba', 2]]);
    await sleep(QUIET_MS);
    expect(atB.values).toHaveLength(1);
    expect(atA.values).toHaveLength(1);
  });

  it('makes a method exposed on B callable from A, and one exposed on A callable from B', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    await linksUp(b);
    const [onA, serverA] = await scope.connectAll(a, 'on-a', 'server-a');
    const [onB, serverB] = await scope.connectAll(b, 'on-b', 'server-b');
    serverB.expose('add', (x: number, y: number) => x + y);
    serverB.expose('boom', () => { throw new Error('kaput'); });
    serverA.expose('hello', (who: string) => `hello ${who}`);
    expect(await callWhenBridged(onA, 'add', 1, 2)).toBe(3);
    expect(await callWhenBridged(onB, 'hello', 'b')).toBe('hello b');
    const err = await onA.rpc('boom').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).remoteCode).toBe(40);
    expect((err as RpcError).details).toBe('kaput');
    expect(a.stats().pendingRpcs + b.stats().pendingRpcs).toBe(0);
  });

  it('keeps ordinary subscribers blind to the feed and the bridges', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    await linksUp(b);
    const onA = await scope.connect(a, 'watcher');
    const all = collect(onA.subscribe$('*'), 1, { what: 'catch-all' });
    const deep = collect(onA.subscribe$('**'), 1, { what: 'glob' });
    await roundTrip(onA);
    const pub = await scope.connect(a, 'pub');
    pub.publish('plain', 1);
    await Promise.all([all.done, deep.done]);
    await sleep(QUIET_MS);
    expect([...all.values, ...deep.values].map((m) => m.topic)).toEqual(['plain', 'plain']);
    expect([...all.values, ...deep.values].some((m) => m.topic === FEED_TOPIC)).toBe(false);
  });

  it('delivers once on every broker of a three-broker cycle and does not loop', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    const c = await scope.broker({ name: 'c', join: [a.url!, b.url!] });
    await Promise.all([linksUp(b), linksUp(c)]);
    const brokers = [a, b, c];
    const logs = brokers.map((x) => accepted(x, 'cycle/'));
    const subs = await Promise.all(brokers.map((x, i) => scope.connect(x, `sub-${i}`)));
    const exact = subs.map((s, i) => collect(s.subscribe$('cycle/t'), 3, { what: `exact at ${i}` }));
    const wild = subs.map((s, i) => collect(s.subscribe$('cycle/*'), 3, { what: `wildcard at ${i}` }));
    await roundTrip(...subs);
    const pubs = await Promise.all(brokers.map((x, i) => scope.connect(x, `pub-${i}`)));
    pubs[0]!.publish('cycle/t', 'from a');
    pubs[1]!.publish('cycle/t', 'from b');
    pubs[2]!.publish('cycle/t', 'from c');
    await Promise.all([...exact, ...wild].map((got) => got.done));
    await sleep(QUIET_MS);
    for (const got of [...exact, ...wild]) {
      expect(got.values.map((m) => m.args[0]).sort()).toEqual(['from a', 'from b', 'from c']);
    }
    for (const log of logs) expect(log.map((m) => m.args[0]).sort()).toEqual(['from a', 'from b', 'from c']);
  });

  it('routes calls around a three-broker cycle without looping', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    const c = await scope.broker({ name: 'c', join: [a.url!, b.url!] });
    await Promise.all([linksUp(b), linksUp(c)]);
    const server = await scope.connect(c, 'server');
    let calls = 0;
    server.expose('where', () => { calls++; return 'c'; });
    const [onA, onB] = [await scope.connect(a, 'on-a'), await scope.connect(b, 'on-b')];
    expect(await callWhenBridged(onA, 'where')).toBe('c');
    expect(await callWhenBridged(onB, 'where')).toBe('c');
    calls = 0;
    for (let i = 0; i < 10; i++) expect(await onA.rpc('where')).toBe('c');
    expect(calls).toBe(10);
    await sleep(QUIET_MS);
    expect([a, b, c].map((x) => x.stats().pendingRpcs)).toEqual([0, 0, 0]);
  });

  it('keeps serving its own components while the joined broker is down, and reports it', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    await linksUp(b);
    const down = firstValueFrom(b.links$.pipe(filter((l) => l[0]!.status.type !== 'up'), timeout(5_000)));
    await a.close();
    const state = await down;
    expect(state[0]!.kind).toBe('join');
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('local'), 1);
    await roundTrip(sub);
    pub.publish('local', 1);
    await got.done;
    expect(await sub.rpc('rid')).toBe('b');
  });
});

describe('federation: faults', () => {
  it('joins a broker that starts later, and again after it restarts', async () => {
    const port = await freePort();
    const b = await scope.broker({ name: 'b', join: [`ws://127.0.0.1:${port}`] });
    const onB = await scope.connect(b, 'on-b');
    expect(await onB.rpc('rid')).toBe('b');
    let a = await scope.broker({ name: 'a', port });
    await linksUp(b, 10_000);
    let onA = await scope.connect(a, 'on-a');
    const first = collect(onB.subscribe$('late/*'), 2);
    await roundTrip(onB);
    onA.publish('late/1', 'first');
    await waitFor(() => first.values.length === 1, { what: 'the first publish' });
    const down = firstValueFrom(b.links$.pipe(filter((l) => l[0]!.status.type !== 'up'), timeout(5_000)));
    await onA.close();
    await a.close();
    await down;
    a = await scope.broker({ name: 'a', port });
    await linksUp(b, 10_000);
    onA = await scope.connect(a, 'on-a2');
    onA.publish('late/2', 'after restart');
    expect(args(await first.done)).toEqual([['late/1', 'first'], ['late/2', 'after restart']]);
  });
});

describe('federation: private topics', () => {
  it('forwards no private topic and bridges no private method', async () => {
    // alice proves her name (shared secret): rights on private topics need a proven name.
    const security = memorySecurityStore({ topicAuth: { secret: ['alice'], hidden: ['alice'] }, keys: { alice: 'a-secret' } });
    const a = await scope.broker({ name: 'a', security });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    await linksUp(b);
    const alice = await scope.connect(a, 'alice', { key: 'a-secret' });
    alice.expose('hidden', () => 'no');
    alice.expose('shown', () => 'yes');
    const onB = await scope.connect(b, 'on-b');
    const got = collect(onB.subscribe$('*'), 1);
    await roundTrip(onB);
    alice.publish('secret', 1);
    alice.publish('public', 2);
    expect(await callWhenBridged(onB, 'shown')).toBe('yes');
    await got.done;
    await sleep(QUIET_MS);
    expect(got.values.map((m) => m.topic)).toEqual(['public']);
    await expect(onB.rpc('hidden')).rejects.toThrow(/METHOD_NOT_FOUND|not found/i);
  });
});

describe('federation: bridge()', () => {
  it('forwards only the chosen topics', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b' });
    const link = scope.track(bridge(a.url!, b.url!, { topics: ['keep/**'], refreshInterval: 100 }));
    await firstValueFrom(link.status$.pipe(filter((s) => s.type === 'up'), timeout(5_000)));
    const onA = await scope.connect(a, 'on-a');
    const onB = await scope.connect(b, 'on-b');
    const kept = collect(onB.subscribe$('keep/x'), 1);
    const skipped = collect(onB.subscribe$('drop/x'), 1);
    await roundTrip(onB);
    onA.publish('drop/x', 0);
    onA.publish('keep/x', 1);
    expect(args(await kept.done)).toEqual([['keep/x', 1]]);
    await sleep(QUIET_MS);
    expect(skipped.values).toHaveLength(0);
  });
});

describe('federation: rembus bridge (CLI)', () => {
  it('forwards between two brokers and exits 0 on SIGTERM', async () => {
    const a = await scope.broker({ name: 'a' });
    const b = await scope.broker({ name: 'b' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'bridge', a.url!, b.url!,
      '--refresh', '100'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdout!.resume();
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const onA = await scope.connect(a, 'on-a');
    const onB = await scope.connect(b, 'on-b');
    const got = collect(onB.subscribe$('cli/t'), 1, { timeout: 45_000 });
    await roundTrip(onB);
    await publishUntilWithin(40_000, onA, got, 'cli/t', 'over the cli');
    expect(args(await got.done)).toEqual([['cli/t', 'over the cli']]);
    onB.expose('ping', () => 'pong');
    expect(await callWhenBridged(onA, 'ping')).toBe('pong');
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
  }, 60_000);
});
