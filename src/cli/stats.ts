/** `rembus stats`: print the broker's next `__broker__/stats` snapshot (a report, or `--json`). */
import type { Command } from 'commander';
import { firstValueFrom, map, timeout } from 'rxjs';
import type { StatsSnapshot } from '../http/snapshot.js';
import { STATS_TOPIC } from '../broker/stats-topic.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { toJson } from './json.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, type Env, type GlobalOptions } from './options.js';
import { statsView } from './stats-view.js';

/** Add the `stats` subcommand to `program`. */
export function registerStats(program: Command, env: Env): void {
  securityFlags(program.command('stats'))
    .description(`print one snapshot of the broker's stats (topic ${STATS_TOPIC})`)
    .option('--json', 'print the snapshot as one line of JSON')
    .option('-W, --timeout <ms>', 'give up after MS ms (exit 2); default 5000', intArg('timeout', 1), 5_000)
    .action(async (flags: SecurityFlags & { json?: boolean; timeout: number }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('stats', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      try {
        const snap = await firstValueFrom(node.subscribe$<[StatsSnapshot]>(STATS_TOPIC).pipe(map((m) => m.args[0]),
          timeout({ first: flags.timeout, with: () => {
            throw new CliError(`no ${STATS_TOPIC} snapshot within ${flags.timeout} ms (stats off on this broker?)`, EXIT.timeout);
          } })));
        process.stdout.write(`${flags.json === true ? toJson(snap) : statsView(snap)}\n`);
      } finally {
        await node.close();
      }
    });
}
