/** `rembus bridge <urlA> <urlB>`: federate two brokers until SIGINT/SIGTERM (spec §10). */
import type { Command } from 'commander';
import { bridge } from '../bridge/federation.js';
import { validatePattern } from '../topic/validate.js';
import { bridgeTarget, requireName } from './bridge-keys.js';
import { securityFlags, type SecurityFlags } from './client.js';
import { untilSignal } from './exit.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, resolveDataDir, type Env, type GlobalOptions } from './options.js';

interface BridgeFlags extends SecurityFlags {
  topics?: string[];
  refresh?: number;
}

/** Add the `bridge` subcommand to `program`. */
export function registerBridge(program: Command, env: Env): void {
  securityFlags(program.command('bridge'))
    .description('bridge two brokers: publishes cross both ways, exposed methods become callable on both '
      + '(--name sets the bridge components\' name; default bridge-<random>). A broker with --auth required '
      + 'admits the bridge with the key of its name there: --key FILE, else $REMBUS_DIR/<name>/.secret')
    .argument('<urlA>', 'one broker, ws://host:port (or ws://host:port/name)')
    .argument('<urlB>', 'the other broker')
    .option('--topics <pattern...>', 'forward only these topics (Rembus patterns; default every topic)')
    .option('--refresh <ms>', 'how often exposed methods are read again (default 1000)', intArg('refresh', 10))
    .action(async (urlA: string, urlB: string, flags: BridgeFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      for (const url of [urlA, urlB]) {
        if (!/^wss?:\/\/[^/]/.test(url)) throw new CliError(`invalid broker URL '${url}': expected ws:// or wss://`, EXIT.usage);
      }
      for (const pattern of flags.topics ?? []) validatePattern(pattern);
      // Each side's key: --key, else the .secret of the bridge's name on that side; checked before dialing.
      if (flags.key !== undefined) requireName([urlA, urlB], globals.name, '--key', ' or --name NAME');
      const dataDir = resolveDataDir(undefined, env);
      const [a, b] = await Promise.all([urlA, urlB].map((url) => bridgeTarget(url, globals.name, flags, env, dataDir)));
      const log = cliLogger('bridge', globals.verbose, env, 'info');
      // Listen for signals first, so a signal sent right after startup is not fatal.
      const stop = untilSignal();
      const link = bridge(a!, b!, {
        logger: log.child({ component: 'bridge' }),
        ...(globals.name === undefined ? {} : { name: globals.name }),
        ...(flags.topics === undefined ? {} : { topics: flags.topics }),
        ...(flags.refresh === undefined ? {} : { refreshInterval: flags.refresh }),
      });
      // A side whose login is refused (AuthError, TwinLimitError) is not retried: nothing would
      // ever cross, so the bridge exits (3) naming the cause rather than waiting for a signal.
      let refused: unknown;
      let onRefused!: () => void;
      const refusal = new Promise<'refused'>((resolve) => { onRefused = () => resolve('refused'); });
      const watch = link.status$.subscribe((status) => {
        if (status.type !== 'up') log.info({ status: status.type }, 'bridge not up');
        if (status.type !== 'down') return;
        const code = (status.error as { code?: unknown } | undefined)?.code;
        if (code === 'AUTH' || code === 'TWIN_LIMIT') {
          refused ??= status.error;
          onRefused();
        }
      });
      const signal = await Promise.race([stop, refusal]);
      log.info({ signal }, 'bridge stopping');
      watch.unsubscribe();
      await link.close();
      log.info('bridge stopped');
      if (refused !== undefined) throw new CliError(`bridge refused: ${(refused as Error).message}`, EXIT.failure);
    });
}
