/**
 * RPC routing policies: which of the components exposing a method serves a call. Names and
 * meanings are Rembus.jl's (`broker(policy=…)`, CLI `--policy`):
 *
 * - `first_up`: the first exposer (in exposure order) that is connected and admitted;
 * - `round_robin`: the next one after the previous choice for this method;
 * - `less_busy`: the one with the fewest calls forwarded to it and not yet answered (JL: the
 *   shortest queue of outstanding requests); ties go to the earliest in exposure order.
 *
 * The TS default stays `round_robin` (JL's is `first_up`); a method can have its own policy.
 * Pure: no I/O, the caller supplies the in-flight counts.
 */
import { RembusError } from '../errors.js';
import type { Admits } from './guard.js';
import type { ExposerChoice } from './router.js';
import type { Twin } from './twin.js';

/** One of Rembus's routing policies. */
export type RpcPolicyName = 'first_up' | 'round_robin' | 'less_busy';

/** `broker({ rpcPolicy })`: one policy for every method, or a default plus per-method ones. */
export type RpcPolicy = RpcPolicyName | { default?: RpcPolicyName; methods?: Record<string, RpcPolicyName> };

/** An unknown policy name was given. */
export class RpcPolicyError extends RembusError {
  readonly code = 'RPC_POLICY';
  constructor(message: string) {
    super(message);
    this.name = 'RpcPolicyError';
  }
}

export const RPC_POLICIES: readonly RpcPolicyName[] = ['first_up', 'round_robin', 'less_busy'];

function checked(name: unknown, where: string): RpcPolicyName {
  if (typeof name === 'string' && (RPC_POLICIES as readonly string[]).includes(name)) return name as RpcPolicyName;
  throw new RpcPolicyError(`${where}: unknown RPC policy ${JSON.stringify(name)}, expected one of ${RPC_POLICIES.join(', ')}`);
}

/** Picks exposers for calls according to a validated {@link RpcPolicy}. */
export class ExposerPicker {
  private readonly fallback: RpcPolicyName;
  private readonly perMethod = new Map<string, RpcPolicyName>();
  /** round_robin: index after the previous choice, per method. */
  private readonly cursor = new Map<string, number>();

  /** @throws RpcPolicyError naming the bad entry */
  constructor(policy: RpcPolicy = 'round_robin') {
    if (typeof policy === 'string' || typeof policy !== 'object' || policy === null) {
      this.fallback = checked(policy, 'rpcPolicy');
      return;
    }
    this.fallback = checked(policy.default ?? 'round_robin', 'rpcPolicy.default');
    for (const [method, name] of Object.entries(policy.methods ?? {})) {
      this.perMethod.set(method, checked(name, `rpcPolicy.methods.${method}`));
    }
  }

  /** The policy that applies to `method`. */
  policyOf(method: string): RpcPolicyName {
    return this.perMethod.get(method) ?? this.fallback;
  }

  /**
   * Choose among `list` (exposure order) an exposer of `method` for `caller`: never the caller
   * itself ('loopback' when it is the only one), never one `admits` refuses ('not_found' when
   * none is admitted), never a disconnected one ('unavailable').
   * @param busy calls in flight to a twin (used by `less_busy`)
   */
  pick(method: string, list: readonly Twin[], caller: Twin, admits: Admits, busy: (twin: Twin) => number): ExposerChoice {
    if (list.length === 0) return 'not_found';
    const policy = this.policyOf(method);
    const start = policy === 'round_robin' ? (this.cursor.get(method) ?? 0) % list.length : 0;
    let callerExposes = false;
    let candidates = 0;
    let best: Twin | undefined;
    let bestAt = 0;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0; i < list.length; i++) {
      const at = (start + i) % list.length;
      const twin = list[at]!;
      if (admits !== undefined && twin !== caller && !admits(twin)) continue;
      candidates++;
      if (twin === caller) { callerExposes = true; continue; }
      if (twin.session === null) continue;
      if (policy !== 'less_busy') { best = twin; bestAt = at; break; }
      const load = busy(twin);
      if (load < bestLoad) { best = twin; bestAt = at; bestLoad = load; }
      if (load === 0) break;
    }
    if (best !== undefined) {
      if (policy === 'round_robin') this.cursor.set(method, (bestAt + 1) % list.length);
      return best;
    }
    if (candidates === 0) return 'not_found';
    return callerExposes && candidates === 1 ? 'loopback' : 'unavailable';
  }
}
