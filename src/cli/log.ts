/**
 * `rembus log dump`: print the broker's message log for a time range, one JSON object a line
 * (`recv` ns as a string, `time`, `topic`, `qos`, `id` hex, `slot`, `args`). Reads the LMDB
 * file `<data-dir>/<name>.lmdb`; safe while the broker runs (LMDB readers do not block it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { decodeValue } from '../codec/cbor.js';
import { validateKeyName } from '../security/names.js';
import { openLmdbStore } from '../store/lmdb/lmdb-store.js';
import { toJson } from './json.js';
import { CliError, EXIT, resolveDataDir, type Env, type GlobalOptions } from './options.js';

const PAGE = 10_000;
const MAX_U64 = 2n ** 64n - 1n;

/** A bound: ns since the epoch (digits) or an ISO date/time. */
function timeArg(what: string): (text: string) => bigint {
  return (text) => {
    if (/^\d+$/.test(text)) return BigInt(text);
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new CliError(`${what}: expected ns since the epoch or an ISO time, got ${JSON.stringify(text)}`, EXIT.usage);
    return BigInt(ms) * 1_000_000n;
  };
}

export function registerLog(program: Command, env: Env): void {
  const log = program.command('log').description("inspect a broker's message log");
  log.command('dump')
    .description('print logged messages with from <= recv <= to, oldest first, one JSON object a line')
    .option('--data-dir <dir>', 'the broker data directory (env REMBUS_DIR, default ~/.config/rembus)')
    .option('--from <time>', 'first receive time: ns since the epoch or ISO time (default: the beginning)', timeArg('--from'))
    .option('--to <time>', 'last receive time (default: the end)', timeArg('--to'))
    .action(async (flags: { dataDir?: string; from?: bigint; to?: bigint }, cmd: Command) => {
      // A name that leaves the data dir (`../x`) is a usage error (InvalidNameError, exit 1).
      const name = validateKeyName(cmd.optsWithGlobals<GlobalOptions>().name ?? 'broker');
      const path = join(resolveDataDir(flags.dataDir, env), `${name}.lmdb`);
      // Opening would create an empty log (and its directory): a mistyped --data-dir would print
      // nothing and exit 0, as if the log were empty.
      if (!existsSync(path)) throw new CliError(`no message log at ${path} (check --data-dir and --name)`, EXIT.usage);
      const store = await openLmdbStore({ path });
      try {
        let after = (flags.from ?? 1n) - 1n;
        const upTo = flags.to ?? MAX_U64;
        for (;;) {
          const page = await store.readMessages({ after, upTo, limit: PAGE });
          for (const m of page) {
            process.stdout.write(`${toJson({
              recv: m.recv.toString(), time: new Date(Number(m.recv / 1_000_000n)).toISOString(), topic: m.topic,
              qos: m.qos >> 4 === 3 ? 2 : m.qos >> 4 === 1 ? 1 : 0, id: m.uid === null ? null : m.uid.toString(16), slot: m.slot,
              args: decodeValue(m.data),
            })}\n`);
          }
          if (page.length < PAGE) break;
          after = page[page.length - 1]!.recv;
        }
      } finally {
        await store.close();
      }
    });
}
