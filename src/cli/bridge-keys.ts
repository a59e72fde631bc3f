/**
 * The credentials of a federation bridge on the command line (`rembus bridge --key/--ca`,
 * `rembus broker --join-key`). A bridge side logs in as a named component, so it finds its key
 * as a client command does (client.ts): the file named by the flag, else
 * `<data dir>/<bridge name>/.secret` when present (spec §3.3). The key is checked before
 * anything is dialed; its bytes are never printed or logged.
 */
import { checkKey, type BrokerTarget } from '../bridge/credentials.js';
import { parseComponentUrl } from '../component/url.js';
import { InvalidKeyError } from '../security/errors.js';
import { keyFileOf, securityOptions, type SecurityFlags } from './client.js';
import { CliError, EXIT, type Env } from './options.js';

/**
 * The target of one bridge side: `url` with the key of the bridge's name there (the URL's
 * name, else `name`) and the CA bundle. A side without a name gets a random one, which has no
 * key on file: it gets the CA only.
 * @throws CliError exit 3 naming the key file when it cannot be read or cannot sign (its
 *   InvalidKeyError as cause)
 */
export async function bridgeTarget(url: string, name: string | undefined, files: SecurityFlags, env: Env,
  dataDir: string): Promise<BrokerTarget> {
  const cid = parseComponentUrl(url).name ?? name;
  const security = await securityOptions(cid === undefined ? { ...files, key: undefined } : files, cid, env, dataDir);
  if (security.key !== undefined) {
    try {
      await checkKey(security.key, cid!, url);
    } catch (err) {
      if (!(err instanceof InvalidKeyError)) throw err;
      throw new CliError(`${keyFileOf(files, cid, dataDir)!}: ${err.message}`, EXIT.failure, { cause: err });
    }
  }
  return { url, ...security };
}

/**
 * A key flag needs a bridge name to be the key of: in one of `urls` at least, or `name`.
 * @param hint - How else the name can be given, for the usage error.
 * @throws CliError exit 1 otherwise
 */
export function requireName(urls: readonly string[], name: string | undefined, flag: string, hint = ''): void {
  if (name !== undefined || urls.some((url) => parseComponentUrl(url).name !== undefined)) return;
  throw new CliError(`${flag} needs the bridge's name: ${parseComponentUrl(urls[0]!).url}/NAME${hint} `
    + '(a random name has no key on file)', EXIT.usage);
}
