/**
 * `rembus expose METHOD -- COMMAND [ARGS…]`: serve METHOD from the shell. Each call runs COMMAND
 * once with the call's arguments appended (strings as they are, other values as JSON) and the
 * whole argument list as a JSON array on stdin; its stdout (JSON, else the text) is the result,
 * a non-zero exit fails the call with its stderr. At most `--concurrency` commands run at once.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { validateTopic } from '../topic/validate.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { untilSignal } from './exit.js';
import { parseJson } from './json.js';
import { cliLogger } from './logger.js';
import { intArg, type Env, type GlobalOptions } from './options.js';

/** Output kept from one run of the command; past it the call fails rather than grow. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

interface ExposeFlags extends SecurityFlags { concurrency: number; timeout: number }

/** Add the `expose` subcommand to `program`. */
export function registerExpose(program: Command, env: Env): void {
  securityFlags(program.command('expose'))
    .description('serve METHOD by running COMMAND once per call (args appended, JSON array on stdin)')
    .argument('<method>', 'the method to expose')
    .argument('<command...>', 'the command and its fixed arguments (put -- before it)')
    .option('--concurrency <n>', 'commands running at once; later calls wait', intArg('concurrency', 1), 4)
    .option('-W, --timeout <ms>', 'kill a command running longer than MS ms (the call fails)', intArg('timeout', 1), 30_000)
    .action(async (method: string, command: string[], flags: ExposeFlags, cmd: Command) => {
      validateTopic(method);
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const log = cliLogger('expose', globals.verbose, env, 'info');
      const node = await openClient({ globals, env, log, files: flags });
      let running = 0;
      const waiting: (() => void)[] = [];
      const slot = async (): Promise<() => void> => {
        if (running >= flags.concurrency) await new Promise<void>((r) => waiting.push(r));
        running++;
        return () => {
          running--;
          waiting.shift()?.();
        };
      };
      node.expose(method, async (...args: unknown[]) => {
        const release = await slot();
        try {
          return await runOnce(command, args, flags.timeout);
        } finally {
          release();
        }
      });
      // The broker handles one link's frames in order: once `rid` answers, the method is exposed
      // (logged only then, so a caller that waits for the line finds it served).
      await node.rpc('rid');
      log.info({ method, command }, `exposing ${method}`);
      await untilSignal();
      await node.close();
    });
}

function runOnce(command: string[], args: unknown[], timeout: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const argv = [...command.slice(1), ...args.map((a) => typeof a === 'string' ? a : JSON.stringify(a))];
    const child = spawn(command[0]!, argv, { stdio: ['pipe', 'pipe', 'pipe'], timeout });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) child.kill();
      else into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(args));
    child.on('error', (e) => reject(new Error(`${command[0]!}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = Buffer.concat(err).toString('utf8').trim();
        reject(new Error(why || (signal === null ? `${command[0]!} exited with ${code}` : `${command[0]!} killed by ${signal}`)));
        return;
      }
      const text = Buffer.concat(out).toString('utf8').trim();
      try {
        resolve(text === '' ? null : parseJson(text));
      } catch {
        resolve(text);
      }
    });
  });
}
