/**
 * RPC routing policies through a real broker (issue 17 item 5): three exposers of different
 * speeds — `slow` holds every call until the end of the test, `medium` holds calls until
 * released, `fast` answers at once — and one caller that makes calls one after the other, each
 * waiting until an exposer has picked it up. The policy shows in who got how many calls.
 */
import { describe, expect, it } from 'vitest';
import { Subscription } from 'rxjs';
import type { Broker, BrokerOptions } from '../../src/broker/index.js';
import { RpcPolicyError } from '../../src/broker/index.js';
import type { Component } from '../../src/index.js';
import { roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

interface Exposer { readonly name: string; got: number; release(): void }

/** Expose `method` on a component named `name`: `hold` keeps calls pending until release(). */
async function exposer(b: Broker, name: string, method: string, hold: boolean): Promise<Exposer> {
  const c = await scope.connect(b, name);
  const waiting: (() => void)[] = [];
  const state: Exposer = {
    name, got: 0,
    release: () => { for (const done of waiting.splice(0)) done(); },
  };
  c.expose(method, () => {
    state.got++;
    if (!hold) return name;
    return new Promise<string>((resolve) => waiting.push(() => resolve(name)));
  });
  await roundTrip(c); // exposure order = connection order
  return state;
}

/** slow, medium, fast exposers of `method`, exposed in that order. */
async function trio(b: Broker, method = 'work'): Promise<Exposer[]> {
  return [await exposer(b, 'slow', method, true), await exposer(b, 'medium', method, true),
    await exposer(b, 'fast', method, false)];
}

/**
 * Make `n` calls one after the other; each is awaited when `fast` answers it, else until some
 * exposer picked it up (the held ones stay pending, kept in `held`).
 */
async function calls(cli: Component, n: number, exposers: Exposer[], held: Subscription, method = 'work',
  answers: unknown[] = []): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = exposers.reduce((sum, e) => sum + e.got, 0);
    held.add(cli.call$(method, [], { timeout: 30_000 }).subscribe({ next: (v) => answers.push(v), error: () => undefined }));
    await waitFor(() => exposers.reduce((sum, e) => sum + e.got, 0) > before, { what: `call ${i} to be picked up` });
  }
  await roundTrip(cli);
}

const counts = (exposers: Exposer[]): Record<string, number> =>
  Object.fromEntries(exposers.map((e) => [e.name, e.got]));

async function run(options: BrokerOptions, n = 12): Promise<Record<string, number>> {
  const b = await scope.broker(options);
  const exposers = await trio(b);
  const cli = await scope.connect(b, 'cli');
  const held = new Subscription();
  try {
    await calls(cli, n, exposers, held);
    return counts(exposers);
  } finally {
    held.unsubscribe();
  }
}

describe('rpc policies', () => {
  it('round_robin (the default) spreads calls evenly whatever the speed', async () => {
    expect(await run({})).toEqual({ slow: 4, medium: 4, fast: 4 });
    expect(await run({ rpcPolicy: 'round_robin' })).toEqual({ slow: 4, medium: 4, fast: 4 });
  });

  it('first_up sends every call to the first exposer that is up, busy or not', async () => {
    expect(await run({ rpcPolicy: 'first_up' })).toEqual({ slow: 12, medium: 0, fast: 0 });
  });

  it('less_busy sends calls to the exposer with the fewest calls in flight', async () => {
    // slow and medium each take one call (ties go to the earliest) and hold it; fast, back to
    // zero after each answer, takes every other one.
    expect(await run({ rpcPolicy: 'less_busy' })).toEqual({ slow: 1, medium: 1, fast: 10 });
  });

  it('less_busy counts a call as done once answered, cancelled or failed by a disconnect', async () => {
    const b = await scope.broker({ rpcPolicy: 'less_busy' });
    const [slow, medium, fast] = await trio(b);
    const cli = await scope.connect(b, 'cli');
    const held = new Subscription();
    const cancelled = new Subscription();
    try {
      await calls(cli, 2, [slow!, medium!, fast!], cancelled); // slow 1, medium 1
      cancelled.unsubscribe(); // both calls withdrawn: slow and medium are idle again
      await roundTrip(cli);
      await calls(cli, 1, [slow!, medium!, fast!], held);
      expect(counts([slow!, medium!, fast!])).toEqual({ slow: 2, medium: 1, fast: 0 });
      medium!.release(); // nothing held there: still idle
      const answers: unknown[] = [];
      await calls(cli, 1, [slow!, medium!, fast!], held, 'work', answers);
      expect(counts([slow!, medium!, fast!])).toEqual({ slow: 2, medium: 2, fast: 0 });
      medium!.release(); // answered (the broker relayed it): medium idle again, slow still busy
      await waitFor(() => answers.includes('medium'), { what: 'medium to answer' });
      await calls(cli, 1, [slow!, medium!, fast!], held);
      expect(counts([slow!, medium!, fast!])).toEqual({ slow: 2, medium: 3, fast: 0 });
    } finally {
      held.unsubscribe();
    }
  });

  it('applies a per-method policy over the default', async () => {
    const b = await scope.broker({ rpcPolicy: { default: 'round_robin', methods: { work: 'first_up' } } });
    const work = await trio(b, 'work');
    const other = [await exposer(b, 'o1', 'other', false), await exposer(b, 'o2', 'other', false)];
    const cli = await scope.connect(b, 'cli');
    const held = new Subscription();
    try {
      await calls(cli, 4, work, held, 'work');
      await calls(cli, 4, other, held, 'other');
    } finally {
      held.unsubscribe();
    }
    expect(counts(work)).toEqual({ slow: 4, medium: 0, fast: 0 });
    expect(counts(other)).toEqual({ o1: 2, o2: 2 });
  });

  it('first_up moves on to the next exposer when the first one disconnects', async () => {
    const b = await scope.broker({ rpcPolicy: 'first_up' });
    const a = await scope.connect(b, 'a');
    a.expose('who', () => 'a');
    await roundTrip(a);
    const c2 = await scope.connect(b, 'b');
    c2.expose('who', () => 'b');
    await roundTrip(c2);
    const cli = await scope.connect(b, 'cli');
    expect([await cli.rpc('who'), await cli.rpc('who')]).toEqual(['a', 'a']);
    await a.close();
    // A call forwarded to `a` while it goes fails with 42 (METHOD_UNAVAILABLE): try again.
    await waitFor(async () => (await cli.rpc('who').catch(() => 'gone')) === 'b', { what: 'the broker to see a down' });
    expect(await cli.rpc('who')).toBe('b');
  });

  it('refuses an unknown policy name at start, naming the entry', async () => {
    await expect(scope.broker({ rpcPolicy: 'random' as never })).rejects.toBeInstanceOf(RpcPolicyError);
    await expect(scope.broker({ rpcPolicy: { methods: { m: 'fastest' as never } } }))
      .rejects.toThrow(/rpcPolicy\.methods\.m/);
  });
});
