/**
 * Competing consumers: each value goes to one member of a group, chosen round robin among the
 * members that can take it (README "Shared subscriptions"). {@link pickMember} is the pure
 * choice the broker runs per group delivery; {@link groupDispatch} is the same rule as an
 * operator over a stream of values and a stream of member lists.
 */
import type { OperatorFunction } from 'rxjs';
import { Observable, Subscription } from '../src/internal/rx.js';

/** Options of {@link groupDispatch}. */
export interface GroupDispatchConfig<M> {
  /**
   * May `member` take a value now? False skips it (offline, paused, outbox full). Default: all.
   * An error thrown here errors the output stream.
   */
  readonly eligible?: (member: M) => boolean;
}

/** One value and the member it goes to; `member` is undefined when no member could take it. */
export interface GroupAssignment<T, M> {
  readonly value: T;
  readonly member: M | undefined;
}

/**
 * The next member able to take a value, round robin from `start`: the first `i` in `start`,
 * `start + 1` … (modulo `members.length`) with `eligible(members[i])`, or -1 when none is.
 * Pure: the caller keeps the cursor (set it to the returned index + 1).
 *
 * @example
 * ```ts
 * import { pickMember } from 'rembus/operators';
 * const at = pickMember(['a', 'b', 'c'], 1, (m) => m !== 'b'); // 2: 'b' is skipped
 * ```
 * @param members - The group, in join order.
 * @param start - Where the search begins (any integer ≥ 0; taken modulo the length).
 * @param eligible - Whether a member may take the value now.
 * @returns The chosen index, or -1.
 * @see groupDispatch
 */
export function pickMember<M>(members: readonly M[], start: number, eligible: (member: M) => boolean): number {
  const n = members.length;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (eligible(members[i]!)) return i;
  }
  return -1;
}

/**
 * Assign each source value to one member of the latest member list of `members$`, round robin,
 * skipping members `eligible` refuses. A value arriving before any list, or when no member is
 * eligible, is emitted with `member: undefined` (the caller decides: drop QoS0, queue QoS1/2).
 * The cursor survives list changes, so members joining or leaving keep the rotation fair.
 * Completes with the source; errors from the source, `members$` or `eligible` are forwarded.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { groupDispatch } from 'rembus/operators';
 * of(1, 2, 3).pipe(groupDispatch(of(['w1', 'w2']))).subscribe(({ value, member }) => console.log(value, member));
 * // 1 w1, 2 w2, 3 w1
 * ```
 * @param members$ - The group's members; each emission replaces the list.
 * @param config - See {@link GroupDispatchConfig}.
 * @returns An operator emitting one {@link GroupAssignment} per value.
 * @see pickMember
 */
export function groupDispatch<T, M>(members$: Observable<readonly M[]>,
  { eligible = () => true }: GroupDispatchConfig<M> = {}): OperatorFunction<T, GroupAssignment<T, M>> {
  return (source) => new Observable<GroupAssignment<T, M>>((subscriber) => {
    let members: readonly M[] = [];
    let cursor = 0;
    // One parent: members$ completing must not release the source with it.
    const subscription = new Subscription();
    subscription.add(members$.subscribe({
      next: (list) => { members = list; },
      error: (err: unknown) => subscriber.error(err),
    }));
    subscription.add(source.subscribe({
      next: (value) => {
        let at: number;
        try {
          at = pickMember(members, cursor, eligible);
        } catch (err) {
          subscriber.error(err);
          return;
        }
        if (at >= 0) cursor = at + 1;
        subscriber.next({ value, member: at >= 0 ? members[at] : undefined });
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }));
    return () => subscription.unsubscribe();
  });
}
