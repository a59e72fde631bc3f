/**
 * `rembus broker --tcp PORT --policy P --mqtt-method M` as a real child process
 * (dist/src/cli/main.js, built when stale): the TCP listener, and the flags' validation.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { waitForMatch } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const children = new Set<ChildProcess>();
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));

function start(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdout!.resume();
  const exit = new Promise<number | null>((done) => child.once('close', (code) => {
    children.delete(child);
    done(code);
  }));
  return { child, stderr: () => stderr, exit };
}

const waitFor = (read: () => string, re: RegExp, ms = 8_000): Promise<RegExpExecArray> => waitForMatch(read, re, ms);

beforeAll(() => {
  // The CLI under test is the compiled one: build it when missing (cli.test.ts rebuilds when stale).
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
}, 120_000);

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  children.clear();
});

describe('rembus broker --tcp / --policy', () => {
  it('serves tcp:// components next to ws:// ones and logs both URLs', async () => {
    const proc = start(['broker', '--port', '0', '--tcp', '0', '--host', '127.0.0.1', '--policy', 'less_busy',
      '--name', 'tcp-hub', '--no-persist']);
    const [, port] = await waitFor(proc.stderr, /broker listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    const client = await connect(`tcp://127.0.0.1:${port}/over-tcp`);
    try {
      expect(await client.rpc('rid')).toBe('tcp-hub');
    } finally {
      await client.close();
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
  }, 20_000);

  it('refuses an unknown policy with a usage error naming the choices', async () => {
    const proc = start(['broker', '--port', '0', '--policy', 'fastest', '--no-persist']);
    expect(await proc.exit).toBe(1);
    expect(proc.stderr()).toMatch(/first_up, round_robin, less_busy/);
  }, 20_000);
});
