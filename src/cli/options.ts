/**
 * Option resolution of the CLI: flags > environment > defaults (STYLE §11), exit codes, and
 * the argument parsers commander calls. Pure: the environment is passed in, never read here.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_BASE_URL } from '../component/url.js';

/** Exit codes of every subcommand (STYLE §11). */
export const EXIT = { ok: 0, usage: 1, timeout: 2, failure: 3 } as const;

/** The environment the CLI reads (a slice of `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Options defined on the program and visible to every subcommand. */
export interface GlobalOptions {
  server?: string;
  name?: string;
  verbose?: boolean;
}

/** A failure the CLI reports as `error: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A commander argument parser for an integer in `[min, max]`. */
export function intArg(what: string, min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** The broker URL: `--server`, then `REMBUS_SERVER`, then `REMBUS_BASE_URL`, then the default. */
export function resolveServer(flag: string | undefined, env: Env): string {
  const server = flag ?? nonEmpty(env['REMBUS_SERVER']) ?? nonEmpty(env['REMBUS_BASE_URL']) ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`invalid server URL '${server}'`, EXIT.usage);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new CliError(`invalid server URL '${server}': expected ws:// or wss://`, EXIT.usage);
  }
  // The name travels in the component URL's path (spec §1.2), so the server's own path is dropped.
  return `${url.protocol}//${url.host}`;
}

/** The client's component name: `--name`, then `REMBUS_NAME`; undefined means anonymous. */
export function resolveName(flag: string | undefined, env: Env): string | undefined {
  return flag ?? nonEmpty(env['REMBUS_NAME']);
}

/** `${server}/${name}` for a named component, `${server}` for an anonymous one. */
export function componentUrl(server: string, name: string | undefined): string {
  return name === undefined ? server : `${server}/${encodeURIComponent(name)}`;
}

/** The broker port: `--port`, then `REMBUS_PORT`, then 8338. */
export function resolvePort(flag: number | undefined, env: Env, fallback: number): number {
  if (flag !== undefined) return flag;
  const text = nonEmpty(env['REMBUS_PORT']);
  if (text === undefined) return fallback;
  try {
    return intArg('REMBUS_PORT', 0, 65_535)(text);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
}

/** The broker's data directory: `--data-dir`, then `REMBUS_DIR`, then `~/.config/rembus` (spec §11). */
export function resolveDataDir(flag: string | undefined, env: Env): string {
  return flag ?? nonEmpty(env['REMBUS_DIR']) ?? join(env['HOME'] ?? homedir(), '.config', 'rembus');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
