/**
 * The part of a moved twin's replay that this broker's log cannot give: the stream messages
 * after the twin's shared mark and up to where this broker joined the cluster (it was not
 * routing then), read from the JetStream stream `REMBUS_<c>` with an ordered consumer from
 * `opt_start_seq`, a page at a time, and sent through the broker's replay path (replay-send.ts)
 * before its own log's replay and before live delivery resumes. Each subscription keeps its
 * msg_from: a message older than it (JetStream's timestamp) is not sent, so replay by time
 * is JetStream's time here. Every wait on JetStream is bounded: past it the gap is given up
 * with a {@link SharedTwinUnavailableError} (logged by the caller), never a hang. Tenants and
 * private topics are checked as for a replay from the log (guard.ts `replayable`): each stream
 * message carries its publisher (header `o`).
 */
import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { MessageLog } from '../broker/message-log.js';
import { sendWindows, type ReplayAdmits, type Window } from '../broker/replay-send.js';
import type { Session, Twin } from '../broker/twin.js';
import type { LogQuery, StoredMessage } from '../store/types.js';
import { subjectToTopic } from './subject.js';
import { SharedTwinUnavailableError } from './twin-errors.js';

/** Stream sequences to replay, inclusive. */
export interface Gap { readonly from: number; readonly to: number }

/** How long one page may wait on JetStream, ms. */
export const GAP_PAGE_TIMEOUT = 5_000;
const FAR = 1n << 80n;

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SharedTwinUnavailableError(`JetStream did not answer (${what}) within ${GAP_PAGE_TIMEOUT} ms`)), GAP_PAGE_TIMEOUT);
  })]).finally(() => clearTimeout(timer));
}

/**
 * A stream message as a log row; its recv is JetStream's timestamp, its origin the publisher the
 * writing broker put in header `o` (tenants: `admits` checks it as for the broker's own log).
 * Undefined when it is not a rembus publish.
 */
function stored(prefix: string, m: JsMsg): StoredMessage | undefined {
  const topic = subjectToTopic(`${prefix}.m1`, m.subject);
  const h = m.headers;
  const idHex = h?.get('i');
  if (topic === undefined || h === undefined || idHex === undefined || idHex === '') return undefined;
  const row = { recv: m.timestampNanos, slot: null, qos: Number(h.get('f')) & 0xf0, uid: BigInt(`0x${idHex}`), topic, data: m.data };
  return h.has('o') ? { ...row, origin: h.get('o') } : row;
}

/** Send `twin` the messages of `gap` its replaying subscriptions want, oldest first. */
export async function replayGap(js: JetStreamClient, stream: string, prefix: string, gap: Gap, twin: Twin, session: Session,
  admits: ReplayAdmits | undefined, maxPeriod: bigint): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const windows = new Map<string, Window>();
  for (const [topic, msgFrom] of twin.subscriptions) {
    if (msgFrom === 0) continue;
    const period = msgFrom === Number.POSITIVE_INFINITY || BigInt(Math.floor(msgFrom)) > maxPeriod ? maxPeriod : BigInt(Math.floor(msgFrom));
    windows.set(topic, { since: now - period, upTo: FAR });
  }
  if (windows.size === 0 || gap.from > gap.to) return;
  const consumer = await bounded(js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: gap.from }), 'consumer');
  const messages = await bounded(consumer.consume({ max_messages: 500, expires: GAP_PAGE_TIMEOUT }), 'consume');
  const it = messages[Symbol.asyncIterator]();
  let done = false;
  const read = async ({ limit }: LogQuery): Promise<StoredMessage[]> => {
    const page: StoredMessage[] = [];
    while (!done && page.length < limit) {
      const r = await bounded(it.next(), 'messages');
      if (r.done === true || r.value.seq > gap.to) break;
      const row = stored(prefix, r.value);
      if (row !== undefined) page.push(row);
      if (r.value.seq >= gap.to) done = true;
    }
    if (page.length === 0) done = true;
    return page;
  };
  try {
    await sendWindows(twin, session, windows, { read } as Pick<MessageLog, 'read'> as MessageLog, admits);
  } finally {
    void messages.close();
  }
}
