/**
 * The CLI's pino logger, on stderr so stdout carries only data (STYLE §11): coloured,
 * human-readable lines when stderr is a terminal (pino-pretty), JSON lines when it is piped
 * or with `--log-format json` (env `REMBUS_LOG_FORMAT`).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import { CliError, EXIT, type Env } from './options.js';

const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
/** The accepted values of `--log-format`. */
export const LOG_FORMATS: readonly string[] = ['auto', 'pretty', 'json'];

let formatFlag: string | undefined;

/** Set by `main.ts` from the global `--log-format` flag. */
export function setLogFormat(format: string | undefined): void {
  if (format !== undefined && !LOG_FORMATS.includes(format)) {
    throw new CliError(`invalid --log-format '${format}' (one of ${LOG_FORMATS.join(', ')})`, EXIT.usage);
  }
  formatFlag = format;
}

/** `pretty` or `json`: the flag, then `REMBUS_LOG_FORMAT`, then pretty only on a terminal. */
export function logFormat(env: Env, isTTY: boolean = process.stderr.isTTY === true): 'pretty' | 'json' {
  const chosen = formatFlag ?? (env['REMBUS_LOG_FORMAT'] || 'auto');
  if (chosen === 'pretty' || chosen === 'json') return chosen;
  if (chosen !== 'auto') throw new CliError(`invalid REMBUS_LOG_FORMAT '${chosen}' (one of ${LOG_FORMATS.join(', ')})`, EXIT.usage);
  return isTTY ? 'pretty' : 'json';
}

/**
 * A logger for one command. Level: `--verbose` (debug), then `REMBUS_LOG_LEVEL`, then
 * `fallback` ('info' for the broker, 'warn' for clients).
 */
export function cliLogger(command: string, verbose: boolean | undefined, env: Env, fallback: LevelWithSilent): Logger {
  const fromEnv = env['REMBUS_LOG_LEVEL'];
  if (fromEnv !== undefined && fromEnv !== '' && !LEVELS.includes(fromEnv)) {
    throw new CliError(`invalid REMBUS_LOG_LEVEL '${fromEnv}' (one of ${LEVELS.join(', ')})`, EXIT.usage);
  }
  const level = verbose === true ? 'debug' : fromEnv || fallback;
  const options = { level, base: { pid: process.pid, command } };
  // Synchronous writes: a CLI may exit right after logging and must not lose the line.
  if (logFormat(env) === 'json') return pino(options, pino.destination({ dest: 2, sync: true }));
  // pino-pretty (and its colour and time modules) loads only for a terminal: a broker run by a
  // supervisor logs JSON and does not carry it (issue 20, W7).
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(options, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true || env['FORCE_COLOR'] !== undefined,
    translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,command' }));
}
