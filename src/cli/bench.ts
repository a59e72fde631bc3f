/**
 * `rembus bench pub|rpc`: throughput and latency against a running broker, like `nats bench`.
 * `pub`: one subscriber and one publisher connection in this process; msgs/s and latency are
 * measured at the subscriber (each payload carries its send time). `rpc`: one exposer and one
 * caller with `--concurrency` calls in flight. Progress on stderr, the report on stdout.
 */
import type { Command } from 'commander';
import { filter, firstValueFrom, take, timeout } from 'rxjs';
import type { Component } from '../component/types.js';
import { openClient, securityFlags, type SecurityFlags } from './client.js';
import { toJson } from './json.js';
import { cliLogger } from './logger.js';
import { CliError, EXIT, intArg, type Env, type GlobalOptions } from './options.js';

interface BenchFlags extends SecurityFlags { msgs: number; size: number; concurrency: number; qos: 0 | 1 | 2; json?: boolean; timeout: number }

/** A progress bar on stderr, redrawn at most every 100 ms; a plain line per 10 % when piped. */
function progress(what: string, total: number): { tick(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastDecile = -1;
  const draw = (done: number): void => {
    const frac = Math.min(1, done / total);
    if (tty) {
      const width = 30;
      const full = Math.round(frac * width);
      process.stderr.write(`\r${what} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}`);
    } else if (Math.floor(frac * 10) > lastDecile) {
      lastDecile = Math.floor(frac * 10);
      process.stderr.write(`${what} ${lastDecile * 10}% ${done}/${total}\n`);
    }
  };
  return {
    tick: (done) => {
      const now = performance.now();
      if (now - last >= 100 || done === total) {
        last = now;
        draw(done);
      }
    },
    end: () => { if (tty) process.stderr.write('\n'); },
  };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The report of one run: rate and latency percentiles, ms. */
function report(kind: string, count: number, seconds: number, latencies: Float64Array, size: number) {
  const sorted = latencies.slice().sort();
  return { kind, count, seconds: +seconds.toFixed(3), perSecond: Math.round(count / seconds),
    mbPerSecond: +((count * size) / seconds / 2 ** 20).toFixed(2),
    latencyMs: { p50: +percentile(sorted, 0.5).toFixed(3), p90: +percentile(sorted, 0.9).toFixed(3),
      p99: +percentile(sorted, 0.99).toFixed(3), max: +percentile(sorted, 1).toFixed(3) } };
}

async function benchPub(pub: Component, sub: Component, topic: string, flags: BenchFlags): Promise<ReturnType<typeof report>> {
  const latencies = new Float64Array(flags.msgs);
  let received = 0;
  const bar = progress('pub/sub', flags.msgs);
  const payload = new Uint8Array(flags.size);
  const done = firstValueFrom(sub.subscribe$<[number, Uint8Array]>(topic).pipe(
    filter((m) => {
      if (received < flags.msgs) latencies[received] = performance.now() - m.args[0];
      received++;
      bar.tick(received);
      return received >= flags.msgs;
    }),
    take(1),
    timeout({ each: flags.timeout, with: () => { throw new CliError(`only ${received}/${flags.msgs} messages arrived`, EXIT.timeout); } }),
  ));
  await sub.rpc('rid'); // the subscription is declared before the first publish
  const start = performance.now();
  for (let i = 0; i < flags.msgs; i++) {
    if (flags.qos === 0) pub.publish(topic, performance.now(), payload);
    else await pub.publishAsync(topic, [performance.now(), payload], { qos: flags.qos });
    // Yield now and then so the socket drains and the subscriber runs (one process holds both ends).
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await done;
  bar.end();
  return report(`pub/sub qos${flags.qos} ${flags.size} B`, flags.msgs, (performance.now() - start) / 1000, latencies, flags.size);
}

async function benchRpc(caller: Component, server: Component, method: string, flags: BenchFlags): Promise<ReturnType<typeof report>> {
  const unexpose = server.expose(method, (x: unknown) => x);
  await firstValueFrom(caller.whenAvailable$(method));
  const latencies = new Float64Array(flags.msgs);
  const bar = progress('rpc', flags.msgs);
  const payload = new Uint8Array(flags.size);
  let next = 0;
  let finished = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < flags.msgs) {
      const i = next++;
      const t0 = performance.now();
      await caller.call(method, [payload], { timeout: flags.timeout });
      latencies[i] = performance.now() - t0;
      bar.tick(++finished);
    }
  };
  await Promise.all(Array.from({ length: flags.concurrency }, worker));
  bar.end();
  unexpose();
  return report(`rpc x${flags.concurrency} ${flags.size} B`, flags.msgs, (performance.now() - start) / 1000, latencies, flags.size);
}

/** Add `bench pub` and `bench rpc` to `program`. */
export function registerBench(program: Command, env: Env): void {
  const group = program.command('bench').description('measure pub/sub or RPC throughput and latency against a running broker');
  for (const kind of ['pub', 'rpc'] as const) {
    securityFlags(group.command(kind))
      .description(kind === 'pub' ? 'publish --msgs messages and receive them (one publisher, one subscriber)'
        : 'call an echo method --msgs times with --concurrency calls in flight')
      .argument('[subject]', kind === 'pub' ? 'the topic' : 'the method', kind === 'pub' ? 'bench/topic' : 'bench_echo')
      .option('--msgs <n>', 'messages or calls', intArg('msgs', 1), 100_000)
      .option('--size <bytes>', 'payload size', intArg('size', 0), 128)
      .option('--concurrency <n>', 'rpc: calls in flight', intArg('concurrency', 1), 16)
      .option('-q, --qos <qos>', 'pub: quality of service 0, 1 or 2', intArg('qos', 0, 2), 0)
      .option('-W, --timeout <ms>', 'fail when nothing arrives for MS ms (exit 2)', intArg('timeout', 1), 10_000)
      .option('--json', 'print the report as one line of JSON')
      .action(async (subject: string, flags: BenchFlags, cmd: Command) => {
        const globals = cmd.optsWithGlobals<GlobalOptions>();
        const log = cliLogger('bench', globals.verbose, env, 'warn');
        const a = await openClient({ globals: { ...globals, name: undefined }, env, log, files: flags });
        // The serving side is named: presence (whenAvailable$) tracks named exposers only.
        const b = await openClient({ globals: { ...globals, name: `rembus-bench-${process.pid}` }, env, log, files: flags }).catch(async (err: unknown) => {
          await a.close();
          throw err;
        });
        try {
          const result = kind === 'pub' ? await benchPub(a, b, subject, flags) : await benchRpc(a, b, subject, flags);
          process.stdout.write(flags.json === true ? `${toJson(result)}\n`
            : `${result.kind}: ${result.count} in ${result.seconds} s = ${result.perSecond} msgs/s (${result.mbPerSecond} MiB/s); `
              + `latency ms p50 ${result.latencyMs.p50} p90 ${result.latencyMs.p90} p99 ${result.latencyMs.p99} max ${result.latencyMs.max}\n`);
        } finally {
          await a.close();
          await b.close();
        }
      });
  }
}
