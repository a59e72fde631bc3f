/** The CLI's pino logger: JSON lines on stderr, so stdout carries only data (STYLE §11). */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { CliError, EXIT, type Env } from './options.js';

const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

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
  // Synchronous writes: a CLI may exit right after logging and must not lose the line.
  return pino({ level, base: { pid: process.pid, command } }, pino.destination({ dest: 2, sync: true }));
}
