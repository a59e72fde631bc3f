/**
 * Retroactive delivery (spec §4.7): on `reactive`, a named twin is sent the logged messages it
 * missed — newer than its mark, inside each subscription's msg_from window and the command's
 * max period — oldest first, then whatever arrived live meanwhile (held since the window was
 * fixed), so it sees no gap and no duplicate.
 */
import { decodeValue } from '../codec/cbor.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import type { StoredMessage } from '../store/types.js';
import { isPattern, matches } from '../topic/index.js';
import type { Logger } from '../types.js';
import type { MessageLog } from './message-log.js';
import { CATCH_ALL, deliverNow, Outgoing } from './router.js';
import type { Twin } from './twin.js';

/** Default replay window when the reactive command gives none: PY's fixed 3600 s (spec §4.7). */
export const DEFAULT_MAX_PERIOD_NS = 3_600_000_000_000;
const PAGE = 500;
/** Pause the replay while this many bytes wait in the socket (bounded memory for big backlogs). */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** Start holding live deliveries for `twin`; the replay window ends at the current log head. */
export function startHold(twin: Twin, head: bigint, waitMs: number, log: Logger): void {
  if (twin.held !== null || twin.anonymous) return;
  twin.held = [];
  twin.holdStart = head;
  // A component that never sends `reactive` (a PY app that never calls wait()) still gets its
  // live messages: give up the replay after `waitMs`.
  twin.holdTimer = setTimeout(() => {
    log.debug({ cid: twin.name }, 'no reactive command: live delivery resumes without replay');
    releaseHold(twin);
  }, waitMs);
  twin.holdTimer.unref?.();
}

export function releaseHold(twin: Twin): void {
  clearTimeout(twin.holdTimer);
  twin.holdTimer = undefined;
  const held = twin.held;
  twin.held = null;
  if (held !== null) for (const deliver of held) deliver();
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * Replay what `twin` missed, then release its held live messages. `admits` (undefined: all)
 * tells which topics the twin may receive: private topics it is not authorized for are skipped.
 */
export async function replay(twin: Twin, log: MessageLog, maxPeriodNs: number, logger: Logger,
  admits?: (topic: string) => boolean): Promise<void> {
  const session = twin.session;
  try {
    const now = nowNs();
    const period = BigInt(Math.floor(maxPeriodNs > 0 && Number.isFinite(maxPeriodNs) ? maxPeriodNs : DEFAULT_MAX_PERIOD_NS));
    const floor = now - period > twin.mark ? now - period : twin.mark;
    const windows = subscriptionWindows(twin, now, floor);
    if (windows.size === 0) return;
    let after = [...windows.values()].reduce((a, b) => (a < b ? a : b));
    const upTo = twin.holdStart;
    while (after < upTo && twin.session === session && session !== null) {
      const page = await log.read({ after, upTo, limit: PAGE });
      if (page.length === 0) break;
      for (const stored of page) if (admits === undefined || admits(stored.topic)) deliverStored(twin, stored, windows);
      after = page.at(-1)!.recv;
      // Bounded memory: the next page waits until the socket and the outbox have drained.
      while (session.link.isOpen && twin.session === session
        && (session.link.bufferedAmount > MAX_BUFFERED || (twin.outbox?.size ?? 0) > PAGE)) await sleep(5);
    }
  } catch (err) {
    logger.error({ cid: twin.name, err: errorText(err) }, 'replay failed');
  } finally {
    twin.replayed = true;
    if (twin.session === session) releaseHold(twin);
  }
}

/** For each replaying subscription, the exclusive lower bound on recv. */
function subscriptionWindows(twin: Twin, now: bigint, floor: bigint): Map<string, bigint> {
  const windows = new Map<string, bigint>();
  for (const [topic, msgFrom] of twin.subscriptions) {
    if (msgFrom === 0) continue;
    const since = msgFrom === Infinity ? floor : now - BigInt(Math.floor(msgFrom));
    windows.set(topic, since > floor ? since : floor);
  }
  return windows;
}

function deliverStored(twin: Twin, stored: StoredMessage, windows: Map<string, bigint>): void {
  let msg: PubMsg | undefined;
  const original = (): PubMsg => (msg ??= {
    type: 'pub', flags: stored.qos, topic: stored.topic, args: decodeValue(stored.data) as unknown[],
    ...(stored.uid === null ? {} : { id: stored.uid }),
  });
  let sentOriginal = false;
  for (const [sub, since] of windows) {
    if (stored.recv <= since) continue;
    if (sub === stored.topic || sub === CATCH_ALL) {
      if (sentOriginal) continue;
      sentOriginal = true;
      deliverNow(twin, new Outgoing(original(), null, stored.recv));
    } else if (isPattern(sub) && matches(sub, stored.topic)) {
      deliverNow(twin, Outgoing.wildcard(sub, original(), stored.recv));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
