/** `rembus sub PATTERN`: print the messages published on a topic or pattern, one per line. */
import type { Command } from 'commander';
import { validatePattern } from '../topic/validate.js';
import type { Message } from '../types.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { untilSignal } from './exit.js';
import { toJson } from './json.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';

interface SubFlags extends SecurityFlags {
  count?: number;
  json?: boolean;
}

/** `topic [args…]`, or with `--json` one object `{"topic","args","pattern"}`. */
export function formatMessage(msg: Message, json: boolean): string {
  return json ? toJson({ topic: msg.topic, args: msg.args, pattern: msg.pattern }) : `${msg.topic} ${toJson(msg.args)}`;
}

/** Add the `sub` subcommand to `program`. */
export function registerSub(program: Command, env: Env): void {
  securityFlags(program.command('sub'))
    .description('print the messages published on PATTERN, one line each, until SIGINT or --count')
    .argument('<pattern>', "topic, or pattern with '*' (one chunk) and '**' (any chunks)")
    .option('-C, --count <n>', 'exit after N messages', intArg('count', 1))
    .option('--json', 'print one JSON object per line: {"topic","args","pattern"}')
    .action(async (pattern: string, flags: SubFlags, cmd: Command) => {
      validatePattern(pattern);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('sub', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      try {
        let seen = 0;
        const done = new Promise<void>((resolve, reject) => {
          node.subscribe$(pattern).subscribe({
            next: (msg) => {
              if (flags.count !== undefined && seen >= flags.count) return;
              seen += 1;
              process.stdout.write(`${formatMessage(msg, flags.json === true)}\n`);
              if (seen === flags.count) resolve();
            },
            error: reject,
            complete: resolve,
          });
        });
        // The broker handles one link's frames in order: once `rid` answers, the subscription is in place.
        await Promise.race([node.rpc('rid'), done]);
        log.debug({ pattern }, 'subscribed');
        await Promise.race([done, untilSignal()]);
      } finally {
        // Closing first ends the stream without an unsubscribe the closing link could not carry.
        await node.close();
      }
    });
}
