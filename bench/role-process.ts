/**
 * One bench role (broker, publisher, subscriber) forked from `dist/bench` with an IPC channel:
 * `next(type)` waits for the role's next message and fails if it is another. Shared by
 * cpu-per-msg.ts and slow-reader-cpu.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export type Msg = { type: string; port?: number; message?: string };

/** @param log A file the role's stdout is appended to (e.g. `--trace-gc` lines); default: dropped. */
export function forkRole(dist: string, script: string, argv: string[], execArgv: string[] = [], log?: string): { proc: ChildProcess; next: (type: string) => Promise<Msg> } {
  const proc = fork(join(dist, 'bench', script), argv, { execArgv, stdio: ['ignore', log === undefined ? 'ignore' : 'pipe', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
  if (log !== undefined) proc.stdout!.pipe(createWriteStream(log, { flags: 'a' }));
  const queue: Msg[] = [];
  let waiter: ((m: Msg) => void) | undefined;
  proc.on('message', (m: Msg) => {
    if (m.type === 'error') throw new Error(`${script}: ${m.message}`);
    if (waiter !== undefined) { const w = waiter; waiter = undefined; w(m); } else queue.push(m);
  });
  const next = (type: string): Promise<Msg> => new Promise((done, fail) => {
    const take = (m: Msg): void => (m.type === type ? done(m) : fail(new Error(`${script}: ${m.type}, not ${type}`)));
    const m = queue.shift();
    if (m !== undefined) take(m); else waiter = take;
  });
  return { proc, next };
}
