/** `rembus admin <command>`: the broker's admin commands (spec §6) from the shell; needs an admin name. */
import type { Command } from 'commander';
import { admin, type Admin } from '../component/admin.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { toJson } from './json.js';
import { cliLogger } from './logger.js';
import type { Env, GlobalOptions } from './options.js';

type Run = (a: Admin, ...args: string[]) => Promise<unknown>;

/** `[name, arguments, description, run]` of every admin subcommand. */
const COMMANDS: [string, string[], string, Run][] = [
  ['private-topic', ['<topic>'], 'make TOPIC private (admins and authorized names only)', (a, t) => a.privateTopic(t!)],
  ['public-topic', ['<topic>'], 'make TOPIC public again', (a, t) => a.publicTopic(t!)],
  ['authorize', ['<cid>', '<topic>'], 'allow component CID on the private TOPIC', (a, c, t) => a.authorize(c!, t!)],
  ['unauthorize', ['<cid>', '<topic>'], "withdraw CID's access to TOPIC", (a, c, t) => a.unauthorize(c!, t!)],
  ['private-topics', [], 'print the private topics and their authorized names', (a) => a.privateTopics()],
  ['config', [], 'print who exposes and who subscribes to what (broker_config)', (a) => a.brokerConfig()],
  ['load-config', [], "re-read the broker's provisioning files", (a) => a.loadConfig()],
  ['save-config', [], "write the broker's provisioning files", (a) => a.saveConfig()],
  ['debug', ['<on|off>'], "switch the broker's debug logging", (a, on) => a.debug(on === 'on')],
  ['shutdown', [], 'stop the broker', (a) => a.shutdown()],
];

/** Add `admin` and its subcommands to `program`. */
export function registerAdmin(program: Command, env: Env): void {
  const group = program.command('admin').description('run an admin command on the broker (the --name must be an admin)');
  for (const [name, params, description, run] of COMMANDS) {
    const sub = securityFlags(group.command(name)).description(description);
    for (const p of params) sub.argument(p);
    sub.action(async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const args = all.slice(0, params.length) as string[];
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const flags = cmd.opts<SecurityFlags>();
      const log = cliLogger('admin', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      try {
        const result = await run(admin(node), ...args);
        if (result !== undefined) process.stdout.write(`${toJson(result)}\n`);
      } finally {
        await node.close();
      }
    });
  }
}
