/**
 * Presence on the component side: the broker's `__presence__` snapshot (fetched again after
 * every login, since events are missed while down) then its `component_info` events (spec
 * §4.4), folded by `presenceScan`; and what derives from it, `services$` and `whenAvailable$`.
 */
import {
  catchError, distinctUntilChanged, EMPTY, filter, map, merge, mergeMap, type Observable, of, switchMap, take,
  throwError,
} from 'rxjs';
import { presenceScan } from '../../operators/presence-scan.js';
import { ConnectionClosedError, MethodNotFoundError } from '../errors.js';
import { COMPONENT_INFO_TOPIC, PRESENCE_METHOD } from '../protocol/messages.js';
import { matches } from '../topic/pattern.js';
import { validatePattern, validateTopic } from '../topic/validate.js';
import type { CallOptions, Message, PresenceEvent, PresenceState, Status } from '../types.js';

/** What presence needs of a component. */
export interface PresenceClient {
  readonly status$: Observable<Status>;
  subscribe$(pattern: string): Observable<Message>;
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
}

export function presence$(client: PresenceClient): Observable<PresenceState> {
  // Subscribed first: the declaration precedes the snapshot call on the same ordered link.
  const events$ = client.subscribe$(COMPONENT_INFO_TOPIC).pipe(
    mergeMap((m) => m.args.map(toPresenceEvent).filter((e): e is PresenceEvent => e !== null)));
  const snapshots$ = client.status$.pipe(
    filter((s) => s.type === 'up'),
    switchMap(() => client.call$<unknown>(PRESENCE_METHOD, [], { stream: false }).pipe(
      map((components): PresenceEvent => ({ type: 'snapshot', components: toState(components) })),
      catchError((err: unknown) => {
        // A PY or JL broker has no snapshot: start empty, follow JL's connection events.
        if (err instanceof MethodNotFoundError) return of<PresenceEvent>({ type: 'snapshot', components: [] });
        return err instanceof ConnectionClosedError ? EMPTY : throwError(() => err);
      }),
    )),
  );
  return merge(events$, snapshots$).pipe(presenceScan());
}

export function services$(presence: Observable<PresenceState>, pattern: string): Observable<PresenceState> {
  validatePattern(pattern);
  return presence.pipe(
    map((state) => state.map((c) => ({ cid: c.cid, exposes: c.exposes.filter((m) => matches(pattern, m)) }))
      .filter((c) => c.exposes.length > 0)),
    distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
  );
}

export function whenAvailable$(presence: Observable<PresenceState>, method: string): Observable<string> {
  validateTopic(method);
  return presence.pipe(
    map((state) => state.find((c) => c.exposes.includes(method))?.cid),
    filter((cid): cid is string => cid !== undefined),
    take(1),
  );
}

/** A `component_info` payload element as a presence event; null for anything else. */
export function toPresenceEvent(value: unknown): PresenceEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const { event, cid, method, exposes } = value as Record<string, unknown>;
  if (typeof cid !== 'string') return null;
  switch (event) {
    case 'connection_up':
      return Array.isArray(exposes) ? { type: 'up', cid, exposes: strings(exposes) } : { type: 'up', cid };
    case 'connection_down': return { type: 'down', cid };
    case 'expose': case 'unexpose': return typeof method === 'string' ? { type: event, cid, method } : null;
    default: return null;
  }
}

function toState(value: unknown): PresenceState {
  if (!Array.isArray(value)) return [];
  return value.flatMap((c: unknown) => {
    const { cid, exposes } = (c ?? {}) as Record<string, unknown>;
    return typeof cid === 'string' ? [{ cid, exposes: Array.isArray(exposes) ? strings(exposes) : [] }] : [];
  });
}

function strings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}
