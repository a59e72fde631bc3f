/** Run `rembus broker` as its own process (tsx, no npx wrapper: a SIGKILL hits the broker itself). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** Everything the broker wrote on stderr so far. */
  stderr(): string;
}

/** A port free right now on 127.0.0.1 (a restarted broker listens on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Start a broker on `dataDir`; resolves once it listens. */
export async function startBroker(dataDir: string, port: number, args: readonly string[] = []): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--port', String(port),
    '--host', '127.0.0.1', '--data-dir', dataDir, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr}`)), 30_000);
    const check = (): void => {
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(`ws://127.0.0.1:${m[1]}`);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`broker exited with ${code}: ${stderr}`)); });
  });
  return { child, url, exited, stderr: () => stderr };
}

/** SIGKILL the broker and wait until it is gone. */
export async function kill(broker: BrokerProcess): Promise<void> {
  if (broker.child.exitCode === null && broker.child.signalCode === null) broker.child.kill('SIGKILL');
  await broker.exited;
}
