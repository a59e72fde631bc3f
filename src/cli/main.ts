#!/usr/bin/env node
/**
 * The `rembus` command: broker | sub | pub | rpc | expose | admin | register | unregister | stats | top | bench. The only module that reads `process.argv` and
 * `process.env`; the library takes option objects (STYLE §11).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { failureOf } from './exit.js';
import type { Env } from './options.js';
import { setLogFormat } from './logger.js';

/** After the exit code is set, lingering handles (a socket mid-close) get this long. */
const EXIT_GRACE_MS = 2_000;

/** The package version: package.json sits two levels up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(path) as { name?: unknown; version?: unknown };
      if (pkg.name === 'rembus' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
}

type Register = (program: Command, env: Env) => void;

/**
 * Each command's module, loaded on demand: `rembus broker` must not carry the client commands'
 * modules (root rxjs, the component, LMDB for `log`, the federation bridge), which an idle broker
 * process otherwise keeps in memory (issue 20, W7). Keys are the top-level command names.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  broker: async () => (await import('./broker.js')).registerBroker,
  sub: async () => (await import('./sub.js')).registerSub,
  pub: async () => (await import('./pub.js')).registerPub,
  rpc: async () => (await import('./rpc.js')).registerRpc,
  bridge: async () => (await import('./bridge.js')).registerBridge,
  log: async () => (await import('./log.js')).registerLog,
  expose: async () => (await import('./expose.js')).registerExpose,
  admin: async () => (await import('./admin.js')).registerAdmin,
  register: async () => (await import('./register.js')).registerRegister,
  unregister: async () => (await import('./register.js')).registerRegister,
  stats: async () => (await import('./stats.js')).registerStats,
  top: async () => (await import('./top.js')).registerTop,
  bench: async () => (await import('./bench.js')).registerBench,
};

/**
 * The command named on the line, or undefined (none, `help`, a typo, `--help`): then every
 * command is registered, for the full help and commander's suggestions.
 */
function commandOf(args: readonly string[], valued: ReadonlySet<string | undefined>): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (valued.has(arg)) { i++; continue; }
    if (arg.startsWith('-')) continue;
    return Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/** The program; commander's exits become thrown `CommanderError`s (exitOverride is inherited). */
async function program(env: Env, args: readonly string[]): Promise<Command> {
  const cli = new Command('rembus')
    .description('Rembus Pub/Sub and RPC over WebSocket: run a broker, subscribe, publish, call')
    .version(packageVersion(), '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('-s, --server <url>', 'broker URL (env REMBUS_SERVER, then REMBUS_BASE_URL; default ws://127.0.0.1:8338)')
    .option('--name <name>', 'component name (env REMBUS_NAME; anonymous when absent); for broker, its name')
    .option('-v, --verbose', 'log debug lines to stderr (else env REMBUS_LOG_LEVEL)')
    .option('--log-format <format>', 'auto (coloured lines on a terminal, JSON when piped), pretty or json (env REMBUS_LOG_FORMAT)')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .exitOverride()
    .hook('preAction', (root) => setLogFormat(root.opts<{ logFormat?: string }>().logFormat));
  // Global options that take a value (their value is not the command name), as defined above.
  const valued = new Set(cli.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long]));
  const named = commandOf(args, valued);
  const loaders = named === undefined ? [...new Set(Object.values(COMMANDS))] : [COMMANDS[named]!];
  // register/unregister share a module: register it once.
  const registers = new Set(await Promise.all(loaders.map((load) => load())));
  for (const register of registers) register(cli, env);
  return cli;
}

async function main(): Promise<number> {
  // A closed stdout (`rembus sub x | head -1`) is a normal way to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  try {
    await (await program(process.env, process.argv.slice(2))).parseAsync(process.argv);
    return 0;
  } catch (err) {
    const { exitCode, message } = failureOf(err);
    if (message !== undefined) process.stderr.write(`error: ${message}\n`);
    return exitCode;
  }
}

const exitCode = await main();
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), EXIT_GRACE_MS).unref();
