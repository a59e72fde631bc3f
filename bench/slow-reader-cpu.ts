/**
 * W11's cost, as CPU per message instead of a rate (which a shared box makes meaningless): one
 * publisher → one subscriber on `bench/a` (W11's pair A) against a broker with no other client
 * (`none`), with an anonymous `**` subscriber that stops reading when the publisher starts
 * (`stalled`, `slow-reader.js`), or with one that reads everything (`reading`, the cost of an
 * ordinary second reader). Reads the broker's user and system time (all threads: GC helpers
 * too) and its main thread's from /proc (Linux) from `go` until the subscriber has every
 * message, divided by the messages.
 *
 * `--pair-b N`: W11's traffic mix: a second publisher sends N messages on `bench/b` to two
 * subscribers at the same time (so the `**` reader gets both streams, and falls behind and is
 * cut at W11's pace); the figures stay per message of pair A, and the stalled phase also
 * prints when the reader fell behind and was cut (s after it stopped reading).
 *
 * Usage (after `tsc -p tsconfig.bench.json`):
 * `npx tsx bench/slow-reader-cpu.ts [--phases none,stalled,reading] [--count 200000] [--pair-b 0] [--runs 3] [--dist DIR] [--cpu-prof DIR] [--limit 120000]`
 * `--dist`: the `dist` directory of the build to measure, to compare two builds A/B in the same
 * minutes. Prints one line per run and phase, then the medians.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { num, parseArgs, str } from './common.js';
import { forkRole } from './role-process.js';

const args = parseArgs();
const count = num(args, 'count', 200_000);
const runs = num(args, 'runs', 3);
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..', 'dist')));
const phases = str(args, 'phases', 'none,stalled').split(',');
/** `--cpu-prof DIR`: the broker writes a CPU profile per run into DIR/<phase>-<run>. */
const profDir = args['cpu-prof'];
const limit = num(args, 'limit', 120_000);
const countB = num(args, 'pair-b', 0);
const TICK_US = 1e6 / 100; // USER_HZ

function cpuUs(pid: number): { user: number; sys: number; main: number } {
  const read = (path: string): [number, number] => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[11]) * TICK_US, Number(fields[12]) * TICK_US];
  };
  const [user, sys] = read(`/proc/${pid}/stat`);
  const [mainUser, mainSys] = read(`/proc/${pid}/task/${pid}/stat`);
  return { user, sys, main: mainUser + mainSys };
}

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}


function role(script: string, argv: string[], execArgv: string[] = []): ReturnType<typeof forkRole> {
  return forkRole(dist, script, argv, execArgv);
}

async function once(phase: string, run: number): Promise<Record<string, number>> {
  const broker = role('rembus-broker.js', ['--watch-slow'],
    profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profDir, `${phase}-${run}`)]);
  const { port } = await broker.next('ready');
  const url = `ws://127.0.0.1:${port!}`;
  const client = 'rembus-client.js';
  const extra = phase === 'stalled' ? role('slow-reader.js', ['--url', url, '--pattern', '**'])
    : phase === 'reading' ? role(client, ['--mode', 'sub', '--url', url, '--pattern', '**', '--expect', String(count), '--qos', '0'])
    : undefined;
  if (extra !== undefined) await extra.next('ready');
  const sub = role(client, ['--mode', 'sub', '--url', url, '--pattern', 'bench/a', '--expect', String(count), '--qos', '0']);
  await sub.next('ready');
  const pub = role(client, ['--mode', 'pub', '--url', url, '--count', String(count), '--chunk', '500', '--qos', '0', '--topic', 'bench/a']);
  await pub.next('ready');
  const pairB = countB === 0 ? [] : [
    role(client, ['--mode', 'sub', '--url', url, '--pattern', 'bench/b', '--expect', String(countB), '--qos', '0']),
    role(client, ['--mode', 'sub', '--url', url, '--pattern', 'bench/b', '--expect', String(countB), '--qos', '0']),
    role(client, ['--mode', 'pub', '--url', url, '--count', String(countB), '--chunk', '500', '--qos', '0', '--topic', 'bench/b'])];
  for (const r of pairB) await r.next('ready');
  const pid = broker.proc.pid!;
  const before = cpuUs(pid);
  const t0 = Date.now();
  const pausedAt = performance.timeOrigin + performance.now();
  if (phase === 'stalled') extra!.proc.send({ type: 'go' });
  pub.proc.send({ type: 'go' });
  if (pairB.length > 0) pairB[2]!.proc.send({ type: 'go' });
  // A run that does not finish within `--limit` ms (a loaded box, a lost message) fails loudly.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([sub.next('result'), new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${phase}: the subscriber did not get ${count} messages within ${limit} ms`)), limit);
  })]).finally(() => clearTimeout(timer));
  const wall = Date.now() - t0;
  const after = cpuUs(pid);
  const out = { user: (after.user - before.user) / count, sys: (after.sys - before.sys) / count, total: 0,
    main: (after.main - before.main) / count,
    rate: count / (wall / 1000), rss: peakRss(pid), behind: NaN, cut: NaN };
  out.total = out.user + out.sys;
  if (phase === 'stalled') {
    // When the reader fell behind and was cut, as W11 reports them (s after it stopped reading).
    for (const end = Date.now() + 6_000; ;) {
      broker.proc.send({ type: 'stats' });
      const stats = await broker.next('result') as unknown as { cutAt: number; behindAt: number };
      out.behind = stats.behindAt > 0 ? (stats.behindAt - pausedAt) / 1000 : NaN;
      out.cut = stats.cutAt > 0 ? (stats.cutAt - pausedAt) / 1000 : NaN;
      if (stats.cutAt > 0 || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (const r of [sub, pub, ...pairB, ...(extra === undefined ? [] : [extra])]) r.proc.send({ type: 'exit' });
  broker.proc.send({ type: 'exit' });
  await new Promise((r) => {
    const timer = setTimeout(r, 3000);
    broker.proc.once('exit', () => { clearTimeout(timer); r(undefined); });
  });
  for (const r of [sub, pub, broker, ...pairB, ...(extra === undefined ? [] : [extra])]) if (r.proc.exitCode === null) r.proc.kill();
  return out;
}

const fmt = (r: Record<string, number>): string => `broker µs CPU/msg ${r['total']!.toFixed(2)} (user ${r['user']!.toFixed(2)}, `
  + `sys ${r['sys']!.toFixed(2)}; main thread ${r['main']!.toFixed(2)})  peak RSS ${r['rss']!.toFixed(0)} MiB  (wall rate ${Math.round(r['rate']!)}/s)`
  + (Number.isNaN(r['behind']) ? '' : `  behind ${r['behind']!.toFixed(2)} s, cut ${Number.isNaN(r['cut']) ? 'not yet' : `${r['cut']!.toFixed(2)} s`}`);
const results = new Map<string, Record<string, number>[]>(phases.map((p) => [p, []]));
for (let i = 0; i < runs; i++) {
  for (const phase of i % 2 === 0 ? phases : [...phases].reverse()) {
    const r = await once(phase, i + 1);
    results.get(phase)!.push(r);
    console.log(`run ${i + 1} ${phase.padEnd(8)} ${fmt(r)}`);
  }
}
for (const [phase, rs] of results) {
  const median = (k: string): number => rs.map((r) => r[k]!).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
  console.log(`median ${phase.padEnd(8)} (${dist}): ${fmt(Object.fromEntries(['user', 'sys', 'main', 'total', 'rate', 'rss', 'behind', 'cut'].map((k) => [k, median(k)])))}`);
}
process.exit(0);
