/**
 * Credentials of a federation bridge (README "MQTT and federation"): a bridge logs in to a broker
 * as a named component, so a broker that runs `auth: 'required'` admits it only with the key on
 * file for the bridge's name there (spec §3.3). The login itself is the component's
 * (component/auth.ts); this module only names the target, checks up front that the key can sign,
 * and hands `key`/`ca` to the component. A key is never logged or put in an error message.
 */
import { InvalidOptionError } from '../errors.js';
import { InvalidKeyError } from '../security/errors.js';
import { validateKeyName } from '../security/names.js';
import { parseComponentUrl, type ComponentAddress } from '../component/url.js';
import type { ComponentKey, ComponentOptions } from '../component/types.js';
import { platform } from '#platform';

/** A broker a bridge dials, with the credentials of the bridge's name there. */
export interface BrokerTarget {
  /** `ws://host:port/name` (or `wss://`): the path names the bridge's component on that broker. */
  readonly url: string;
  /**
   * The secret of the bridge's name on that broker: a private RSA or ECDSA key (PEM or DER
   * bytes, a `KeyObject`, a `CryptoKey`) or the text of a shared secret, as a component's `key`.
   * Needs a name in `url` (a random name has no key on file). Default none.
   */
  readonly key?: ComponentKey;
  /** CA bundle (PEM) to trust for `wss://`. Default the system's. */
  readonly ca?: string | Uint8Array;
}

/** A broker to dial: its URL, or its URL with credentials. */
export type BrokerAddress = string | BrokerTarget;

/** A target as an object. */
export function targetOf(address: BrokerAddress): BrokerTarget {
  return typeof address === 'string' ? { url: address } : address;
}

/** The component options a target's credentials give (none for a bare URL). */
export function credentialsOf(target: BrokerTarget): Pick<ComponentOptions, 'key' | 'ca'> {
  return {
    ...(target.key === undefined ? {} : { key: target.key }),
    ...(target.ca === undefined ? {} : { ca: target.ca }),
  };
}

/**
 * The bridge's name at `target`: the URL's, else `fallback`.
 * @throws InvalidOptionError when `target` has a key and neither gives a name: a random name
 * has no key on file, so the login could only be refused.
 * @throws InvalidNameError when `target` has a key for a name that no key file can have (`../x`,
 * a leading `.`: see validateKeyName): no broker keeps a key for it either.
 */
export function bridgeName(target: BrokerTarget, address: ComponentAddress, fallback: string | undefined,
  option: string): string | undefined {
  const name = address.name ?? fallback;
  if (target.key === undefined) return name;
  if (name === undefined) {
    throw new InvalidOptionError(option, `a key needs the bridge's name in the URL (${address.url}/NAME): `
      + 'a random name has no key on file');
  }
  return validateKeyName(name);
}

/**
 * Check that `key` can sign a login as `name` at `url`, by signing a probe challenge with the
 * signer the component's login uses (so what passes here passes there).
 * @throws InvalidKeyError (`INVALID_KEY`) naming why and for whom: a public key given for the
 * private one, a key type other than RSA/EC, PEM that does not parse, empty or binary bytes
 */
export async function checkKey(key: ComponentKey, name: string, url: string): Promise<void> {
  const where = `the key of '${name}' for ${parseComponentUrl(url).url}`;
  try {
    const signer = await platform.signer();
    await signer.attestationFor(new Uint8Array(4), name, key);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^invalid key: /, '') : 'it cannot sign';
    throw new InvalidKeyError(`${reason} (${where})`, { cause: err });
  }
}

/** {@link checkKey} for every target with a key; the name is the URL's. */
export async function checkTargets(targets: readonly BrokerTarget[], option: string): Promise<void> {
  for (const target of targets) {
    if (target.key === undefined) continue;
    const address = parseComponentUrl(target.url);
    const name = bridgeName(target, address, undefined, option)!;
    await checkKey(target.key, name, target.url);
  }
}
