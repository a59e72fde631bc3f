#!/usr/bin/env node
/**
 * The `rembus` command: broker | sub | pub | rpc | expose | admin | register | unregister | stats | top | bench. The only module that reads `process.argv` and
 * `process.env`; the library takes option objects (STYLE §11).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { registerBridge } from './bridge.js';
import { registerBroker } from './broker.js';
import { registerLog } from './log.js';
import { failureOf } from './client.js';
import type { Env } from './options.js';
import { registerPub } from './pub.js';
import { registerRpc } from './rpc.js';
import { registerSub } from './sub.js';
import { registerAdmin } from './admin.js';
import { registerBench } from './bench.js';
import { registerExpose } from './expose.js';
import { setLogFormat } from './logger.js';
import { registerRegister } from './register.js';
import { registerStats } from './stats.js';
import { registerTop } from './top.js';

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

/** The program; commander's exits become thrown `CommanderError`s (exitOverride is inherited). */
function program(env: Env): Command {
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
  registerBroker(cli, env);
  registerSub(cli, env);
  registerPub(cli, env);
  registerRpc(cli, env);
  registerBridge(cli, env);
  registerLog(cli, env);
  registerExpose(cli, env);
  registerAdmin(cli, env);
  registerRegister(cli, env);
  registerStats(cli, env);
  registerTop(cli, env);
  registerBench(cli, env);
  return cli;
}

async function main(): Promise<number> {
  // A closed stdout (`rembus sub x | head -1`) is a normal way to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  try {
    await program(process.env).parseAsync(process.argv);
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
