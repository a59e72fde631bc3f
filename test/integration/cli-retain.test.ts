/**
 * `rembus pub --retain` / `--ttl` as a real child process (dist/src/cli/main.js, built when
 * missing) against an in-process broker: the retained value reaches a later subscriber, no ARGS
 * clears it, and a bad ttl is a usage error.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collect, roundTrip, useScope } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMBUS_')));
const scope = useScope();

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((done) => child.once('close', (code) => done({ code, stderr })));
}

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
}, 120_000);

describe('rembus pub --retain / --ttl', () => {
  it('retains a value for later subscribers and clears it with no ARGS', async () => {
    const b = await scope.broker();
    expect((await run(['pub', 'cli/state', '{"on":true}', '--retain', '--ttl', '60000', '-s', b.url!])).code).toBe(0);
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('cli/state'), 1);
    expect((await got.done)[0]).toMatchObject({ args: [{ on: true }], retained: true });
    expect((await run(['pub', 'cli/state', '--retain', '-q', '1', '-s', b.url!])).code).toBe(0);
    const later = await scope.connect(b);
    const none = collect(later.subscribe$('cli/state'), 0);
    await roundTrip(later);
    expect(none.values).toEqual([]);
  }, 30_000);

  it('refuses a ttl that is not a positive integer', async () => {
    const r = await run(['pub', 'x', '1', '--ttl', '0', '-s', 'ws://127.0.0.1:1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ttl must be an integer from 1/);
  }, 30_000);
});
