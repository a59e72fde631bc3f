import { defer, filter, map, type OperatorFunction } from 'rxjs';
import type { PresenceEvent, PresenceState } from '../src/types.js';

/**
 * Fold presence events into the set of connected components and what they expose. A
 * `snapshot` replaces the state; `up`, `down`, `expose` and `unexpose` change it. Events before
 * the first snapshot are dropped: the snapshot answered on the same ordered link already
 * reflects them (spec §1.1). Emits the state after the first snapshot and after each event that
 * changes it; components are sorted by name, their methods by name.
 *
 * @example
 * ```ts
 * import { presenceScan } from 'rembus/operators';
 *
 * events$.pipe(presenceScan()).subscribe((state) => console.log(state.map((c) => c.cid)));
 * ```
 *
 * @returns an operator from presence events to presence states.
 * Errors: only those of the source.
 * @see presence$ on the component, which feeds it the broker's snapshot and events.
 */
export function presenceScan(): OperatorFunction<PresenceEvent, PresenceState> {
  return (source) => defer(() => {
    let state: Map<string, Set<string>> | null = null; // per subscription
    return source.pipe(
      filter((event) => {
        if (event.type === 'snapshot') {
          state = new Map(event.components.map((c) => [c.cid, new Set(c.exposes)]));
          return true;
        }
        return state !== null && apply(state, event);
      }),
      map(() => snapshotOf(state!)),
    );
  });
}

/** Apply one event; false when it changes nothing. */
function apply(state: Map<string, Set<string>>, event: Exclude<PresenceEvent, { type: 'snapshot' }>): boolean {
  const methods = state.get(event.cid);
  switch (event.type) {
    case 'up': {
      const next = new Set(event.exposes ?? methods ?? []);
      if (methods !== undefined && sameSet(methods, next)) return false;
      state.set(event.cid, next);
      return true;
    }
    case 'down': return state.delete(event.cid);
    case 'expose':
      // Only a connected component can expose, so an unknown name is up.
      if (methods?.has(event.method) === true) return false;
      state.set(event.cid, new Set(methods).add(event.method));
      return true;
    case 'unexpose':
      return methods?.delete(event.method) === true;
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((m) => b.has(m));
}

function snapshotOf(state: Map<string, Set<string>>): PresenceState {
  return [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cid, methods]) => ({ cid, exposes: [...methods].sort() }));
}
