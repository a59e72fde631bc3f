/**
 * RPC across a federation (spec §10, TS design): a path-vector over exposed methods. Pure.
 *
 * A bridge between brokers X and Y exposes on Y a method `m` known on X when
 *
 * 1. Y has no ordinary exposer of `m` (a broker serves its own methods itself), and
 * 2. X has a route for `m` that does not pass Y and is not the bridge's own exposure: an
 *    ordinary exposer (path `[]`), or another bridge's exposure whose advertised path omits Y.
 *
 * It advertises the exposure on Y with the path `[X, ...path of the route]`, and forwards each
 * call along the shortest such route: a broker-routed call when X serves `m` itself, else a
 * direct call to the bridge twin that advertised the route. Since no route ever names the
 * broker it is offered to, routes cannot chase each other around a cycle (no count to
 * infinity), and each forwarded call follows a route strictly shorter than the one it came by.
 */
import type { Route, RouteTable } from './federation-protocol.js';

/** Where a bridge sends a call for a method: broker-routed (`target` undefined) or direct to a bridge twin. */
export interface Hop {
  readonly target: string | undefined;
  /** The route's path beyond the broker the call goes to. */
  readonly path: readonly string[];
}

/**
 * The best route of `route` usable by a bridge whose twin there is `ownCid`, toward the broker
 * `towards`; undefined when there is none.
 */
export function bestHop(route: Route | undefined, towards: string, ownCid: string): Hop | undefined {
  if (route === undefined) return undefined;
  if (route.native) return { target: undefined, path: [] };
  let best: Hop | undefined;
  for (const via of route.via) {
    if (via.cid === ownCid || via.path.includes(towards)) continue;
    if (best === undefined || via.path.length < best.path.length) best = { target: via.cid, path: via.path };
  }
  return best;
}

/**
 * The methods a bridge should expose on `to`, each with the path it advertises there, given the
 * route tables of `from` (where the methods are served) and `to`.
 *
 * @example
 * ```ts
 * const a = { id: 'A', routes: { add: { native: true, via: [] } } };
 * const b = { id: 'B', routes: {} };
 * exposures(a, b, 'bridge-1'); // Map { 'add' => ['A'] }
 * ```
 */
export function exposures(from: RouteTable, to: RouteTable, ownCidOnFrom: string): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const [method, route] of Object.entries(from.routes)) {
    if (to.routes[method]?.native === true) continue;
    const hop = bestHop(route, to.id, ownCidOnFrom);
    if (hop !== undefined && !hop.path.includes(from.id)) out.set(method, [from.id, ...hop.path]);
  }
  return out;
}
