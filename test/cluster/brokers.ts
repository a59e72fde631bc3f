/**
 * rembus broker processes of a cluster (`node dist/src/cli/main.js broker --cluster …`, run
 * `npm run build` first: `npm run test:cluster` does), each on its own port and data directory,
 * SIGKILLed and restarted by PID like test/integration/broker-process.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { component, type Component, type ComponentOptions } from '../../src/index.js';
import { freePort, kill, type BrokerProcess } from '../integration/broker-process.js';
import type { NatsCluster } from './nats.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'dist/src/cli/main.js';

export interface ClusterBroker {
  readonly port: number;
  readonly url: string;
  proc: BrokerProcess;
}

/** Start `rembus broker --cluster …` on `port` (fresh free one when omitted); resolves once it listens. */
export async function startClusterBroker(dataDir: string, servers: readonly string[], clusterArgs: readonly string[],
  port?: number): Promise<ClusterBroker> {
  if (!existsSync(new URL(`../../${MAIN}`, import.meta.url))) throw new Error(`${MAIN} missing: run npm run build`);
  const p = port ?? await freePort();
  const args = [MAIN, 'broker', '--port', String(p), '--host', '127.0.0.1', '--data-dir', dataDir,
    ...servers.flatMap((s) => ['--cluster', s]), ...clusterArgs];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr}`)), 60_000);
    const check = (): void => {
      if (/listening on ws:\/\//u.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`broker exited with ${code}: ${stderr}`)); });
  });
  return { port: p, url: `ws://127.0.0.1:${p}`, proc: { child, url: `ws://127.0.0.1:${p}`, exited, stderr: () => stderr } };
}

/** What one process-level cluster test started; {@link useProcesses} releases it after each test. */
export interface Processes {
  readonly opened: Component[];
  readonly brokers: ClusterBroker[];
  nats: NatsCluster | undefined;
  dir: string | undefined;
  /** A component with quick reconnects, closed after the test. */
  open(url: string | string[], options?: ComponentOptions): Component;
}

/** Components, broker processes (by PID), NATS servers and the temp dir of each test, released after it. */
export function useProcesses(): Processes {
  const run: Processes = {
    opened: [], brokers: [], nats: undefined, dir: undefined,
    open(url, options = {}) {
      const node = component(url, { reconnect: { initialDelay: 50, maxDelay: 200 }, ...options });
      run.opened.push(node);
      return node;
    },
  };
  afterEach(async () => {
    await Promise.all(run.opened.splice(0).map((c) => c.close()));
    await Promise.all(run.brokers.splice(0).map((b) => kill(b.proc)));
    await run.nats?.close();
    run.nats = undefined;
    if (run.dir !== undefined) await rm(run.dir, { recursive: true, force: true });
    run.dir = undefined;
  });
  return run;
}
