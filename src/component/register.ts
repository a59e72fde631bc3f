/**
 * Provisioning helpers (spec §3.5): register a component's key with its tenant's PIN, and
 * remove it again. Promise helpers over the component's request streams.
 */
import { lastValueFrom } from 'rxjs';
import { AuthError, InvalidTopicError } from '../errors.js';
import type { ComponentKey } from './types.js';
import { ComponentImpl } from './component-impl.js';
import type { Component, ComponentOptions } from './types.js';
import { parseComponentUrl } from './url.js';

/** Options of {@link register}. */
export interface RegisterOptions extends Pick<ComponentOptions,
  'ca' | 'baseUrl' | 'connectTimeout' | 'requestTimeout' | 'dial' | 'logger'> {
  /** The PIN of the name's tenant (`tenants.json` on the broker). */
  pin: string;
  /** The component's private RSA or ECDSA key (PEM, DER or `KeyObject`); its public half is sent. */
  key: ComponentKey;
}

/**
 * Register the key of the component named by `url` at its broker: connect anonymously, send
 * REGISTER with the public half of `key`, and close. Afterwards the name logs in only with
 * `connect(url, { key })`.
 *
 * @example
 * ```ts
 * import { connect, register } from 'rembus';
 * await register('ws://127.0.0.1:8338/sensor.acme', { pin: '11223344', key: privateKeyPem });
 * const node = await connect('ws://127.0.0.1:8338/sensor.acme', { key: privateKeyPem });
 * ```
 * @param url the component URL, with its name (spec §1.2)
 * @param options see {@link RegisterOptions}
 * @returns resolves once the broker stored the key (status 0)
 * @throws AuthError with the broker's status: 10 unknown tenant or wrong PIN, 60 name already
 * registered; or for a key that is not an RSA/ECDSA private key. InvalidTopicError for a URL
 * without a name; ConnectionError when the broker cannot be reached.
 * @see unregister
 */
export async function register(url: string, options: RegisterOptions): Promise<void> {
  const { pin, key, ...rest } = options;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const address = parseComponentUrl(url, rest.baseUrl ?? env?.['REMBUS_BASE_URL']);
  if (address.name === undefined) throw new InvalidTopicError(url, 'register needs a component name in the URL');
  const node = new ComponentImpl(address.url, { ...rest, reconnect: { maxRetries: 0 } });
  try {
    await node.ready();
    await lastValueFrom(node.register$(address.name, pin, key), { defaultValue: undefined });
  } finally {
    await node.close();
  }
}

/**
 * Remove the key of a connected component from its broker (UNREGISTER, spec §3.5). The broker
 * accepts it only from a connection that logged in with the key.
 *
 * @example
 * ```ts
 * import { connect, unregister } from 'rembus';
 * const node = await connect('ws://127.0.0.1:8338/sensor.acme', { key: privateKeyPem });
 * await unregister(node);
 * ```
 * @param node a component made by `connect()` or `component()`
 * @returns resolves on status 0
 * @throws AuthError carrying the refusal status (10 when the connection did not prove the key);
 * ConnectionClosedError when not connected
 * @see register
 */
export function unregister(node: Component): Promise<void> {
  if (!(node instanceof ComponentImpl)) return Promise.reject(new AuthError('this component cannot unregister'));
  return node.unregister();
}
