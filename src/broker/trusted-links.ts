/**
 * Links the broker opens to itself: the in-process component of a federation bridge (`join`).
 * Such a link is the broker's own code, not a remote peer, so the name it identifies as counts
 * as proven (README "Security") and `auth: 'required'` or closed tenants do not shut it out.
 * Remote peers can never mark a link: only code holding the Link object can.
 *
 * A **delegate** link is a trusted link whose component calls methods on behalf of callers
 * whose rights its owner has checked already: a cluster's in-process components serving the
 * calls of other brokers' components (src/cluster/cluster-delegates.ts). Its own name's
 * private-method rights are not asked, it hears every tenant's presence events, and it has no
 * presence of its own.
 */
import type { Link } from '../transport/link.js';
import type { Twin } from './twin.js';

const trusted = new WeakSet<Link>();
const delegates = new WeakSet<Link>();

/** Mark `link` as opened by the broker itself; returns it. */
export function trustLink<L extends Link>(link: L): L {
  trusted.add(link);
  return link;
}

/** Was `link` marked by {@link trustLink}? */
export function isTrustedLink(link: Link): boolean {
  return trusted.has(link);
}

/** Mark `link` as trusted and as a delegate's (see above); returns it. */
export function delegateLink<L extends Link>(link: L): L {
  delegates.add(link);
  return trustLink(link);
}

/** Is `twin` connected over a link marked by {@link delegateLink}? */
export function isDelegate(twin: Twin): boolean {
  return twin.session !== null && delegates.has(twin.session.link);
}
