/**
 * CPU per message of each process of a pub/sub workload (W1: one topic, W3: 1,000 topics and a
 * wildcard subscriber), read from /proc (Linux): the user + system time each process spent from
 * `go` until the subscriber has every message, divided by the messages. Unlike a rate, this
 * hardly depends on the load of a shared box, so two builds can be compared on one (issue 20).
 *
 * Usage (after `npm run bench` or `tsc -p tsconfig.bench.json` built `dist/bench`):
 * `npx tsx bench/cpu-per-msg.ts [--workload W1|W3|W9] [--count 200000] [--runs 3] [--dist DIR] [--system rembus|nats]`
 * `--workload W9 --phase mem|durable|with`: W9's one schema topic and payload against the broker
 * of one W9 phase (in memory, `--data-dir`, `--data-dir --schema telemetry`); the broker's
 * figure is its whole process (DuckDB's and LMDB's threads included), `main` its main thread alone.
 * `--cpu-prof DIR`: a V8 CPU profile of every rembus role, named after it (broker.…, sub.…, pub.…).
 * `--broker-node-argv trace-gc[,…] --broker-log FILE`: Node flags for the broker alone, its stdout
 * appended to FILE between the lines `--- go` and `--- last delivery` of each run (the window).
 * `--dist`: the `dist` directory of the build to measure (default this checkout's), e.g. another
 * checkout's, to compare builds A/B in the same minutes. Prints one line per run and the medians.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs, schemaTopic, str, num } from './common.js';
import { forkRole } from './role-process.js';

const args = parseArgs();
const workload = str(args, 'workload', 'W1');
const count = num(args, 'count', workload === 'W3' ? 100_000 : 200_000);
const runs = num(args, 'runs', 3);
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..', 'dist')));
const system = str(args, 'system', 'rembus');
/** W9: which broker (`mem`, `durable`: a data dir, `with`: a data dir and the telemetry schema). */
const phase = str(args, 'phase', 'mem');
/** `--cpu-prof DIR`: every role writes a V8 CPU profile there (`<role>-*.cpuprofile`, read by profile-summary.ts). */
const cpuProf = str(args, 'cpu-prof', '');
/** `--broker-node-argv trace-gc,…`: Node flags (without `--`) for the broker role alone, its stdout appended to `--broker-log FILE`. */
const brokerNodeArgv = str(args, 'broker-node-argv', '').split(',').filter((f) => f !== '').map((f) => `--${f}`);
const brokerLog = str(args, 'broker-log', '');
const TICK_US = 1e6 / 100; // USER_HZ

function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime, stime
}

/** CPU of thread `tid` of process `pid`, µs (0 once it has ended). */
function taskCpuUs(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** The broker's main thread, µs: the rest of its CPU is V8's, libuv's, DuckDB's and LMDB's threads. */
const mainCpuUs = (pid: number): number => taskCpuUs(pid, pid);

function role(script: string, argv: string[]): ReturnType<typeof forkRole> {
  const name = argv.includes('--mode') ? argv[argv.indexOf('--mode') + 1]! : 'broker';
  // Named as profile-summary.ts expects a main thread's: <role>.<time>.0.<seq>.cpuprofile
  const execArgv = cpuProf === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${name}.${Date.now()}.0.1.cpuprofile`];
  if (name !== 'broker') return forkRole(dist, script, argv, execArgv);
  return forkRole(dist, script, argv, [...execArgv, ...brokerNodeArgv], brokerLog === '' ? undefined : brokerLog);
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => done(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function waitForTcp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((done) => {
      const sock = tcpConnect(port, '127.0.0.1', () => { sock.destroy(); done(true); });
      sock.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function once(): Promise<Record<string, number>> {
  let brokerPid: number;
  let url: string;
  let stopBroker: () => Promise<void>;
  const client = system === 'nats' ? 'nats-client.js' : 'rembus-client.js';
  if (system === 'nats') {
    const port = await freePort();
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await waitForTcp(port);
    brokerPid = proc.pid!;
    url = `nats://127.0.0.1:${port}`;
    stopBroker = async () => { proc.kill(); };
  } else {
    const dataDir = workload === 'W9' && phase !== 'mem' ? mkdtempSync(join(tmpdir(), 'bench-cpu-w9-')) : undefined;
    const broker = role('rembus-broker.js', dataDir === undefined ? [] : ['--data-dir', dataDir, ...(phase === 'with' ? ['--schema', 'telemetry'] : [])]);
    const { port } = await broker.next('ready');
    brokerPid = broker.proc.pid!;
    url = `ws://127.0.0.1:${port!}`;
    // A durable broker's data dir goes once the broker has closed its files (bounded wait).
    stopBroker = () => new Promise<void>((done) => {
      const removed = (): void => {
        if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
        done();
      };
      const timer = setTimeout(removed, 10_000);
      broker.proc.once('exit', () => { clearTimeout(timer); removed(); });
      broker.proc.send({ type: 'exit' });
    });
  }
  const topic = workload === 'W9' ? schemaTopic(0) : 'bench/telemetry';
  const pattern = workload === 'W3' ? '*/*/*/telemetry' : topic;
  const sub = role(client, ['--mode', 'sub', '--url', url, '--pattern', pattern, '--expect', String(count), '--qos', '0']);
  await sub.next('ready');
  const pub = role(client, ['--mode', 'pub', '--url', url, '--count', String(count), '--chunk', '500', '--qos', '0',
    ...(workload === 'W3' ? ['--topics', '1000'] : ['--topic', topic]), ...(workload === 'W9' ? ['--payload', 'schema'] : [])]);
  await pub.next('ready');
  const pids = { broker: brokerPid, sub: sub.proc.pid!, pub: pub.proc.pid! };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuUs(pid)]));
  const mainBefore = mainCpuUs(brokerPid);
  const t0 = Date.now();
  if (brokerLog !== '') appendFileSync(brokerLog, '--- go\n');
  pub.proc.send({ type: 'go' });
  await sub.next('result');
  if (brokerLog !== '') appendFileSync(brokerLog, '--- last delivery\n');
  const wall = Date.now() - t0;
  const out: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) out[k] = (cpuUs(pid) - before[k]!) / count;
  out['main'] = (mainCpuUs(brokerPid) - mainBefore) / count;
  out['total'] = out['broker']! + out['sub']! + out['pub']!;
  out['rate'] = count / (wall / 1000);
  sub.proc.send({ type: 'exit' });
  pub.proc.send({ type: 'exit' });
  await stopBroker();
  await new Promise((r) => setTimeout(r, 300));
  return out;
}

const results: Record<string, number>[] = [];
const fmt = (r: Record<string, number>): string => ['broker', 'main', 'sub', 'pub', 'total'].map((k) => `${k} ${r[k]!.toFixed(2)}`).join('  ')
  + `  (wall rate ${Math.round(r['rate']!)}/s)`;
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(`${system} ${workload}${workload === 'W9' ? ` ${phase}` : ''} run ${i + 1}: µs CPU/msg  ${fmt(r)}`);
}
const median = (k: string): number => {
  const xs = results.map((r) => r[k]!).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
};
console.log(`${system} ${workload}${workload === 'W9' ? ` ${phase}` : ''} median (${dist}): µs CPU/msg  ${fmt(Object.fromEntries(['broker', 'main', 'sub', 'pub', 'total', 'rate'].map((k) => [k, median(k)])))}`);
process.exit(0);
