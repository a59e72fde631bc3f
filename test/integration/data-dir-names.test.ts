/**
 * The broker's name builds its data paths (`<data-dir>/<name>.lmdb`, `.duckdb`, `.lock`, the
 * security directory `<data-dir>/<name>/`): a name that could leave the data directory (`../x`),
 * or that no file can have, is refused — by `broker({ dataDir, name })` with InvalidNameError
 * (`'INVALID_NAME'`), by `rembus broker --name` and `rembus --name … log dump` as a usage error
 * (exit 1) naming the name and why — before any file is opened or created. Real `rembus`
 * processes (src/cli through tsx).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidNameError } from '../../src/security/index.js';
import { rejection, useScope } from './helpers.js';

const scope = useScope();
const ROOT = join(import.meta.dirname, '../..');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));
let dir: string;
let dataDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rembus-data-names-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/** `rembus …` as a process: its exit code, stdout and stderr (killed after 20 s: a broker that started). */
function rembus(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args],
    { cwd: ROOT, env: { ...baseEnv, REMBUS_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let [stdout, stderr] = ['', ''];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((done) => child.once('close', (code) => {
    clearTimeout(guard);
    done({ code, stdout, stderr });
  }));
}

/** What the test dir holds besides the data dir (where `../<name>` would land). */
function outside(): string[] {
  return readdirSync(dir).filter((f) => f !== 'data');
}

describe('broker names that build data paths', () => {
  it.each([
    ['../x', 'holds a path separator or NUL'],
    ['..', 'holds ".."'],
    ['.hidden', 'starts with "."'],
  ])('broker({ dataDir, name: %j }) is refused with InvalidNameError, creating nothing', async (name, why) => {
    const err = await rejection(scope.broker({ dataDir, name }), InvalidNameError);
    expect(err.code).toBe('INVALID_NAME');
    expect(err.message).toBe(`invalid component name ${JSON.stringify(name)}: ${why}`);
    expect(outside()).toEqual([]);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('a name without a data dir builds no path: broker({ name: "../x" }) runs in memory', async () => {
    const b = await scope.broker({ name: '../x' });
    expect(b.name).toBe('../x');
  });

  it('rembus broker --name ../x exits 1 naming the cause, creating nothing outside the data dir', async () => {
    const run = await rembus(['--name', '../x', 'broker', '--port', '0', '--data-dir', dataDir]);
    expect(run.stderr).toContain('invalid component name "../x": holds a path separator or NUL');
    expect(run.code, run.stderr).toBe(1);
    expect(outside()).toEqual([]);
  }, 30_000);

  it('rembus --name ../y log dump exits 1 and prints nothing, though a log sits at <data-dir>/../y.lmdb', async () => {
    // A real log where the unchecked name would have read it: broker "y" with the test dir as its data dir.
    const b = await scope.broker({ dataDir: dir, name: 'y' });
    const node = await scope.connect(b, 'writer');
    await node.publishAsync('secret/topic', ['not yours'], { qos: 1 });
    await node.close();
    await b.close();
    expect(existsSync(join(dir, 'y.lmdb'))).toBe(true);
    const run = await rembus(['--name', '../y', 'log', 'dump', '--data-dir', dataDir]);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('invalid component name "../y": holds a path separator or NUL');
    expect(run.code, run.stderr).toBe(1);
  }, 30_000);
});
