/** `rembus top`: a live terminal view of the broker's `__broker__/stats` topic, with rates. */
import type { Command } from 'commander';
import { lastValueFrom, map, pairwise, startWith, take, takeUntil, from } from 'rxjs';
import type { StatsSnapshot } from '../http/snapshot.js';
import { STATS_TOPIC } from '../broker/stats-topic.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { untilSignal } from './exit.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';
import { statsView } from './stats-view.js';

/** Add the `top` subcommand to `program`. */
export function registerTop(program: Command, env: Env): void {
  securityFlags(program.command('top'))
    .description(`watch the broker live: rates, topics, methods, components (topic ${STATS_TOPIC})`)
    .option('-C, --count <n>', 'stop after N refreshes', intArg('count', 1))
    .action(async (flags: SecurityFlags & { count?: number }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('top', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      // On a terminal each refresh replaces the screen; piped, views are separated by a blank line.
      const clear = process.stdout.isTTY === true ? '\x1b[H\x1b[2J' : '\n';
      try {
        const views$ = node.subscribe$<[StatsSnapshot]>(STATS_TOPIC).pipe(
          map((m) => m.args[0]), startWith(undefined), pairwise(),
          map(([prev, snap]) => statsView(snap!, prev)),
        );
        await lastValueFrom((flags.count === undefined ? views$ : views$.pipe(take(flags.count))).pipe(
          takeUntil(from(untilSignal())),
          map((view) => process.stdout.write(`${clear}${view}\n`))), { defaultValue: undefined });
      } finally {
        await node.close();
      }
    });
}
