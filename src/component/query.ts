/**
 * `query$(table, { where, live })`: a one-shot or live query of a broker's schema table through
 * the `live_<t>` / `unlive_<t>` pair (protocol/live-query.ts). Rows arrive as plain objects
 * (`format: 'rows'`), so no DataFrame library is needed: this file is browser-safe.
 */
import { catchError, defer, EMPTY, filter, last, map, Observable, switchMap, takeUntil, throwError, type Subscription } from 'rxjs';
import { ConnectionClosedError, MethodNotFoundError, RpcError, RpcTimeoutError } from '../errors.js';
import { LiveQueryEndedError, liveMethod, liveQueryError, unliveMethod, UnknownTableError } from '../protocol/live-query.js';
import type { CallOptions, Message, Status, SubscribeOptions } from '../types.js';

/** Options of a one-shot {@link QueryClient.query$}. */
export interface QueryOptions {
  /** A condition in the grammar of `compileWhere` (README "Data at rest"). Default: every row. */
  readonly where?: string;
  readonly live?: false;
  /** Request timeout, ms. Default: the component's `requestTimeout`. */
  readonly timeout?: number;
}

/** Options of a live {@link QueryClient.query$}. */
export interface LiveQueryOptions {
  /** A condition in the grammar of `compileWhere`, evaluable on new rows. Default: every row. */
  readonly where?: string;
  readonly live: true;
  /** The topic the broker publishes new rows on. Default: `live/<table>/<random uuid>`. */
  readonly topic?: string;
  /** Timeout of each `live_<t>` call, ms. Default: the component's `requestTimeout`. */
  readonly timeout?: number;
}

/**
 * One emission of a live query. `snapshot` carries every row matching now and replaces
 * whatever came before it (it comes first, and again after each reconnect, since rows stored
 * while the link was down reached nobody); `rows` carries rows stored since, one emission per
 * broker commit, in commit order. Folding them gives the live result set:
 * `scan((all, e) => e.type === 'snapshot' ? e.rows : [...all, ...e.rows], [])`.
 */
export type LiveQueryEvent<R> =
  | { readonly type: 'snapshot'; readonly rows: R[] }
  | { readonly type: 'rows'; readonly rows: R[] };

/** What `query$` needs of a component. */
export interface QueryClient {
  readonly status$: Observable<Status>;
  call$<R = unknown>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
  subscribe$<A extends unknown[] = unknown[]>(pattern: string, options?: SubscribeOptions): Observable<Message<A>>;
}

/** The typed error a failed `live_<t>` call stands for. */
function typed(table: string, err: unknown): unknown {
  if (err instanceof MethodNotFoundError) return new UnknownTableError(table, { cause: err });
  if (err instanceof RpcError) return liveQueryError(table, err.details, { cause: err }) ?? err;
  return err;
}

/** Rows as the broker sent them (a list of maps). */
const rowsOf = <R>(value: unknown): R[] => (Array.isArray(value) ? value as R[] : []);

/** A one-shot query: the rows matching now. */
export function oneShotQuery$<R>(client: QueryClient, table: string, options: QueryOptions): Observable<R[]> {
  return client.call$(liveMethod(table), [{ where: options.where, format: 'rows' }], { stream: false, timeout: options.timeout }).pipe(
    last(),
    map((rows) => rowsOf<R>(rows)),
    catchError((err: unknown) => throwError(() => typed(table, err))),
  );
}

/** A connection-level failure: the query restarts at the next `up` instead of failing. */
const transient = (err: unknown): boolean => err instanceof ConnectionClosedError || err instanceof RpcTimeoutError;

/**
 * A live query: snapshot, then rows as they are stored, re-snapshotted after each reconnect.
 * Cold: each subscription is its own query on the broker, stopped when it unsubscribes.
 */
export function liveQuery$<R>(client: QueryClient, table: string, options: LiveQueryOptions): Observable<LiveQueryEvent<R>> {
  return defer(() => {
    const topic = options.topic ?? `live/${table}/${globalThis.crypto.randomUUID()}`;
    const closed$ = client.status$.pipe(last(null, null));
    return new Observable<LiveQueryEvent<R>>((subscriber) => {
      let sent = false;
      // Rows of the current registration only: those before its snapshot answer are of a dead one.
      let accepting = false;
      const topicSub: Subscription = client.subscribe$(topic).subscribe({
        next: (m) => {
          const [rows, end] = m.args as [unknown, { reason?: unknown; message?: unknown } | undefined];
          if (rows === null) {
            subscriber.error(new LiveQueryEndedError(table, String(end?.reason ?? end?.message ?? 'ended')));
          } else if (accepting) {
            const list = rowsOf<R>(rows);
            if (list.length > 0) subscriber.next({ type: 'rows', rows: list });
          }
        },
        error: (err: unknown) => subscriber.error(err),
      });
      const runs = client.status$.pipe(
        filter((s) => s.type === 'up'),
        switchMap(() => {
          accepting = false;
          sent = true;
          return client.call$(liveMethod(table), [{ where: options.where, topic, format: 'rows' }],
            { stream: false, timeout: options.timeout }).pipe(
            last(),
            catchError((err: unknown) => (transient(err) ? EMPTY : throwError(() => typed(table, err)))),
          );
        }),
        takeUntil(closed$),
      ).subscribe({
        next: (rows) => {
          accepting = true;
          subscriber.next({ type: 'snapshot', rows: rowsOf<R>(rows) });
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        runs.unsubscribe();
        topicSub.unsubscribe();
        // Stop the broker's work now rather than at the next disconnect (also when the call is
        // still in flight: the broker reserved the query on receipt); nobody waits for it.
        if (sent) client.call$(unliveMethod(table), [topic], { stream: false }).subscribe({ error: () => undefined });
      };
    });
  });
}
