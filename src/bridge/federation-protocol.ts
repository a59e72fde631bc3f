/**
 * What federation bridges and the brokers' federation agents say to each other (spec §10, TS
 * design): reserved names, the feed item and the route table, with their checks. Pure.
 *
 * Loop avoidance rests on two values that travel with every forwarded publish, out of band —
 * ordinary subscribers never see them:
 *
 * - `uid`: the message's identity across the federation, drawn by the broker where the publish
 *   entered it. A broker accepts a uid once (for {@link SEEN_TTL_MS}), so a publish that
 *   reaches it along two paths of a cycle is delivered once.
 * - `path`: the ids of the brokers the message has passed, in order. A bridge never hands a
 *   message to a broker on its path ("a message never returns to a broker it has passed"), and
 *   a broker refuses one that names it.
 *
 * A broker id is drawn afresh each time the broker starts (like JL's ephemeral `rmark` ids).
 */

/**
 * Topic of the feed a broker sends its attached bridges: one PUB per accepted publish with args
 * `[uid, path, topic, args, flags]`. Delivered only to bridge twins subscribed to exactly this
 * topic; the `@` chunk keeps it out of every `**`-style pattern (spec §4.6).
 */
export const FEED_TOPIC = '@rembus/federation';

/** Broker-local methods of the federation agent. */
export const AGENT = {
  /** `(cid) → { id, name }`: mark the named twin `cid` as a bridge; answer the broker's id. */
  attach: '__federation_attach__',
  /** `(cid) → null`: forget the bridge `cid` and its routes. */
  detach: '__federation_detach__',
  /** `(uid, path, topic, args, flags) → boolean`: publish here unless seen or on the path. */
  publish: '__federation_publish__',
  /** `() → RouteTable`: the methods exposed here and how they are reached. */
  routes: '__federation_routes__',
  /** `(cid, { method: path })`: the paths of the methods the bridge `cid` exposes here. */
  advertise: '__federation_advertise__',
} as const;

/** The origin prefix of publishes a federation agent injects (`Published.origin`). */
export const FEDERATION_ORIGIN = 'federation:';

/** How long a broker remembers the uid of a federated publish, ms. */
export const SEEN_TTL_MS = 60_000;

/** One forwarded publish. */
export interface FeedItem {
  readonly uid: string;
  /** Ids of the brokers passed, the broker that sent this item last. */
  readonly path: readonly string[];
  readonly topic: string;
  readonly args: unknown[];
  /** PUB flags at the broker that sent the item (the far broker delivers QoS0). */
  readonly flags: number;
}

/** A feed item as PUB args. */
export function feedArgs(item: FeedItem): unknown[] {
  return [item.uid, item.path, item.topic, item.args, item.flags];
}

/** A feed item from PUB args (or an `AGENT.publish` call); undefined when malformed. */
export function parseFeed(args: readonly unknown[]): FeedItem | undefined {
  const [uid, path, topic, payload, flags] = args;
  if (typeof uid !== 'string' || uid === '' || !isPath(path) || typeof topic !== 'string' || !Array.isArray(payload)) {
    return undefined;
  }
  return { uid, path, topic, args: payload, flags: typeof flags === 'number' ? flags : 0 };
}

/** How one method is reached from a broker. */
export interface Route {
  /** An ordinary component of this broker exposes it. */
  readonly native: boolean;
  /** Bridges exposing it here, each with the path its calls take (nearest broker first). */
  readonly via: readonly ViaRoute[];
}

/** A method reached through the bridge twin `cid` along `path`. */
export interface ViaRoute {
  readonly cid: string;
  readonly path: readonly string[];
}

/** The reply of `AGENT.routes`. */
export interface RouteTable {
  /** The answering broker's id. */
  readonly id: string;
  readonly routes: Readonly<Record<string, Route>>;
}

/** A route table from an `AGENT.routes` reply; undefined when malformed. */
export function parseRoutes(value: unknown): RouteTable | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string' || !isRecord(value['routes'])) return undefined;
  const routes: Record<string, Route> = {};
  for (const [method, route] of Object.entries(value['routes'])) {
    if (!isRecord(route)) continue;
    const via = (Array.isArray(route['via']) ? route['via'] : [])
      .filter((v): v is ViaRoute => isRecord(v) && typeof v['cid'] === 'string' && isPath(v['path']));
    routes[method] = { native: route['native'] === true, via };
  }
  return { id: value['id'], routes };
}

/** The paths an `AGENT.advertise` call carries; undefined when malformed. */
export function parseAdverts(value: unknown): Map<string, readonly string[]> | undefined {
  if (!isRecord(value)) return undefined;
  const out = new Map<string, readonly string[]>();
  for (const [method, path] of Object.entries(value)) if (isPath(path)) out.set(method, path);
  return out;
}

/** Is `name` one of the federation's own methods or topics (never federated)? */
export function isFederationName(name: string): boolean {
  return name === FEED_TOPIC || name.startsWith('__federation_');
}

function isPath(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'string');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}
