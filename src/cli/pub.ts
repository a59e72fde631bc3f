/** `rembus pub TOPIC [ARGS…]`: publish one message. */
import type { Command } from 'commander';
import { validateTopic } from '../topic/validate.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { readArgs } from './json.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';

/** Add the `pub` subcommand to `program`. */
export function registerPub(program: Command, env: Env): void {
  securityFlags(program.command('pub'))
    .description('publish ARGS on TOPIC')
    .argument('<topic>', 'the topic')
    .argument('[args...]', "each a JSON value (a bare word is text; malformed JSON is refused); '-' reads one JSON array from stdin")
    .option('--text', 'send every argument as a string, as is')
    .option('-q, --qos <qos>', 'quality of service: 0, 1 (acknowledged) or 2 (exactly once)', intArg('qos', 0, 2), 0)
    .option('--retain', "keep as the topic's retained value: every new subscriber gets it first (no ARGS: clear it)")
    .option('--ttl <ms>', 'expire the message this many ms after the broker received it', intArg('ttl', 1, Number.MAX_SAFE_INTEGER))
    .action(async (topic: string, rawArgs: string[],
      flags: SecurityFlags & { qos: 0 | 1 | 2; text?: boolean; retain?: boolean; ttl?: number }, cmd: Command) => {
      validateTopic(topic);
      const args = await readArgs(rawArgs, process.stdin, flags.text === true);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('pub', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      try {
        const options = { qos: flags.qos, ...(flags.retain === true ? { retain: true } : {}),
          ...(flags.ttl === undefined ? {} : { ttl: flags.ttl }) };
        if (flags.qos === 0) {
          await node.publishAsync(topic, args, options);
          // QoS0 has no ack: a round trip proves the publish has left before the link closes.
          await node.rpc('rid');
        } else {
          await node.publishAsync(topic, args, options);
        }
        log.debug({ topic, args: args.length }, 'published');
      } finally {
        await node.close();
      }
    });
}
