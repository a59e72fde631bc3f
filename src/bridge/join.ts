/**
 * `broker({ join: [url] })`: the federation bridge of {@link bridge}, run inside the broker.
 * Its local side is a component talking to the broker in process, over an in-memory link the
 * broker serves like any connection (`broker.handle`); its remote side dials `url`.
 */
import { component } from '../component/component.js';
import type { Component } from '../component/types.js';
import { parseComponentUrl } from '../component/url.js';
import { InvalidTopicError } from '../errors.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import { bridgeName, credentialsOf, targetOf, type BrokerAddress } from './credentials.js';
import { federateOwned } from './federation.js';
import type { FederationBridge, FederationOptions } from './types.js';

/** Options of {@link joinBroker}. */
export interface JoinOptions extends FederationOptions {
  /** The local broker's name: bridge twins are called `<name>.join.<8 hex>` unless the URL names one. */
  readonly name: string;
}

/**
 * Join the broker at `url` from the broker serving `handle`.
 *
 * @example
 * ```ts
 * import { broker } from 'rembus/broker';
 * const b = await broker({ port: 8339, join: ['ws://127.0.0.1:8338'] }); // runs joinBroker for each URL
 * const c = await broker({ port: 8340, join: [{ url: 'ws://127.0.0.1:8338/c-bridge', key: privateKeyPem }] });
 * ```
 * @param handle - Serves one more connection of the local broker (`broker.handle`).
 * @param remote - The remote broker: `ws://host:port`, or `ws://host:port/name` to name the bridge
 *   twins; or `{ url, key, ca }` to log in as that name with its key (a broker with `auth: 'required'`).
 * @param options - See {@link JoinOptions}.
 * @returns The running bridge: status `up` once both sides are attached; `down` with an AuthError
 *   (not retried) when the remote broker refuses the login.
 * @throws InvalidTopicError for a URL that is not `ws://` or `wss://`.
 * @throws InvalidOptionError for a key without a name in the URL.
 * @throws InvalidNameError for a key for a name no key file can have (`../x`, a leading `.`).
 * @see bridge
 */
export function joinBroker(handle: (link: Link) => void, remote: BrokerAddress, options: JoinOptions): FederationBridge {
  const target = targetOf(remote);
  const url = target.url;
  const address = parseComponentUrl(url);
  if (address.scheme !== 'ws' && address.scheme !== 'wss') throw new InvalidTopicError(url, 'expected a ws:// or wss:// URL to join');
  const name = bridgeName(target, address, undefined, 'join')
    ?? `${options.name}.join.${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const local: Component = component(`ws://in-process:0/${encodeURIComponent(name)}`, {
    logger: options.logger,
    dial: () => {
      const [client, server] = memoryLinkPair([`in-process:${name}`, `in-process:${options.name}`]);
      handle(server);
      return Promise.resolve(client);
    },
  });
  const far: Component = component(`${address.url}/${encodeURIComponent(name)}`, { logger: options.logger, ...credentialsOf(target) });
  return federateOwned(local, far, options, [local, far], [`in-process:${options.name}`, address.url]);
}
