/** `rembus broker`: run a broker until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { RembusError } from '../errors.js';
import { broker, DEFAULT_PORT } from '../broker/broker.js';
import { loadTlsOptions } from '../security/tls.js';
import { untilSignal } from './client.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, resolveDataDir, resolvePort, type Env, type GlobalOptions } from './options.js';

interface BrokerFlags {
  port?: number;
  host: string;
  dataDir?: string;
  schema?: string;
  ducklake?: string;
  persist: boolean;
  admin: string[];
  cert?: string;
  key?: string;
  mqtt?: string;
  join: string[];
}

/** Add the `broker` subcommand to `program`. */
export function registerBroker(program: Command, env: Env): void {
  program.command('broker')
    .description('run a broker (--name sets its name, answered by the rid RPC; default "broker")')
    .option('--port <port>', `WebSocket port, 0 for any free one (env REMBUS_PORT, default ${DEFAULT_PORT})`, intArg('port', 0, 65_535))
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .option('--data-dir <dir>', 'durable state (DuckDB file <dir>/<name>.duckdb) (env REMBUS_DIR, default ~/.config/rembus)')
    .option('--no-persist', 'keep the message log, twins and security settings in memory only')
    .option('--admin <name>', 'make NAME an admin (repeatable; added to <data-dir>/<name>/admins.json)', collect, [])
    .option('--cert <file>', 'serve wss:// with this certificate chain (PEM); needs --key')
    .option('--key <file>', 'the private key (PEM) of --cert')
    .option('--schema <file>', 'JSON schema mapping topics to DuckDB tables (env REMBUS_SCHEMA)')
    .option('--ducklake <url>', 'DuckLake catalog for the tables (env DUCKLAKE_URL); needs the ducklake extension')
    .option('--mqtt <url>', 'bridge with this MQTT broker, mqtt://host:1883 (env REMBUS_MQTT_URL)')
    .option('--join <url>', 'join another Rembus broker, ws://host:port (repeatable)', collect, [])
    .action(async (flags: BrokerFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const port = resolvePort(flags.port, env, DEFAULT_PORT);
      const log = cliLogger('broker', globals.verbose, env, 'info');
      if ((flags.cert === undefined) !== (flags.key === undefined)) {
        throw new CliError('--cert and --key go together', EXIT.usage);
      }
      // A missing or unusable file fails the start, naming the file (TlsConfigError, exit 3).
      const tls = flags.cert === undefined ? undefined : await loadTlsOptions({ cert: flags.cert, key: flags.key! });
      // Listen for signals before binding, so a signal sent right after startup is not fatal.
      const stop = untilSignal();
      let running;
      try {
        running = await broker({
          port, host: flags.host, name: globals.name ?? 'broker', logger: log.child({ component: 'broker' }),
          ...(flags.persist ? { dataDir: resolveDataDir(flags.dataDir, env) } : {}),
          ...optional('schema', flags.schema ?? env['REMBUS_SCHEMA']),
          ...optional('ducklake', flags.ducklake ?? env['DUCKLAKE_URL']),
          ...(flags.admin.length > 0 ? { admins: flags.admin } : {}),
          ...(tls === undefined ? {} : { tls }),
          ...optional('mqtt', flags.mqtt ?? env['REMBUS_MQTT_URL']),
          ...(flags.join.length > 0 ? { join: flags.join } : {}),
        });
      } catch (err) {
        // A bad schema names its file and field; DuckLake names the missing extension.
        if (err instanceof RembusError) {
          throw new CliError(err.message, err.code === 'SCHEMA' ? EXIT.usage : EXIT.failure, { cause: err });
        }
        const text = (err as Error).message;
        // DuckDB's lock (another process owns the data directory) is not a listen failure.
        if (/could not set lock|conflicting lock/i.test(text)) {
          throw new CliError(`data directory ${resolveDataDir(flags.dataDir, env)} is locked by another broker: ${text}`,
            EXIT.failure, { cause: err });
        }
        throw new CliError(`cannot listen on ${flags.host}:${port}: ${text}`, EXIT.failure, { cause: err });
      }
      const scheme = tls === undefined ? 'ws' : 'wss';
      log.info({ name: running.name, host: flags.host, port: running.port }, `broker listening on ${scheme}://${flags.host}:${running.port}`);
      log.info({ dataDir: flags.persist ? resolveDataDir(flags.dataDir, env) : null, store: flags.persist ? 'duckdb' : 'memory' },
        flags.persist ? `data in ${resolveDataDir(flags.dataDir, env)} (DuckDB); dashboard and REST on http://${flags.host}:${running.port}/`
          : `data in memory only (--no-persist); dashboard and REST on http://${flags.host}:${running.port}/`);
      // An admin's `shutdown` command closes the broker too.
      const signal = await Promise.race([stop, running.closed.then(() => 'shutdown' as const)]);
      log.info({ signal }, 'broker stopping');
      await running.close();
      log.info('broker stopped');
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined || value === '' ? {} : ({ [key]: value } as { [P in K]?: string });
}
