/**
 * Links the broker opens to itself: the in-process component of a federation bridge (`join`).
 * Such a link is the broker's own code, not a remote peer, so the name it identifies as counts
 * as proven (README "Security") and `auth: 'required'` or closed tenants do not shut it out.
 * Remote peers can never mark a link: only code holding the Link object can.
 */
import type { Link } from '../transport/link.js';

const trusted = new WeakSet<Link>();

/** Mark `link` as opened by the broker itself; returns it. */
export function trustLink<L extends Link>(link: L): L {
  trusted.add(link);
  return link;
}

/** Was `link` marked by {@link trustLink}? */
export function isTrustedLink(link: Link): boolean {
  return trusted.has(link);
}
