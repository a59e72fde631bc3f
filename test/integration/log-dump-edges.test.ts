/**
 * `rembus log dump` where an operator goes wrong or is in a hurry (README "Delivery guarantees":
 * "prints the log as JSON lines (T: ns since the epoch or an ISO time), also while the broker
 * runs"; CLI exit code 1 for usage): it reads the log of a running broker, which goes on
 * logging; a time that is neither ns nor ISO is a usage error naming the flag; a data directory
 * without a log is an error, not an empty dump — and it creates nothing there.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { useScope } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scope = useScope();
const dirs: string[] = [];
afterEach(async () => { await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))); });

function dump(...args: string[]): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', 'dump', ...args], { cwd: root, timeout: 60_000 },
      (err, stdout, stderr) => resolve({
        code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
        lines: stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
        stderr,
      }));
  });
}

describe('rembus log dump at the edges', () => {
  it('dumps the log of a running broker by ISO bounds, and the broker goes on logging', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rembus-dump-live-'));
    dirs.push(dataDir);
    const b = await scope.broker({ dataDir });
    const node = await scope.connect(b, 'writer');
    const start = new Date(Date.now() - 1_000).toISOString();
    for (let i = 0; i < 3; i++) await node.publishAsync('live/a', [i], { qos: 1 });
    const first = await dump('--data-dir', dataDir, '--from', start, '--to', '2100-01-01T00:00:00Z');
    expect(first.code).toBe(0);
    const mine = (lines: Record<string, unknown>[]) => lines.filter((l) => l['topic'] === 'live/a'); // not __broker__/stats
    expect(mine(first.lines).map((l) => l['args'])).toEqual([[0], [1], [2]]);
    // The reader did not stop the writer.
    await node.publishAsync('live/a', [3], { qos: 1 });
    const second = await dump('--data-dir', dataDir, '--from', String(mine(first.lines)[2]!['recv']));
    expect(mine(second.lines).map((l) => l['args'])).toEqual([[2], [3]]);
  }, 120_000);

  it('refuses a time that is neither ns nor ISO (exit 1), and a data directory without a log (exit 1), creating nothing', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rembus-dump-none-'));
    dirs.push(dataDir);
    const bad = await dump('--data-dir', dataDir, '--from', 'yesterday');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from');
    const typo = join(dataDir, 'typo');
    const missing = await dump('--data-dir', typo);
    expect([missing.code, missing.lines]).toEqual([1, []]);
    expect(missing.stderr).toContain('no message log');
    expect(existsSync(typo)).toBe(false);
  }, 120_000);
});
