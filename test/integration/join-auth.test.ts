/**
 * Federation into a broker that requires authentication (README "Security": "a remote broker
 * that runs `auth: 'required'` wants a key for the bridge's name like for any component"): the
 * join is refused, and the joining broker must say so clearly, keep serving its own components,
 * not retry the refused login in a loop, and close without leaking a socket or timer — also as a
 * real `rembus broker --join` process, which must not die of the refusal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import type { LinkState } from '../../src/broker/index.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';
import { collect, roundTrip, useScope, waitFor, waitForMatch } from './helpers.js';

const scope = useScope();

const refused = (l: readonly LinkState[]): boolean => l.length > 0 && l[0]!.status.type === 'down'
  && String((l[0]!.status as { error?: unknown }).error).includes('authentication required');

describe('broker({ join }) into a broker with auth required', () => {
  it('reports the refusal on links$, keeps serving its own components, does not retry, and closes clean', async () => {
    const a = await scope.broker({ name: 'a', auth: 'required' });
    const b = await scope.broker({ name: 'b', join: [a.url!] });
    const state = await firstValueFrom(b.links$.pipe(filter(refused), timeout(8_000)));
    expect(state[0]).toMatchObject({ kind: 'join', url: a.url });
    expect((state[0]!.status as { error?: { code?: string } }).error?.code).toBe('AUTH');
    // A refusal is not retried: A sees no more logins from B's bridge.
    await waitFor(() => a.stats().connections === 0, { what: 'the refused bridge link to close on A' });
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('local'), 1);
    await roundTrip(sub);
    pub.publish('local', 1);
    await got.done;
    await roundTrip(pub, sub);
    expect(a.stats().connections).toBe(0);
  });
});

describe('rembus broker --join into a broker with auth required', () => {
  let proc: BrokerProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (proc !== undefined) await kill(proc);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    proc = dir = undefined;
  });

  it('stays up, logs the refusal, serves its components and exits 0 on SIGTERM', async () => {
    const a = await scope.broker({ name: 'a', auth: 'required' });
    dir = mkdtempSync(join(tmpdir(), 'rembus-join-auth-'));
    proc = await startBroker(dir, await freePort(), ['--join', a.url!, '--log-format', 'json']);
    await waitForMatch(proc.stderr, /authentication required/, 20_000);
    const node = await connect(`${proc.url}/local`);
    try {
      expect(await node.rpc('rid')).toBe('broker');
    } finally {
      await node.close();
    }
    expect(proc.child.exitCode).toBe(null);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 60_000);
});

describe('rembus bridge into a broker with auth required', () => {
  it('exits 3 naming the refusal instead of running forever with one side refused', async () => {
    const a = await scope.broker({ name: 'a', auth: 'required' });
    const b = await scope.broker({ name: 'b' });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bridge', b.url!, a.url!],
      { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let guard: NodeJS.Timeout | undefined;
    try {
      const code = await Promise.race([exited, new Promise<'running'>((r) => { guard = setTimeout(() => r('running'), 40_000); })]);
      expect(code, stderr).toBe(3);
      expect(stderr).toMatch(/bridge refused: .*authentication required/);
    } finally {
      clearTimeout(guard);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    // It left neither broker a link behind.
    await waitFor(() => a.stats().connections === 0 && b.stats().connections === 0, { what: 'the bridge links to close' });
  }, 60_000);
});
