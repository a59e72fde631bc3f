/**
 * One direction of a federation bridge, from broker X to broker Y: X's publishes are handed to
 * Y's agent, and the methods X can serve are exposed on Y, their calls forwarded to X (see
 * routes.ts for which, and the loop-avoidance rules in federation-protocol.ts).
 */
import {
  catchError, defer, EMPTY, filter, finalize, map, mergeMap, type Observable, throwError,
} from 'rxjs';
import type { Component } from '../component/types.js';
import { RpcError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { STATUS } from '../protocol/messages.js';
import type { TopicMatcher } from '../topic/pattern.js';
import type { Logger } from '../types.js';
import { AGENT, FEED_TOPIC, feedArgs, parseFeed, type FeedItem, type RouteTable } from './federation-protocol.js';
import { bestHop, exposures } from './routes.js';

/** One broker as a bridge sees it, through its component there. */
export class Side {
  /** The bridge twin's name there (the component's name). */
  readonly cid: string;
  /** The broker's id once attached; null while down or not attached. */
  info: { readonly id: string } | null = null;
  /** Its latest route table; undefined while down. */
  table: RouteTable | undefined;
  up = false;

  constructor(readonly node: Component, readonly url: string) {
    this.cid = node.name!;
  }

  /** The link went down: whatever was learned may be stale (the broker may restart with a new id). */
  reset(): void {
    this.info = null;
    this.table = undefined;
  }
}

/** What both directions share. */
export interface HalfContext {
  readonly log: Logger;
  /** Is this topic forwarded? */
  readonly forwards: TopicMatcher;
  readonly maxInFlight: number;
}

export class HalfBridge {
  private readonly exposed = new Map<string, { path: readonly string[]; teardown: () => void }>();
  private inFlight = 0;
  private dropped = 0;

  constructor(private readonly from: Side, private readonly to: Side, private readonly ctx: HalfContext) {}

  /** Hand X's feed to Y's agent, in order; runs until unsubscribed. */
  feed$(): Observable<unknown> {
    return this.from.node.subscribe$(FEED_TOPIC).pipe(
      map((m) => parseFeed(m.args)),
      filter((item): item is FeedItem => item !== undefined && this.accepts(item)),
      // Calls leave in feed order on one link and Y's broker handles them in order.
      mergeMap((item) => {
        this.inFlight++;
        return this.to.node.call$(AGENT.publish, feedArgs(item)).pipe(
          catchError((err: unknown) => {
            this.ctx.log.debug({ topic: item.topic, to: this.to.url, err: errorText(err) }, 'publish not forwarded');
            return EMPTY;
          }),
          finalize(() => { this.inFlight--; }),
        );
      }),
      // The feed's component was stopped for good (its login refused: AuthError): an error left
      // to the bare subscribe would be thrown out of the event loop and kill the broker process.
      catchError((err: unknown) => {
        this.ctx.log.error({ from: this.from.url, err: errorText(err) }, 'federation feed stopped');
        return EMPTY;
      }),
    );
  }

  private accepts(item: FeedItem): boolean {
    const to = this.to.info;
    // "A message never returns to a broker it has passed" (spec §10 via the path).
    if (to === null || item.path.includes(to.id) || !this.ctx.forwards(item.topic)) return false;
    if (this.inFlight < this.ctx.maxInFlight) return true;
    if (this.dropped++ % 1_000 === 0) {
      this.ctx.log.warn({ to: this.to.url, dropped: this.dropped, inFlight: this.inFlight }, 'too many publishes in flight: dropped');
    }
    return false;
  }

  /** Expose on Y what X can serve and withdraw what it no longer can (routes.ts). */
  reconcile(): void {
    const { from, to } = this;
    const desired = from.table !== undefined && to.table !== undefined && from.info !== null && to.info !== null
      ? exposures(from.table, to.table, from.cid) : new Map<string, readonly string[]>();
    for (const [method, entry] of this.exposed) {
      if (desired.has(method)) continue;
      entry.teardown();
      this.exposed.delete(method);
      this.ctx.log.debug({ method, on: to.url }, 'bridged method withdrawn');
    }
    for (const [method, path] of desired) {
      const entry = this.exposed.get(method);
      if (entry !== undefined) {
        this.exposed.set(method, { ...entry, path });
        continue;
      }
      try {
        const teardown = to.node.expose(method, (...args: unknown[]) => this.forward$(method, args));
        this.exposed.set(method, { path, teardown });
        this.ctx.log.debug({ method, on: to.url, path }, 'method bridged');
      } catch (err) {
        this.ctx.log.warn({ method, err: errorText(err) }, 'method not bridged');
      }
    }
  }

  /** The paths of what this direction exposes on Y, for Y's agent. */
  adverts(): Record<string, readonly string[]> {
    return Object.fromEntries([...this.exposed].map(([method, { path }]) => [method, path]));
  }

  /**
   * Run a call made on Y at X, along the best route there: broker-routed when X serves the method
   * itself, else directly at the bridge twin of the route. A handler failure at the far end is
   * re-raised with its own text, so the caller sees what it would have seen there.
   */
  private forward$(method: string, args: unknown[]): Observable<unknown> {
    return defer(() => {
      const hop = bestHop(this.from.table?.routes[method], this.to.info?.id ?? '', this.from.cid);
      if (hop === undefined) return throwError(() => new Error(`${method}: method unavailable (no route)`));
      return this.from.node.call$(method, args, hop.target === undefined ? {} : { target: hop.target }).pipe(
        catchError((err: unknown) => throwError(() => (err instanceof RpcError && err.remoteCode === STATUS.METHOD_EXCEPTION
          ? new Error(typeof err.details === 'string' ? err.details : errorText(err)) : err))),
      );
    });
  }

  /** Withdraw every exposure (closing). */
  withdraw(): void {
    for (const { teardown } of this.exposed.values()) teardown();
    this.exposed.clear();
  }
}
