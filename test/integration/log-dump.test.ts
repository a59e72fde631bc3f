/** `rembus log dump`: the durable log stays inspectable, by time range, one JSON object a line. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { broker } from '../../src/broker/index.js';
import { connect } from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function dump(...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', 'dump',
    '--data-dir', dir!, ...args], { cwd: root });
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('rembus log dump', () => {
  it('prints the logged messages of a time range, with their args, oldest first', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-dump-'));
    const b = await broker({ port: 0, host: '127.0.0.1', dataDir: dir });
    const node = await connect(b.url!);
    for (let i = 0; i < 5; i++) await node.publishAsync('a/b', [i, 'x'], { qos: 1 });
    await node.publishAsync('c', [{ k: 1 }], { qos: 2 });
    await node.close();
    await b.close();

    const all = await dump();
    expect(all.map((m) => m['args'])).toEqual([[0, 'x'], [1, 'x'], [2, 'x'], [3, 'x'], [4, 'x'], [{ k: 1 }]]);
    expect(all.map((m) => m['qos'])).toEqual([1, 1, 1, 1, 1, 2]);
    expect(all[5]).toMatchObject({ topic: 'c' });
    const from = all[1]!['recv'] as string;
    const to = all[3]!['recv'] as string;
    expect((await dump('--from', from, '--to', to)).map((m) => m['args'])).toEqual([[1, 'x'], [2, 'x'], [3, 'x']]);
  }, 60_000);
});
