/**
 * `fsync: 'interval'` and `close()`: the periodic sync runs on libuv's thread pool; a store
 * closed while one is queued or running must wait for it. lmdb's sync worker reads the
 * environment when it runs, and after `close()` that is NULL: the process dies by SIGSEGV
 * (a broker stopping on a full disk died so instead of exiting 3 with STORE_FAILED, and a
 * vitest fork of edges-lmdb-full.test.ts "exited unexpectedly"). The pool is held busy
 * deterministically (open(2) on a FIFO), in a child process: the crash kills whoever has it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./lmdb-sync-close-child.ts', import.meta.url));
let base: string | undefined;

afterEach(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  base = undefined;
});

function run(dir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: '4' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    p.on('error', fail);
    p.on('exit', (code, signal) => done({ code, signal, out, err }));
  });
}

describe("openLmdbStore({ fsync: 'interval' }).close()", () => {
  it('waits for a sync queued on the thread pool: the process survives it', async () => {
    base = await mkdtemp(join(tmpdir(), 'rembus-sync-close-'));
    const { code, signal, out, err } = await run(base);
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: '' });
    expect(out).toBe('closed\nsurvived\n');
  }, 20_000);
});
