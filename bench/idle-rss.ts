/**
 * What an idle broker process maps, against the processes it is built from (issue 20, W7).
 *
 * Usage: `npx tsc -p tsconfig.bench.json && node dist/bench/idle-rss.js [--runs N]`
 *
 * Each row is a fresh `node` process (no flags) that loads what the row names, waits 1 s, and
 * reads `/proc/self/status` and `v8.getHeapSpaceStatistics()` (Linux only):
 * - `bare`: nothing; `ws`: a `WebSocketServer` on 127.0.0.1:0; `ws+cbor-x`, `ws+rxjs`,
 *   `ws+cbor-x+rxjs`: that server plus the packages (rxjs through its root, as `src/` imports it);
 * - `broker`: `broker({ port: 0, host: '127.0.0.1' })` from this build, as an application starts it;
 * - `rembus broker`: the built CLI, `rembus broker --port 0 --host 127.0.0.1 --no-persist` (stderr
 *   piped: JSON log lines), read from outside 1 s after its start line (RSS columns only);
 * - with `--cli-node-argv a,b` (Node flags without their `--`, e.g. `v8-pool-size=1,single-threaded-gc`):
 *   one more row, the same CLI broker started by `node` with those flags (a deployment's choice).
 *
 * Columns: RSS, its file-backed part (pages of the `node` binary: JS loaded from disk runs V8's
 * parser and compiler, which bare Node's snapshot does not touch) and anonymous part; V8's new,
 * old and code spaces (committed pages); CommonJS modules loaded from node_modules (ESM files of
 * this package are not counted). Medians of `--runs` processes per row (default 3).
 */
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const MODES = ['bare', 'ws', 'ws+cbor-x', 'ws+rxjs', 'ws+cbor-x+rxjs', 'broker', 'rembus broker'] as const;
type Mode = typeof MODES[number];
interface Row { rss: number; file: number; anon: number; newSpace: number; oldSpace: number; code: number; cjs: number }

const mib = (kib: number): number => kib / 1024;

function measure(): Row {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const space = (name: string): number =>
    (v8.getHeapSpaceStatistics().find((s) => s.space_name === name)?.physical_space_size ?? 0) / 2 ** 20;
  const cjs = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('node_modules')).length;
  return {
    rss: mib(kib('VmRSS')), file: mib(kib('RssFile')), anon: mib(kib('RssAnon')),
    newSpace: space('new_space'), oldSpace: space('old_space'), code: space('code_space'), cjs,
  };
}

async function child(mode: Mode): Promise<void> {
  if (mode === 'broker') {
    const { broker } = await import('../src/broker/index.js');
    await broker({ port: 0, host: '127.0.0.1' });
  } else if (mode !== 'bare') {
    const { WebSocketServer } = await import('ws');
    new WebSocketServer({ port: 0, host: '127.0.0.1' });
    if (mode.includes('cbor-x')) await import('cbor-x');
    if (mode.includes('rxjs')) await import('rxjs');
  }
  await new Promise((r) => setTimeout(r, 1000));
  process.send!(measure());
  process.exit(0);
}

/** The CLI broker's process, measured from outside (its heap spaces are not visible here). */
function runCli(nodeArgv: readonly string[] = []): Promise<Row> {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const proc = spawn(process.execPath, [...nodeArgv, main, 'broker', '--port', '0', '--host', '127.0.0.1', '--no-persist'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, REMBUS_LOG_FORMAT: 'json' } });
  return new Promise((done, fail) => {
    let text = '';
    proc.once('exit', (code) => fail(new Error(`rembus broker: exit ${code}\n${text}`)));
    proc.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (!text.includes('broker listening')) return;
      proc.stderr.removeAllListeners('data');
      setTimeout(() => {
        const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
        const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
        proc.removeAllListeners('exit');
        proc.kill('SIGTERM');
        done({ rss: mib(kib('VmRSS')), file: mib(kib('RssFile')), anon: mib(kib('RssAnon')), newSpace: NaN, oldSpace: NaN, code: NaN, cjs: NaN });
      }, 1000);
    });
  });
}

function run(mode: Mode): Promise<Row> {
  if (mode === 'rembus broker') return runCli();
  return new Promise((done, fail) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', mode], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.once('message', (row) => done(row as Row));
    proc.once('exit', (code) => { if (code !== 0) fail(new Error(`${mode}: exit ${code}`)); });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// No bench/common.js here: what it imports would count in every row.
const argv = process.argv.slice(2);
const arg = (key: string): string | undefined => { const i = argv.indexOf(`--${key}`); return i < 0 ? undefined : argv[i + 1]; };
const childMode = arg('child');
if (childMode !== undefined) {
  await child(childMode as Mode);
} else {
  const runs = Number(arg('runs') ?? 3);
  console.log('| process | RSS | file | anon | new | old | code | CJS modules |\n|---|---:|---:|---:|---:|---:|---:|---:|');
  const cliArgv = arg('cli-node-argv')?.split(',').filter((a) => a !== '').map((a) => `--${a}`) ?? [];
  const rowsToRun: (readonly [string, () => Promise<Row>])[] = MODES.map((mode) => [mode, () => run(mode)] as const);
  if (cliArgv.length > 0) rowsToRun.push([`rembus broker (node ${cliArgv.join(' ')})`, () => runCli(cliArgv)]);
  for (const [mode, measureOne] of rowsToRun) {
    const rows: Row[] = [];
    for (let i = 0; i < runs; i++) rows.push(await measureOne());
    const m = (k: keyof Row): string => { const v = median(rows.map((r) => r[k])); return Number.isNaN(v) ? '–' : v.toFixed(k === 'cjs' ? 0 : 1); };
    console.log(`| ${mode} | ${m('rss')} | ${m('file')} | ${m('anon')} | ${m('newSpace')} | ${m('oldSpace')} | ${m('code')} | ${m('cjs')} |`);
  }
}
