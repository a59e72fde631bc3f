/**
 * Publish metadata, a TS extension (README "Message metadata, retained values and expiry on the
 * wire"). Pure: no I/O.
 *
 * A PUB may carry one extra, trailing element: a text-keyed CBOR map. The spec's frames are
 * `[type, topic, data]` (QoS0, no slot) and `[type, msgid, topic, data]`; with metadata they are
 * `[type, topic, data, meta]` and `[type, msgid, topic, data, meta]`. A reference decoder would
 * read the 4-element QoS0 form as `[type, msgid, topic, data]`, so this element is **only ever
 * sent to a peer that asked for it**:
 *
 * - A TS component adds {@link PUB_OPTS_KEY}`: true` to the `reactive` admin map that ends each
 *   of its logins (like `ts_refusals`, src/protocol/refusals.ts; both references read only the
 *   keys they know in an admin map, spec §6). A TS broker then (1) sends that connection its
 *   retained values, and live messages published with `retain`, with a `meta` map, and
 *   (2) answers that `reactive` with data `{ ts_pub_opts: true }` — a PY/JL broker answers
 *   `null`. Only after that answer does the component attach publish options (`ttl`, `retain`)
 *   to its own PUBs; to a reference broker it sends the spec's frames and drops the options
 *   (logged once).
 * - A component created with `metadata: true` also adds {@link PUB_META_KEY}`: true`: every
 *   delivery to it then carries the map (its id, receive time and publisher on every `Message`).
 *   Off by default: it costs the broker one copy of each frame for such subscribers.
 *
 * Keys, publisher → broker: `ttl` (uint, ms, > 0), `retain` (true).
 * Keys, broker → subscriber: `recv` (uint64, the broker's receive time in ns since the epoch;
 * strictly increasing per broker, so it is also the message's id there — the same value when
 * the message comes again as a retained value or on replay), `from` (text, the publisher's
 * name, when the broker's policy gives it), `retained` (true: a retained value sent because
 * this subscription is new), `retain` (true: a live message published with `retain`).
 * Unknown keys are ignored; a broker ignores the broker → subscriber keys from a publisher.
 */
import { DecodeError } from '../errors.js';

/** Key of the `reactive` admin map by which a peer offers publish options and takes retained marks. */
export const PUB_OPTS_KEY = 'ts_pub_opts';
/** Key of the `reactive` admin map by which a peer asks for metadata on every delivery. */
export const PUB_META_KEY = 'ts_pub_meta';

/** The trailing map of a PUB, both directions (see the module's notes for who sends which key). */
export interface PubMeta {
  /** Publisher → broker: the message expires this many ms after the broker received it. */
  readonly ttl?: number;
  /** Publisher → broker: keep as the topic's retained value (empty args clear it). Broker → subscriber: a live message published with `retain`. */
  readonly retain?: boolean;
  /** Broker → subscriber: the broker's receive time, ns since the epoch (its message id). */
  readonly recv?: bigint;
  /** Broker → subscriber: the publisher's name. */
  readonly from?: string;
  /** Broker → subscriber: a retained value, sent because the subscription is new. */
  readonly retained?: boolean;
}

/** What this admin map asks for: nothing, retained marks (and offers options), or metadata on every delivery. */
export function pubMetaAsked(cmd: Record<string, unknown>): 'none' | 'retained' | 'all' {
  if (cmd[PUB_META_KEY] === true) return 'all';
  return cmd[PUB_OPTS_KEY] === true ? 'retained' : 'none';
}

/** Did this `reactive` reply come from a broker that takes publish options? */
export function brokerTakesPubMeta(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>)[PUB_OPTS_KEY] === true;
}

/** The `reactive` reply data of a TS broker to a peer that offered publish options. */
export const PUB_OPTS_REPLY: Readonly<Record<string, unknown>> = Object.freeze({ [PUB_OPTS_KEY]: true });

/** The wire map of `meta`: only the keys that are set. */
export function metaToWire(meta: PubMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (meta.ttl !== undefined) out['ttl'] = meta.ttl;
  if (meta.retain === true) out['retain'] = true;
  if (meta.recv !== undefined) out['recv'] = meta.recv;
  if (meta.from !== undefined) out['from'] = meta.from;
  if (meta.retained === true) out['retained'] = true;
  return out;
}

/**
 * Read the trailing element of a PUB. @throws DecodeError when it is not a map, or a known key
 * has a value of the wrong type (a buggy peer); unknown keys are ignored.
 */
export function metaFromWire(value: unknown): PubMeta {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new DecodeError('publish metadata must be a map');
  }
  const v = value as Record<string, unknown>;
  const meta: { -readonly [K in keyof PubMeta]: PubMeta[K] } = {};
  const ttl = v['ttl'];
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) throw new DecodeError(`invalid publish ttl ${String(ttl)}`);
    meta.ttl = ttl;
  }
  const recv = v['recv'];
  if (recv !== undefined) {
    if (typeof recv === 'bigint' && recv >= 0n) meta.recv = recv;
    else if (typeof recv === 'number' && Number.isSafeInteger(recv) && recv >= 0) meta.recv = BigInt(recv);
    else throw new DecodeError(`invalid publish recv ${String(recv)}`);
  }
  const from = v['from'];
  if (from !== undefined) {
    if (typeof from !== 'string') throw new DecodeError('invalid publish from');
    meta.from = from;
  }
  if (v['retain'] === true) meta.retain = true;
  if (v['retained'] === true) meta.retained = true;
  return meta;
}

/**
 * The frame `frame` (a PUB of 3 or 4 elements, definite one-byte array head) with `metaBytes`
 * (an encoded map) appended as one more element: the args stay the publisher's bytes.
 */
export function withMetaFrame(frame: Uint8Array, metaBytes: Uint8Array): Uint8Array {
  const head = frame[0];
  if (head !== 0x83 && head !== 0x84) throw new DecodeError('not a 3- or 4-element PUB frame');
  const out = new Uint8Array(frame.byteLength + metaBytes.byteLength);
  out.set(frame, 0);
  out[0] = head + 1;
  out.set(metaBytes, frame.byteLength);
  return out;
}
