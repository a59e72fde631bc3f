/**
 * `rembus broker` loads only the broker command (issue 20, W7): main.ts imports the module of the
 * command named on the line, so the broker process carries no client command's modules (the
 * root `rxjs` entry and its 223 files, the component, the federation bridge, LMDB for `log`) and,
 * with stderr piped, no pino-pretty. A fresh process of the built CLI reports what it loaded;
 * `--help` and a command after global options still work (they load every command or the one
 * named).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForMatch } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));
/** Reports, on exit, the CommonJS files and the rembus ESM files the process loaded. */
const REPORT = `data:text/javascript,${encodeURIComponent(`import { register, createRequire } from 'node:module';
register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); '
  + 'if (r.url.includes("/dist/src/")) process.stderr.write("ESM " + r.url.split("/dist/src")[1] + "\\\\n"); return r; }'));
process.on('exit', () => process.stderr.write('CJS ' + Object.keys(createRequire(process.cwd() + '/x.js').cache).join(' ') + '\\n'));`)}`;

const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
});

describe('rembus broker loads only the broker command (built CLI)', () => {
  it('an in-memory broker, started and stopped by SIGTERM: no client command, root rxjs, LMDB or pino-pretty', async () => {
    const child = spawn(process.execPath, ['--import', REPORT, MAIN, 'broker', '--port', '0', '--no-persist'], { cwd: ROOT, env });
    pids.push(child.pid!);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const closed = new Promise<number | null>((done) => child.once('close', done));
    await waitForMatch(() => stderr, /broker listening on ws:\/\/127\.0\.0\.1:\d+/u, 30_000);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    const esm = [...stderr.matchAll(/^ESM (.*)$/gmu)].map((m) => m[1]!);
    const cjs = /^CJS (.*)$/mu.exec(stderr)?.[1]?.split(' ') ?? [];
    expect(esm).toContain('/cli/broker.js');
    expect(esm).toContain('/broker/broker.js');
    for (const absent of ['/cli/sub.js', '/cli/log.js', '/cli/client.js', '/component/component.js', '/bridge/federation.js',
      '/store/lmdb/lmdb-store.js']) expect(esm).not.toContain(absent);
    expect(cjs.length).toBeGreaterThan(0);
    expect(cjs.some((f) => f.endsWith('/rxjs/dist/cjs/index.js'))).toBe(false);
    expect(cjs.some((f) => f.includes('/pino-pretty/'))).toBe(false);
    expect(cjs.some((f) => f.includes('/lmdb/'))).toBe(false);
  }, 60_000);

  it('--help still lists every command; a command after a valued global option is found', () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(help.status).toBe(0);
    for (const cmd of ['broker', 'sub', 'pub', 'rpc', 'bridge', 'log', 'expose', 'admin', 'register', 'unregister', 'stats', 'top', 'bench']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'mu'));
    }
    // `--name broker` is the option's value, `sub` the command: sub's own help, not the broker's.
    const sub = spawnSync(process.execPath, [MAIN, '--name', 'broker', 'sub', '--help'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('Usage: rembus sub');
    // A typo loads every command, so commander can suggest the right one.
    const typo = spawnSync(process.execPath, [MAIN, 'brokr'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toContain('broker');
  }, 60_000);
});
