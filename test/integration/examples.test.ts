/**
 * The examples run unedited against a local broker: each is spawned as its own process with
 * `tsx`, pointed at a test broker through REMBUS_BASE_URL (bare component names use it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
let hub: Broker | undefined;

interface Run { code: number | null; stdout: string; stderr: string }

function start(example: string, env: Record<string, string>): { child: ChildProcess; done: Promise<Run>; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${example}`], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, out: () => stdout };
}

async function until(check: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await hub?.close();
  hub = undefined;
});

describe('examples', () => {
  it('rpc-server.ts serves and rpc-client.ts composes calls against it', async () => {
    hub = await broker({ port: 0, host: '127.0.0.1' });
    const env = { REMBUS_BASE_URL: hub.url! };
    const server = start('rpc-server.ts', env);
    await until(() => server.out().includes('serving'), 'rpc-server to serve');
    const client = await start('rpc-client.ts', env).done;
    expect(client.stderr).toBe('');
    expect(client.code).toBe(0);
    expect(client.stdout).toContain('result: 100');
    expect(client.stdout).toContain('timed out as asked: true');
    server.child.kill('SIGTERM');
    expect((await server.done).code).toBe(0);
  }, 40_000);

  it('telemetry-subscriber.ts averages what telemetry-publisher.ts publishes', async () => {
    hub = await broker({ port: 0, host: '127.0.0.1' });
    const env = { REMBUS_BASE_URL: hub.url! };
    const subscriber = start('telemetry-subscriber.ts', env);
    await until(() => subscriber.out().includes('subscribed'), 'subscriber to subscribe');
    const publisher = await start('telemetry-publisher.ts', env).done;
    expect(publisher.code).toBe(0);
    const result = await subscriber.done;
    expect(result.code).toBe(0);
    // temperature = 20 + i/2: dev0 gets i = 0,2,4,6,8 → mean 22; dev1 gets i = 1,3,5,7,9 → mean 22.5
    expect(result.stdout).toContain('dev0: average 22.00 °C');
    expect(result.stdout).toContain('dev1: average 22.50 °C');
  }, 40_000);

  it('typed-contracts.ts checks, delivers, calls and stores through its own broker', async () => {
    const run = await start('typed-contracts.ts', {}).done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('turin/oven1: 231.5 °C\nrefused before sending: CONTRACT_INVALID\n1 + 2 = 3\nstored: oven1 231.5\n');
  }, 40_000);

  it('broker.ts starts a broker that answers rid and echo', async () => {
    const b = start('broker.ts', { REMBUS_PORT: '0' });
    await until(() => /listening on (ws:\/\/\S+)/.test(b.out()), 'broker to listen');
    const url = /listening on (ws:\/\/\S+)/.exec(b.out())![1]!;
    const { connect } = await import('../../src/index.js');
    const node = await connect(url.replace('0.0.0.0', '127.0.0.1'));
    expect(await node.rpc('echo', 1, 'a')).toEqual([1, 'a']);
    await node.close();
    b.child.kill('SIGTERM');
    expect((await b.done).code).toBe(0);
  }, 40_000);
});
