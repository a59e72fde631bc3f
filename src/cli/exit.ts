/**
 * The CLI's process edge that every command shares and that loads nothing heavy (no rxjs, no
 * component): exit codes of a failure, and waiting for SIGINT/SIGTERM. `rembus broker` imports
 * only this from the client side, so its process does not load the client's modules (issue 20, W7).
 */
import { CommanderError } from 'commander';
import { InvalidTopicError, RembusError, RpcTimeoutError } from '../errors.js';
import { InvalidNameError } from '../security/errors.js';
import { CliError, EXIT } from './options.js';

/** The exit code of a failure, and the line to print for it (undefined when already printed). */
export function failureOf(err: unknown): { exitCode: number; message?: string } {
  // commander prints its own usage errors; `--help` and `--version` throw with exit code 0.
  if (err instanceof CommanderError) return { exitCode: err.exitCode === 0 ? EXIT.ok : EXIT.usage };
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof RpcTimeoutError) return { exitCode: EXIT.timeout, message: err.message };
  if (err instanceof InvalidTopicError || err instanceof InvalidNameError) return { exitCode: EXIT.usage, message: err.message };
  if (err instanceof RembusError) return { exitCode: EXIT.failure, message: err.message };
  return { exitCode: EXIT.usage, message: err instanceof Error ? err.message : String(err) };
}

/** Resolves on the first SIGINT or SIGTERM, then stops listening for them. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
