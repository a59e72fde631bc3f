/**
 * nats-server processes for the cluster tests: one node, or a JetStream cluster of several on
 * 127.0.0.1, each with its own store directory; started, killed (-9) and restarted by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/broker-process.js';

export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']
  .find((p) => existsSync(p));

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  child: ChildProcess;
  exited: Promise<void>;
  stderr: string;
}

export interface NatsCluster {
  readonly nodes: NatsNode[];
  readonly urls: string[];
  kill(node: NatsNode): Promise<void>;
  restart(node: NatsNode): Promise<void>;
  /** Kill every node and remove their stores. */
  close(): Promise<void>;
}

/** Start `size` nats-server nodes with JetStream, clustered when size > 1. */
export async function startNats(size: number): Promise<NatsCluster> {
  if (NATS_SERVER === undefined) throw new Error('nats-server not installed (apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'rembus-nats-'));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: size }, () => freePort()));
  const args = (i: number): string[] => ['-a', '127.0.0.1', '-p', String(ports[i]), '-n', `n${i}`, '-js',
    '-sd', join(dir, `n${i}`), ...(size > 1 ? ['--cluster_name', 'rembus-test', '--cluster', `nats://127.0.0.1:${routes[i]}`,
      '--routes', routes.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`).join(',')] : [])];
  const launch = async (node: NatsNode, i: number): Promise<void> => {
    node.stderr = '';
    node.child = spawn(NATS_SERVER!, args(i), { stdio: ['ignore', 'ignore', 'pipe'] });
    node.child.stderr!.on('data', (d: Buffer) => { node.stderr += d.toString(); });
    node.exited = new Promise((resolve) => node.child.once('exit', () => resolve()));
    await until(() => tcpOpen(node.port), `nats node ${node.name} to listen`);
  };
  const nodes: NatsNode[] = ports.map((port, i) => ({ name: `n${i}`, port, url: `nats://127.0.0.1:${port}` } as NatsNode));
  await Promise.all(nodes.map((n, i) => launch(n, i)));
  const kill = async (node: NatsNode): Promise<void> => {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await node.exited;
  };
  return {
    nodes, urls: nodes.map((n) => n.url), kill,
    restart: (node) => launch(node, nodes.indexOf(node)),
    close: async () => {
      await Promise.all(nodes.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
