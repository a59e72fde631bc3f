/**
 * The exposer choice of each RPC policy (src/broker/rpc-policy.ts), on stand-in twins: who is
 * picked, ties, the caller never picked, disconnected and refused exposers skipped, and the
 * outcomes when nobody can serve.
 */
import { describe, expect, it } from 'vitest';
import { ExposerPicker, RpcPolicyError } from '../../src/broker/rpc-policy.js';
import type { Twin } from '../../src/broker/twin.js';

const twin = (name: string, up = true): Twin => ({ name, session: up ? {} : null }) as unknown as Twin;
const caller = twin('caller');
const names = (picks: unknown[]): string[] => picks.map((p) => (typeof p === 'string' ? p : (p as { name: string }).name));

describe('ExposerPicker', () => {
  const [a, b, c] = [twin('a'), twin('b'), twin('c')];

  it('round_robin cycles per method, skipping disconnected exposers', () => {
    const p = new ExposerPicker('round_robin');
    const down = twin('down', false);
    const list = [a, down, b, c];
    expect(names(Array.from({ length: 6 }, () => p.pick('m', list, caller, undefined, () => 0))))
      .toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(names([p.pick('other', list, caller, undefined, () => 0)])).toEqual(['a']);
  });

  it('first_up always picks the first connected exposer', () => {
    const p = new ExposerPicker('first_up');
    const list = [twin('x', false), b, c];
    expect(names([1, 2, 3].map(() => p.pick('m', list, caller, undefined, () => 99)))).toEqual(['b', 'b', 'b']);
  });

  it('less_busy picks the fewest calls in flight, ties to the earliest', () => {
    const p = new ExposerPicker('less_busy');
    const load = new Map<Twin, number>([[a, 2], [b, 1], [c, 1]]);
    expect(names([p.pick('m', [a, b, c], caller, undefined, (t) => load.get(t)!)])).toEqual(['b']);
    load.set(a, 0);
    expect(names([p.pick('m', [a, b, c], caller, undefined, (t) => load.get(t)!)])).toEqual(['a']);
  });

  it('never picks the caller or a refused exposer; says why nobody can serve', () => {
    for (const policy of ['first_up', 'round_robin', 'less_busy'] as const) {
      const p = new ExposerPicker(policy);
      expect(p.pick('m', [], caller, undefined, () => 0)).toBe('not_found');
      expect(p.pick('m', [caller], caller, undefined, () => 0)).toBe('loopback');
      expect(p.pick('m', [caller, twin('d', false)], caller, undefined, () => 0)).toBe('unavailable');
      expect(p.pick('m', [a], caller, (t) => t !== a, () => 0)).toBe('not_found');
      expect(names([p.pick('m', [caller, a, b], caller, (t) => t !== a, () => 0)])).toEqual(['b']);
    }
  });

  it('applies per-method policies over the default and refuses unknown names', () => {
    const p = new ExposerPicker({ default: 'first_up', methods: { spread: 'round_robin' } });
    expect([p.policyOf('any'), p.policyOf('spread')]).toEqual(['first_up', 'round_robin']);
    expect(new ExposerPicker({}).policyOf('x')).toBe('round_robin');
    expect(() => new ExposerPicker('random' as never)).toThrow(RpcPolicyError);
    expect(() => new ExposerPicker({ default: 'x' as never })).toThrow(/rpcPolicy\.default/);
    expect(() => new ExposerPicker(null as never)).toThrow(RpcPolicyError);
  });
});
