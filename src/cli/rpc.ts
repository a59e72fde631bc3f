/** `rembus rpc METHOD [ARGS…]`: call a method and print its result as one line of JSON. */
import type { Command } from 'commander';
import { lastValueFrom, tap } from 'rxjs';
import { validateTopic } from '../topic/validate.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { readArgs, toJson } from './json.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';

interface RpcFlags extends SecurityFlags {
  json?: boolean;
  target?: string;
  timeout?: number;
  text?: boolean;
}

/** Add the `rpc` subcommand to `program`. */
export function registerRpc(program: Command, env: Env): void {
  securityFlags(program.command('rpc'))
    .description('call METHOD with ARGS and print the result as JSON (each item of a streaming method on its own line)')
    .argument('<method>', 'the method')
    .argument('[args...]', "each a JSON value (a bare word is text; malformed JSON is refused); '-' reads one JSON array from stdin")
    .option('--text', 'send every argument as a string, as is')
    // The result is always printed as JSON; the flag is accepted for symmetry with `sub`.
    .option('--json', 'print the result as JSON (the default)')
    .option('--target <name>', 'ask this component directly instead of any exposer')
    .option('-W, --timeout <ms>', 'give up after MS milliseconds (exit 2); default 10000', intArg('timeout', 1))
    .action(async (method: string, rawArgs: string[], flags: RpcFlags, cmd: Command) => {
      validateTopic(method);
      const args = await readArgs(rawArgs, process.stdin, flags.text === true);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('rpc', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags }, flags.timeout);
      try {
        // A streaming method's items are printed as they arrive, one line each.
        await lastValueFrom(node.call$(method, args, {
          stream: true,
          ...(flags.target === undefined ? {} : { target: flags.target }),
          ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
        }).pipe(tap((item) => process.stdout.write(`${toJson(item)}\n`))), { defaultValue: undefined });
      } finally {
        await node.close();
      }
    });
}
