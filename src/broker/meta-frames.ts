/**
 * Delivery metadata (TS extension, src/protocol/pub-meta.ts) on the broker side: who may learn a
 * publisher's name, and the frame a subscriber that negotiated metadata receives — the plain
 * frame (the publisher's own bytes when it can be) with one map appended, built once per
 * publish and variant. A subscriber that did not negotiate costs nothing more.
 */
import { encodeValue } from '../codec/cbor.js';
import { STATUS } from '../protocol/messages.js';
import { metaToWire, PUB_OPTS_REPLY, pubMetaAsked, withMetaFrame, type PubMeta } from '../protocol/pub-meta.js';
import type { Authenticator } from '../security/authenticator.js';
import type { Session, Twin } from './twin.js';

/** `Outgoing.extra` bits. */
export const OUT_RETAIN = 1;
export const OUT_RETAINED = 2;

/** The broker's policy for one connection that negotiated metadata. */
export interface MetaPolicy {
  /** The publisher name `to` may see: never an anonymous publisher's, never across tenants, none when turned off. */
  from(origin: string | undefined, to: Twin): string | undefined;
}

/** The policy of a broker: `publisherNames` false hides every name. */
export function metaPolicy(auth: Authenticator, publisherNames: boolean): MetaPolicy {
  return {
    from: (origin, to) => publisherNames && origin !== undefined && origin !== ''
      && (!auth.store.multiTenant || auth.sameTenant(origin, to.name)) ? origin : undefined,
  };
}

/** `plain` (a 3- or 4-element PUB frame) with the delivery metadata appended. */
export function deliveryFrame(plain: Uint8Array, recv: bigint, from: string | undefined, extra: number): Uint8Array {
  const meta: PubMeta = {
    recv,
    ...(from === undefined ? {} : { from }),
    ...((extra & OUT_RETAIN) !== 0 ? { retain: true } : {}),
    ...((extra & OUT_RETAINED) !== 0 ? { retained: true } : {}),
  };
  return withMetaFrame(plain, encodeValue(metaToWire(meta)));
}

/**
 * An admin command offering publish options (a TS component's `reactive`): its connection gets
 * retained marks — or metadata on every delivery when it asks — from now on, and a successful
 * `reactive` answers {@link PUB_OPTS_REPLY} so the component knows it may send publish options.
 * Returns the reply data to send.
 */
export function negotiateMeta(session: Session, cmd: Record<string, unknown>, status: number, data: unknown,
  policy: MetaPolicy): unknown {
  const asked = pubMetaAsked(cmd);
  if (asked === 'none') return data;
  session.meta = policy;
  // Never downgraded: a later subscribe offers options only, after a `reactive` that asked for all.
  if (asked === 'all') session.metaAll = true;
  return status === STATUS.OK && cmd['cmd'] === 'reactive' ? PUB_OPTS_REPLY : data;
}
