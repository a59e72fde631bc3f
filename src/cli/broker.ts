/** `rembus broker`: run a broker until SIGINT/SIGTERM. */
import { InvalidArgumentError, type Command } from 'commander';
import { RembusError } from '../errors.js';
import type { BrokerTarget } from '../bridge/credentials.js';
import { broker, DEFAULT_PORT, defaultHost } from '../broker/broker.js';
import { RPC_POLICIES, type RpcPolicyName } from '../broker/rpc-policy.js';
import { loadTlsOptions } from '../security/tls.js';
import { validateKeyName } from '../security/names.js';
import { untilSignal } from './exit.js';
import { settleBrokerHeap } from './heap.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, resolveDataDir, resolvePort, type Env, type GlobalOptions } from './options.js';

interface BrokerFlags {
  port?: number;
  host?: string;
  auth: 'optional' | 'required';
  openTenant: string[];
  dataDir?: string;
  schema?: string;
  ducklake?: string;
  persist: boolean;
  admin: string[];
  cert?: string;
  key?: string;
  mqtt?: string;
  join: string[];
  joinKey?: string;
  twinTtl?: number;
  maxTwins?: number;
  fsync: 'off' | 'interval' | 'always';
  fsyncInterval?: number;
  storeFailureTimeout?: number;
  maxLogSize?: number;
  policy?: RpcPolicyName;
  tcp?: number;
  mqttMethod: string[];
  mqttTenant?: string;
  cluster: string[];
  clusterName?: string;
  clusterReplicas?: number;
  clusterInterest?: 'all' | 'subscribed';
  clusterLease?: number;
}

/** Add the `broker` subcommand to `program`. */
export function registerBroker(program: Command, env: Env): void {
  program.command('broker')
    .description('run a broker (--name sets its name, answered by the rid RPC; default "broker")')
    .option('--port <port>', `WebSocket port, 0 for any free one (env REMBUS_PORT, default ${DEFAULT_PORT})`, intArg('port', 0, 65_535))
    .option('--host <host>', 'interface to listen on (default 127.0.0.1; 0.0.0.0 with --auth required)')
    .option('--auth <mode>', 'optional: serve unauthenticated components too; required: only components that '
      + 'proved their name (key or shared secret)', authMode, 'optional')
    .option('--open-tenant <tenant>', 'with isolated tenants, let this tenant\'s names act without proof '
      + '("." for names without a dot and anonymous components; repeatable)', collect, [])
    .option('--data-dir <dir>', 'durable state (LMDB file <dir>/<name>.lmdb; schema tables in <dir>/<name>.duckdb) (env REMBUS_DIR, default ~/.config/rembus)')
    .option('--fsync <mode>', 'what an ACK waits for: off (written to the OS: survives a killed broker), interval (and synced every --fsync-interval ms), always (synced to disk: survives power loss)', fsyncArg, 'off')
    .option('--fsync-interval <ms>', 'sync period of --fsync interval', intArg('fsync-interval', 1, 3_600_000))
    .option('--store-failure-timeout <ms>', 'a store failing this long (full disk, I/O error) stops the broker with exit code 3 (default 30000)', intArg('store-failure-timeout', 0, 86_400_000))
    .option('--max-log-size <size>', 'bound the message log: past SIZE (bytes, or with k/M/G/KiB/MiB/GiB) the oldest '
      + 'messages are dropped, counted and logged (default none: only messages older than 24 h are)', sizeArg, undefined)
    .option('--no-persist', 'keep the message log, twins and security settings in memory only')
    .option('--admin <name>', 'make NAME an admin (repeatable; added to <data-dir>/<name>/admins.json)', collect, [])
    .option('--cert <file>', 'serve wss:// with this certificate chain (PEM); needs --key')
    .option('--key <file>', 'the private key (PEM) of --cert')
    .option('--schema <file>', 'JSON schema mapping topics to DuckDB tables (env REMBUS_SCHEMA)')
    .option('--ducklake <url>', 'DuckLake catalog for the tables (env DUCKLAKE_URL); needs the ducklake extension')
    .option('--mqtt <url>', 'bridge with this MQTT broker, mqtt://host:1883 (env REMBUS_MQTT_URL)')
    .option('--join <url>', 'join another Rembus broker, ws://host:port, or ws://host:port/NAME to log in as NAME '
      + 'with its key (--join-key, else <data-dir>/NAME/.secret) (repeatable)', collect, [])
    .option('--join-key <file>', 'the private key (PEM/DER) or shared secret of the bridge names in the --join URLs')
    .option('--twin-ttl <seconds>', 'forget a named component unseen this long (default 2592000, 30 days)', intArg('twin-ttl', 1))
    .option('--max-twins <n>', 'refuse logins past this many named components (default 100000)', intArg('max-twins', 1))
    .option('--mqtt-method <name>', 'a method served on the --mqtt side that components may call (repeatable)', collect, [])
    .option('--mqtt-tenant <tenant>', 'with isolated tenants, the tenant whose publishes and methods the --mqtt bridge carries (default ".")')
    .option('--policy <policy>', 'which exposer serves a call: first_up, round_robin (default), less_busy', policyName)
    .option('--tcp <port>', 'also accept tcp:// components on PORT (tls:// with --cert; Rembus.jl uses 8337)',
      intArg('tcp port', 0, 65_535))
    .option('--cluster <url>', 'form one logical broker with the other brokers of this NATS cluster, nats://host:4222 (repeatable: NATS failover list)', collect, [])
    .option('--cluster-name <name>', 'the cluster joined with --cluster (default "default")')
    .option('--cluster-replicas <n>', 'JetStream replicas of acknowledged publishes (default 1; 3 on a 3-node NATS cluster)', intArg('cluster-replicas', 1, 5))
    .option('--cluster-interest <which>', 'QoS0 publishes taken from the cluster: all (default) or subscribed (only topics subscribed here)', interestMode)
    .option('--cluster-lease <ms>', 'lease time of the cluster leader, the one writer of --schema tables and runner of --mqtt/--join (default 3000)', intArg('cluster-lease', 100))
    .action(async (flags: BrokerFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const port = resolvePort(flags.port, env, DEFAULT_PORT);
      const host = flags.host ?? defaultHost(flags.auth);
      const log = cliLogger('broker', globals.verbose, env, 'info');
      if ((flags.cert === undefined) !== (flags.key === undefined)) {
        throw new CliError('--cert and --key go together', EXIT.usage);
      }
      // A missing or unusable file fails the start, naming the file (TlsConfigError, exit 3).
      const tls = flags.cert === undefined ? undefined : await loadTlsOptions({ cert: flags.cert, key: flags.key! });
      // The name builds the data paths (`<data-dir>/<name>.lmdb`): `../x` is a usage error (exit 1).
      if (flags.persist) validateKeyName(globals.name ?? 'broker');
      const join = await joinTargets(flags, env);
      // Listen for signals before binding, so a signal sent right after startup is not fatal.
      const stop = untilSignal();
      let running;
      try {
        running = await broker({
          port, host, auth: flags.auth, name: globals.name ?? 'broker', logger: log.child({ component: 'broker' }),
          ...(flags.persist ? { dataDir: resolveDataDir(flags.dataDir, env), fsync: flags.fsync } : {}),
          ...(flags.fsyncInterval === undefined ? {} : { fsyncInterval: flags.fsyncInterval }),
          ...(flags.storeFailureTimeout === undefined ? {} : { storeFailureTimeout: flags.storeFailureTimeout }),
          ...(flags.maxLogSize === undefined ? {} : { maxLogBytes: flags.maxLogSize }),
          ...optional('schema', flags.schema ?? env['REMBUS_SCHEMA']),
          ...optional('ducklake', flags.ducklake ?? env['DUCKLAKE_URL']),
          ...(flags.admin.length > 0 ? { admins: flags.admin } : {}),
          ...(flags.openTenant.length > 0 ? { openTenants: flags.openTenant } : {}),
          ...(tls === undefined ? {} : { tls }),
          ...optional('mqtt', flags.mqtt ?? env['REMBUS_MQTT_URL']),
          ...(join.length > 0 ? { join } : {}),
          ...(flags.twinTtl === undefined ? {} : { twinTtl: flags.twinTtl * 1000 }),
          ...(flags.maxTwins === undefined ? {} : { maxTwins: flags.maxTwins }),
          ...(flags.policy === undefined ? {} : { rpcPolicy: flags.policy }),
          ...(flags.tcp === undefined ? {} : { tcp: { port: flags.tcp } }),
          ...(flags.mqttMethod.length > 0 ? { mqttMethods: flags.mqttMethod } : {}),
          ...optional('mqttTenant', flags.mqttTenant),
          ...(flags.cluster.length > 0 ? { cluster: { servers: flags.cluster, ...optional('name', flags.clusterName),
            ...(flags.clusterInterest === undefined ? {} : { interest: flags.clusterInterest }),
            ...(flags.clusterLease === undefined ? {} : { leaseTtl: flags.clusterLease }),
            ...(flags.clusterReplicas === undefined ? {} : { replicas: flags.clusterReplicas }) } } : {}),
        });
      } catch (err) {
        // A bad schema names its file and field; DuckLake names the missing extension.
        if (err instanceof RembusError) {
          throw new CliError(err.message, err.code === 'SCHEMA' ? EXIT.usage : EXIT.failure, { cause: err });
        }
        // A data directory held by another broker is a RembusError (DataDirLockedError) above.
        throw new CliError(`cannot listen on ${host}:${port}: ${(err as Error).message}`, EXIT.failure, { cause: err });
      }
      settleBrokerHeap();
      const scheme = tls === undefined ? 'ws' : 'wss';
      log.info({ name: running.name, host, port: running.port, auth: flags.auth },
        `broker listening on ${scheme}://${host}:${running.port} (${startMode(flags.auth, host)})`);
      const dataDir = flags.persist ? resolveDataDir(flags.dataDir, env) : null;
      log.info({ dataDir, store: flags.persist ? 'lmdb' : 'memory', fsync: flags.persist ? flags.fsync : undefined },
        (dataDir !== null ? `data in ${dataDir} (LMDB log and twins, fsync ${flags.fsync}; schema tables in DuckDB)`
          : 'data in memory only (--no-persist)') + `; dashboard and REST on http://${host}:${running.port}/`);
      if (running.tcpUrl !== undefined) log.info({ url: running.tcpUrl }, `broker listening on ${running.tcpUrl}`);
      // An admin's `shutdown` command closes the broker too.
      const signal = await Promise.race([stop, running.closed.then(() => 'shutdown' as const)]);
      log.info({ signal }, 'broker stopping');
      await running.close();
      // A store that failed for good: exit non-zero so a supervisor restarts the broker.
      if (running.failure !== undefined) throw new CliError(running.failure.message, EXIT.failure, { cause: running.failure });
      log.info('broker stopped');
    });
}

/**
 * The `--join` targets with the keys of their bridge names (src/cli/bridge-keys.ts), a bad key
 * failing the start naming its file. The bridge's modules load only for a broker that joins.
 */
async function joinTargets(flags: BrokerFlags, env: Env): Promise<BrokerTarget[]> {
  if (flags.join.length === 0) {
    if (flags.joinKey !== undefined) throw new CliError('--join-key needs --join', EXIT.usage);
    return [];
  }
  const { bridgeTarget, requireName } = await import('./bridge-keys.js');
  if (flags.joinKey !== undefined) requireName(flags.join, undefined, '--join-key');
  const dataDir = resolveDataDir(flags.dataDir, env);
  const files = flags.joinKey === undefined ? {} : { key: flags.joinKey };
  return Promise.all(flags.join.map((url) => bridgeTarget(url, undefined, files, env, dataDir)));
}

function policyName(value: string): RpcPolicyName {
  if ((RPC_POLICIES as readonly string[]).includes(value)) return value as RpcPolicyName;
  throw new InvalidArgumentError(`must be one of ${RPC_POLICIES.join(', ')}`);
}

function interestMode(value: string): 'all' | 'subscribed' {
  if (value === 'all' || value === 'subscribed') return value;
  throw new InvalidArgumentError('must be all or subscribed');
}

function authMode(value: string): 'optional' | 'required' {
  if (value === 'optional' || value === 'required') return value;
  throw new InvalidArgumentError('must be optional or required');
}

/** The mode part of the start line: who is served, and who can reach the broker. */
function startMode(auth: 'optional' | 'required', host: string): string {
  const who = auth === 'required' ? 'auth required: only authenticated components'
    : 'auth optional: unauthenticated components accepted';
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  return loopback ? `${who}; loopback only, --host 0.0.0.0 to listen on every interface` : who;
}

function fsyncArg(value: string): 'off' | 'interval' | 'always' {
  if (value === 'off' || value === 'interval' || value === 'always') return value;
  throw new CliError(`--fsync must be off, interval or always, not ${JSON.stringify(value)}`, EXIT.usage);
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30 };

/** `--max-log-size`: bytes, or a number with k, M, G (powers of 1000) or KiB, MiB, GiB; at least 64 KiB. */
function sizeArg(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?)?b?$/i.exec(value.trim());
  const bytes = m === null ? NaN : Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes < 65_536) {
    throw new InvalidArgumentError('must be a size of at least 64KiB, e.g. 512MiB, 2GiB, 1000000000');
  }
  return bytes;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined || value === '' ? {} : ({ [key]: value } as { [P in K]?: string });
}
