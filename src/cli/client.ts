/**
 * Client commands' shared edge: open a component that fails fast when the broker is down, and
 * map errors to exit codes (0 ok, 1 usage, 2 timeout, 3 connection or remote failure).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { firstValueFrom, from, map, race, timer } from 'rxjs';
import { component } from '../component/component.js';
import type { Component } from '../component/types.js';
import { AuthError, ConnectionError } from '../errors.js';
import { validateKeyName } from '../security/names.js';
import { caOptions } from '../security/tls.js';
import type { ComponentOptions } from '../component/types.js';
import {
  CliError, componentUrl, EXIT, resolveDataDir, resolveName, resolveServer, type Env, type GlobalOptions,
} from './options.js';

/** One socket attempt may take this long; a blackholed host must not hang the CLI for 10 s. */
const DIAL_TIMEOUT_MS = 2_000;
/** Upper bound on getting up (three dials plus login), after which the CLI gives up. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A CLI run is short: three attempts (0, +100, +200 ms) tell a down broker from a slow one. */
const RECONNECT = { maxRetries: 2, initialDelay: 100 };

/** What {@link openClient} needs: the resolved server, name, and a logger. */
export interface ClientContext {
  readonly globals: GlobalOptions;
  readonly env: Env;
  readonly log: Logger;
  /** `--key` and `--ca` of the subcommand. */
  readonly files?: SecurityFlags;
}

/** The client commands' security flags (see {@link securityFlags}). */
export interface SecurityFlags {
  key?: string;
  ca?: string;
}

/** Add `--key FILE` and `--ca FILE` to a client subcommand. */
export function securityFlags(command: Command): Command {
  return command
    .option('--key <file>', "the component's private key (PEM/DER) or shared secret (default $REMBUS_DIR/<name>/.secret if present)")
    .option('--ca <file>', 'CA bundle (PEM) to trust for wss:// (env HTTP_CA_BUNDLE)');
}

/**
 * The key file of `name`: `--key`, else `<data dir>/<name>/.secret` (spec §3.3); none for an anonymous client.
 * @throws InvalidNameError (exit 1) for a name that cannot name a key file (`..`, `/`, a leading
 *   `.`…: see validateKeyName), so that no name reads a file outside the data dir
 */
export function keyFileOf(files: SecurityFlags, name: string | undefined, dataDir: string): string | undefined {
  return files.key ?? (name === undefined ? undefined : join(dataDir, validateKeyName(name), '.secret'));
}

/**
 * The key and CA of a client: `--key`, else `<data dir>/<name>/.secret` when it exists (spec
 * §3.3); `--ca`, else `HTTP_CA_BUNDLE` (spec §1.1).
 * @param dataDir - Where the default key file is looked for. Default `REMBUS_DIR` or ~/.config/rembus.
 * @throws CliError (exit 3) naming a file that cannot be read or is not a certificate
 */
export async function securityOptions(files: SecurityFlags, name: string | undefined, env: Env,
  dataDir = resolveDataDir(undefined, env)): Promise<Pick<ComponentOptions, 'key' | 'ca'>> {
  const out: Pick<ComponentOptions, 'key' | 'ca'> = {};
  const keyFile = keyFileOf(files, name, dataDir);
  if (keyFile !== undefined) {
    try {
      out.key = new Uint8Array(await readFile(keyFile));
    } catch (err) {
      if (files.key !== undefined) throw new CliError(`${keyFile}: cannot read the key: ${(err as Error).message}`, EXIT.failure, { cause: err });
    }
  }
  const caFile = files.ca ?? (env['HTTP_CA_BUNDLE'] || undefined);
  if (caFile !== undefined) {
    try {
      out.ca = new Uint8Array((await caOptions(caFile)).ca);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.failure, { cause: err });
    }
  }
  return out;
}

/**
 * Connect to the broker named by `--server`/env as `--name`/`REMBUS_NAME` (anonymous when absent).
 * @throws CliError (exit 3) `cannot connect to <url>` when the broker is down or too slow
 */
export async function openClient({ globals, env, log, files = {} }: ClientContext, requestTimeout?: number): Promise<Component> {
  const server = resolveServer(globals.server, env);
  const name = resolveName(globals.name, env);
  const url = componentUrl(server, name);
  const security = await securityOptions(files, name, env);
  log.debug({ url }, 'connecting');
  // While connecting, the component's own failure lines stay quiet: the CLI prints the cause once.
  const clientLog = log.child({ component: 'client' });
  if (log.levelVal > log.levels.values['debug']!) clientLog.level = 'silent';
  const node = component(url, {
    ...security,
    reconnect: RECONNECT,
    connectTimeout: DIAL_TIMEOUT_MS,
    logger: clientLog,
    ...(requestTimeout === undefined ? {} : { requestTimeout }),
  });
  let lastFailure: unknown;
  const watch = node.status$.subscribe((status) => {
    if (status.type === 'down' && status.error !== undefined) lastFailure = status.error;
  });
  try {
    await firstValueFrom(race(
      from(node.ready()),
      timer(CONNECT_TIMEOUT_MS).pipe(map(() => {
        throw new ConnectionError(`no WebSocket handshake within ${CONNECT_TIMEOUT_MS} ms (is it a Rembus broker?)`, { cause: lastFailure });
      })),
    ));
  } catch (err) {
    await node.close();
    if (err instanceof AuthError) throw new CliError(err.message, EXIT.failure, { cause: err });
    throw new CliError(`cannot connect to ${server}: ${causeText(err)}`, EXIT.failure, { cause: err });
  } finally {
    watch.unsubscribe();
  }
  clientLog.level = log.level;
  return node;
}

/** The innermost useful text of a failure: the message, then its causes, without repeats. */
function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (text !== '' && !parts.some((p) => p.includes(text))) parts.push(text);
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ') || 'unknown error';
}

