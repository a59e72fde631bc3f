/** `rembus broker`: run a broker until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { broker, DEFAULT_PORT } from '../broker/broker.js';
import { untilSignal } from './client.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, resolveDataDir, resolvePort, type Env, type GlobalOptions } from './options.js';

interface BrokerFlags {
  port?: number;
  host: string;
  dataDir?: string;
  persist: boolean;
}

/** Add the `broker` subcommand to `program`. */
export function registerBroker(program: Command, env: Env): void {
  program.command('broker')
    .description('run a broker (--name sets its name, answered by the rid RPC; default "broker")')
    .option('--port <port>', `WebSocket port, 0 for any free one (env REMBUS_PORT, default ${DEFAULT_PORT})`, intArg('port', 0, 65_535))
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .option('--data-dir <dir>', 'durable state (DuckDB file <dir>/<name>.duckdb) (env REMBUS_DIR, default ~/.config/rembus)')
    .option('--no-persist', 'keep the message log and twins in memory only')
    .action(async (flags: BrokerFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const port = resolvePort(flags.port, env, DEFAULT_PORT);
      const log = cliLogger('broker', globals.verbose, env, 'info');
      // Listen for signals before binding, so a signal sent right after startup is not fatal.
      const stop = untilSignal();
      let running;
      try {
        running = await broker({
          port, host: flags.host, name: globals.name ?? 'broker', logger: log.child({ component: 'broker' }),
          ...(flags.persist ? { dataDir: resolveDataDir(flags.dataDir, env) } : {}),
        });
      } catch (err) {
        throw new CliError(`cannot listen on ${flags.host}:${port}: ${(err as Error).message}`, EXIT.failure, { cause: err });
      }
      log.info({ name: running.name, host: flags.host, port: running.port }, `broker listening on ws://${flags.host}:${running.port}`);
      const signal = await stop;
      log.info({ signal }, 'broker stopping');
      await running.close();
      log.info('broker stopped');
    });
}
