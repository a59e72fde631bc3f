/**
 * The start flags README's CLI section offers a host that runs only a broker (issue 20, W7):
 * `node --v8-pool-size=1 --single-threaded-gc "$(command -v rembus)" broker`. The built CLI must
 * run under them: it still settles V8's heap once listening (src/cli/heap.ts sets flags in the
 * running process, which V8 must survive at the collections that follow), serves a load that
 * makes it collect, stops cleanly on SIGTERM, and starts fewer threads than with Node's defaults.
 * `--help` still works under them. Thread counts are read from /proc (Linux only).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForMatch } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const FLAGS = ['--v8-pool-size=1', '--single-threaded-gc'];
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_') && k !== 'NODE_OPTIONS')),
  REMBUS_LOG_FORMAT: 'json' };
const linux = process.platform === 'linux';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A `rembus broker --no-persist` on port 0 started by `node <flags>`; resolves once it listens. */
async function startBroker(nodeFlags: readonly string[]): Promise<{ child: ChildProcess; port: number; closed: Promise<number | null> }> {
  const child = spawn(process.execPath, [...nodeFlags, MAIN, 'broker', '--port', '0', '--host', '127.0.0.1', '--no-persist'],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const closed = new Promise<number | null>((done) => child.once('close', done));
  const line = await waitForMatch(() => stderr, /"port":(\d+)[^\n]*broker listening/u, 30_000);
  return { child, port: Number(line[1]), closed };
}

describe('rembus broker under the start flags a broker-only host may give Node (built CLI)', () => {
  it('listens, serves 200 publishes of 64 KiB (collections after its heap settled), stops on SIGTERM', async () => {
    const { child, port, closed } = await startBroker(FLAGS);
    // 12.5 MiB of request bodies: more than the young generation holds, so V8 collects after the
    // CLI set its runtime heap flags, in a process whose GC runs on the main thread alone.
    const body = JSON.stringify(['x'.repeat(64 * 1024)]);
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/flags/test`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBeLessThan(300);
      await res.arrayBuffer();
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
  }, 90_000);

  it.skipIf(!linux)('starts fewer threads than with Node\'s defaults (one V8 worker instead of four)', async () => {
    const [flagged, plain] = await Promise.all([startBroker(FLAGS), startBroker([])]);
    const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;
    expect(threads(flagged.child.pid!)).toBeLessThanOrEqual(threads(plain.child.pid!) - 3);
    for (const b of [flagged, plain]) b.child.kill('SIGTERM');
    expect(await flagged.closed).toBe(0);
    expect(await plain.closed).toBe(0);
  }, 90_000);

  it('--help still works under them', () => {
    const help = spawnSync(process.execPath, [...FLAGS, MAIN, '--help'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/broker/u);
  }, 60_000);
});
