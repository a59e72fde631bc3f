/**
 * Sending one replay (spec §4.7): the logged messages inside each subscription's window, oldest
 * first, a page at a time, waiting for the socket and the outbox to drain between pages.
 */
import type { SchedulerLike } from 'rxjs';
import { decodeValue } from '../codec/cbor.js';
import { later } from '../internal/clock.js';
import type { PubMsg } from '../protocol/messages.js';
import type { StoredMessage } from '../store/types.js';
import { isPattern, matches } from '../topic/index.js';
import { isReservedTopic } from './guard.js';
import type { MessageLog } from './message-log.js';
import { deliverNow, Outgoing } from './outgoing.js';
import { CATCH_ALL } from './router.js';
import type { Session, Twin } from './twin.js';

const PAGE = 500;
/** Pause the replay while this many bytes wait in the socket (bounded memory for big backlogs). */
const MAX_BUFFERED = 4 * 1024 * 1024;

/**
 * May the replaying twin receive a logged message on `topic` published by `origin`
 * (`StoredMessage.origin`: a name, null the broker's own, undefined none kept)? Guard.replayable.
 */
export type ReplayAdmits = (topic: string, origin?: string | null) => boolean;

/** What one subscription replays: recv in (since, upTo]. */
export interface Window { since: bigint; upTo: bigint }

/**
 * Send the logged messages inside `windows` to `twin` while `session` is its open session;
 * `admits` (undefined: all) skips what it may not receive (private topics, spec §6.2; another
 * tenant's publisher).
 */
export async function sendWindows(twin: Twin, session: Session, windows: Map<string, Window>, log: MessageLog,
  admits: ReplayAdmits | undefined, scheduler?: SchedulerLike): Promise<void> {
  if (windows.size === 0) return;
  let after = [...windows.values()].reduce((a, w) => (w.since < a ? w.since : a), windows.values().next().value!.since);
  const upTo = [...windows.values()].reduce((a, w) => (w.upTo > a ? w.upTo : a), 0n);
  const live = (): boolean => twin.session === session && session.link.isOpen;
  while (after < upTo && live()) {
    const page = await log.read({ after, upTo, limit: PAGE });
    if (page.length === 0 || !live()) break;
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const stored of page) {
      // An expired message (TS publish `ttl`) is not replayed.
      if (stored.expires != null && stored.expires <= now) continue;
      if (admits === undefined || admits(stored.topic, stored.origin)) deliverStored(twin, stored, windows);
    }
    after = page.at(-1)!.recv;
    // Bounded memory: the next page waits until the socket and the outbox have drained.
    while (live() && (session.unread > MAX_BUFFERED || (twin.outbox?.size ?? 0) > PAGE)) await sleep(5, scheduler);
  }
}

function deliverStored(twin: Twin, stored: StoredMessage, windows: Map<string, Window>): void {
  let msg: PubMsg | undefined;
  const original = (): PubMsg => (msg ??= {
    type: 'pub', flags: stored.qos, topic: stored.topic, args: decodeValue(stored.data) as unknown[],
    ...(stored.uid === null ? {} : { id: stored.uid }),
  });
  let sentOriginal = false;
  // The broker's own topics (its stats snapshots) reach their exact subscribers only, as live (router.publishExact).
  const exactOnly = isReservedTopic(stored.topic);
  for (const [sub, { since, upTo }] of windows) {
    if (stored.recv <= since || stored.recv > upTo || !twin.subscriptions.has(sub)) continue;
    if (exactOnly && sub !== stored.topic) continue;
    if (sub === stored.topic || sub === CATCH_ALL) {
      if (sentOriginal) continue;
      sentOriginal = true;
      deliverNow(twin, new Outgoing(original(), null, stored.recv));
    } else if (isPattern(sub) && matches(sub, stored.topic)) {
      deliverNow(twin, Outgoing.wildcard(sub, original(), stored.recv));
    }
  }
}

function sleep(ms: number, scheduler: SchedulerLike | undefined): Promise<void> {
  return new Promise((resolve) => { later(scheduler, ms, resolve); });
}
