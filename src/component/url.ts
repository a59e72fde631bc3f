/**
 * Component URL forms (spec §1.2): `ws://host:port/name`, a bare `name` (scheme, host and port
 * from the base URL), `ws://:port/name` (host from the base URL), `ws://host:port` (anonymous).
 */
import { InvalidTopicError, UnsupportedSchemeError } from '../errors.js';

/** Default base URL: the spec's code default (some reference docs say port 8000; code says 8338). */
export const DEFAULT_BASE_URL = 'ws://127.0.0.1:8338';

/** A parsed component URL. */
export interface ComponentAddress {
  /** What to dial: `scheme://host:port`, never with a path (spec §1.1). */
  readonly url: string;
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  /** The component name, or undefined for an anonymous component. */
  readonly name: string | undefined;
}

const URL_RE = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#]*|\[[^\]]*\])(?::(\d+))?(?:\/([^?#]*))?$/i;

const DEFAULT_PORTS: Record<string, number> = { ws: 8338, wss: 8338, mqtt: 1883, mqtts: 8883 };

/**
 * Parse a component URL.
 *
 * @example
 * ```ts
 * parseComponentUrl('ws://10.0.0.1:8338/sensor'); // { url: 'ws://10.0.0.1:8338', name: 'sensor', … }
 * parseComponentUrl('sensor');                     // name 'sensor' at the base URL
 * ```
 * @param input the URL or bare name
 * @param baseUrl where a bare name or an empty host points. Default {@link DEFAULT_BASE_URL}.
 * @throws InvalidTopicError for a string that is neither a URL nor a name.
 */
export function parseComponentUrl(input: string, baseUrl: string = DEFAULT_BASE_URL): ComponentAddress {
  const base = parseBase(baseUrl);
  const m = URL_RE.exec(input);
  if (m === null) {
    if (input === '' || /[\s/:]/.test(input)) throw new InvalidTopicError(input, 'not a component URL or name');
    return address(base.scheme, base.host, base.port, input);
  }
  const scheme = m[1]!.toLowerCase();
  const host = m[2] === '' ? base.host : m[2]!;
  const port = m[3] !== undefined ? Number(m[3]) : (DEFAULT_PORTS[scheme] ?? base.port);
  const path = decodeURIComponent(m[4] ?? '');
  // PY treats an empty path or the literal `__noname__` as anonymous (spec §1.2).
  const name = path === '' || path === '__noname__' ? undefined : path;
  return address(scheme, host, port, name);
}

function parseBase(baseUrl: string): { scheme: string; host: string; port: number } {
  const m = URL_RE.exec(baseUrl);
  if (m === null || m[2] === '') throw new InvalidTopicError(baseUrl, 'not a valid base URL');
  const scheme = m[1]!.toLowerCase();
  return { scheme, host: m[2]!, port: m[3] !== undefined ? Number(m[3]) : (DEFAULT_PORTS[scheme] ?? 8338) };
}

function address(scheme: string, host: string, port: number, name: string | undefined): ComponentAddress {
  return { url: `${scheme}://${host}:${port}`, scheme, host, port, name };
}

/**
 * Schemes a Rembus component dials itself (spec §1.1; `tcp`/`tls` §1.4, Node only); `mqtt(s)`
 * goes to rembus/mqtt.
 */
const REMBUS_SCHEMES = new Set(['ws', 'wss', 'tcp', 'tls']);

/**
 * Parse one URL or a failover list (Rembus.jl `failovers`): the first names the component,
 * the others are where to go when it is down (their names, if any, are ignored).
 * @throws InvalidTopicError for an empty list or a string that is neither a URL nor a name;
 * UnsupportedSchemeError for a scheme other than ws/wss/tcp/tls.
 */
export function parseComponentUrls(input: string | readonly string[], baseUrl?: string): ComponentAddress[] {
  const list = typeof input === 'string' ? [input] : input;
  if (list.length === 0) throw new InvalidTopicError(input, 'an empty list of broker URLs');
  const addresses = list.map((u) => parseComponentUrl(u, baseUrl));
  addresses.forEach((a, i) => {
    if (!REMBUS_SCHEMES.has(a.scheme)) {
      const hint = a.scheme.startsWith('mqtt') ? 'an MQTT broker takes one URL, not a failover list' : 'use ws://, wss://, tcp:// or tls://';
      throw new UnsupportedSchemeError(list[i]!, a.scheme, hint);
    }
  });
  const name = addresses[0]!.name;
  return addresses.map((a) => ({ ...a, name }));
}
