/** `rembus rpc METHOD [ARGS…]`: call a method and print its result as one line of JSON. */
import type { Command } from 'commander';
import { validateTopic } from '../topic/validate.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { readArgs, toJson } from './json.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';

interface RpcFlags extends SecurityFlags {
  json?: boolean;
  target?: string;
  timeout?: number;
}

/** Add the `rpc` subcommand to `program`. */
export function registerRpc(program: Command, env: Env): void {
  securityFlags(program.command('rpc'))
    .description('call METHOD with ARGS and print the result as JSON')
    .argument('<method>', 'the method')
    .argument('[args...]', "each a JSON value (plain text when not JSON); '-' reads one JSON array from stdin")
    // The result is always printed as JSON; the flag is accepted for symmetry with `sub`.
    .option('--json', 'print the result as JSON (the default)')
    .option('--target <name>', 'ask this component directly instead of any exposer')
    .option('-W, --timeout <ms>', 'give up after MS milliseconds (exit 2); default 10000', intArg('timeout', 1))
    .action(async (method: string, rawArgs: string[], flags: RpcFlags, cmd: Command) => {
      validateTopic(method);
      const args = await readArgs(rawArgs, process.stdin);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('rpc', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags }, flags.timeout);
      try {
        const result = await node.call(method, args, {
          ...(flags.target === undefined ? {} : { target: flags.target }),
          ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
        });
        process.stdout.write(`${toJson(result)}\n`);
      } finally {
        await node.close();
      }
    });
}
