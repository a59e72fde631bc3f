/**
 * `npm run bench [-- flags]`: the benchmark harness. Every broker and every client runs in its
 * own process on 127.0.0.1; each run has a hard time bound; results are a markdown table.
 *
 * Flags:
 *   --runs N          runs per workload and system (default 3); the table shows median and min–max
 *   --only W1,W4      workloads to run (W7 is measured during W2; W8, W8b, W9, W11 are rembus only)
 *   --systems a,b     systems to run (default: rembus, aedes, relay, plus mosquitto, nats and redis when on PATH;
 *                     rembus-tcp, the rembus broker and client over tcp://, rembus-cli, the broker as
 *                     `rembus broker --no-persist` (the CLI's process), and rembus-cluster, two
 *                     brokers of a cluster over nats-server -js (publishers on one, subscribers on the other), only when named)
 *   --quick           message and call counts ÷ 10 (smoke run)
 *   --out FILE        also write the markdown report to FILE
 *   --chunk N         messages written per event-loop turn by publishers (default 500)
 *   --node-argv a,b   extra Node flags, without their `--`, for every Node role (e.g. trace-gc); with
 *                     --node-log FILE their stdout is appended to FILE, each line tagged with run and role
 *   --cli-node-argv a,b  Node flags, without their `--`, for the `rembus-cli` broker process alone
 *                     (e.g. v8-pool-size=1,single-threaded-gc: a deployment's choice, not the CLI's default)
 *   --cpu-prof DIR    run the Node processes with `node --cpu-prof` (one sub-directory each) into DIR;
 *                     combine with --systems; summarise with bench/profile-summary.ts
 *
 * See bench/README.md for the method.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder } from 'cbor-x';
import { FRAME_ROWS, parseArgs, schemaTopic, telemetry, type ToParent } from './common.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
/**
 * The roles run compiled, with plain `node`, as brokers are deployed (`npm run bench` builds
 * them with tsconfig.bench.json): a TypeScript loader in every process would add its own
 * start-up work and memory, more for a system with more modules.
 */
const ROLES_DIR = join(ROOT, 'dist', 'bench');

// ---- options ------------------------------------------------------------------------------

const flags = parseArgs();
const RUNS = Number(flags['runs'] ?? 3);
const QUICK = flags['quick'] === 'true';
const SCALE = QUICK ? 0.1 : 1;
const CHUNK = Number(flags['chunk'] ?? 500);
const ONLY = flags['only']?.split(',').map((s) => s.trim().toUpperCase());
const CPU_PROF = flags['cpu-prof'] === undefined ? undefined : resolve(flags['cpu-prof']);
const OUT = flags['out'];
/** `--node-argv trace-gc`: extra Node flags (without their `--`) for every Node role; their stdout goes to `--node-log FILE`. */
const NODE_ARGV = flags['node-argv']?.split(',').filter((a) => a !== '').map((a) => `--${a}`) ?? [];
// Start flags for the `rembus-cli` broker process alone: what a deployment may give Node (issue 20).
const CLI_NODE_ARGV = flags['cli-node-argv']?.split(',').filter((a) => a !== '').map((a) => `--${a}`) ?? [];
const NODE_LOG = flags['node-log'] === undefined ? undefined : resolve(flags['node-log']);
/** Time to start a broker and connect every client of one run (tsx start-up on a busy box). */
const SETUP_MS = 40_000;
/** Time given to processes to report partial results after `stop`, and to exit after `exit`. */
const GRACE_MS = 4_000;

// ---- systems ------------------------------------------------------------------------------

interface System {
  name: string;
  /** Start the broker; resolves with its port. */
  startBroker(run: RunContext): Promise<number>;
  clientScript: string;
  url(port: number): string;
  /** Where publishers and RPC callers connect, when not `url` (rembus-cluster: the other broker). */
  pubUrl?(port: number): string;
  exactPattern: string;
  /** W3 wildcard: equivalent single-level wildcards in each system's syntax. */
  wildcardPattern: string;
  qos1: boolean;
}

const EXACT_TOPIC = 'bench/telemetry';

const rembus: System = {
  name: 'rembus',
  startBroker: (run) => run.spawnRole('rembus-broker.ts', [], { profile: true, broker: true }),
  clientScript: 'rembus-client.ts',
  url: (port) => `ws://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '*/*/*/telemetry',
  qos1: true,
};
/**
 * The same broker run as users run it, `rembus broker --no-persist` (the built CLI: its own
 * process, which settles V8's heap once listening, src/cli/heap.ts), with the rembus client
 * (`--systems rembus,rembus-cli`; issue 20, W7: its peak RSS against `broker()` embedded).
 */
const rembusCli: System = { ...rembus, name: 'rembus-cli', startBroker: (run) => run.spawnCliBroker() };
/** The same broker and client over `tcp://` (spec §1.4 framing) instead of ws:// (`--systems rembus,rembus-tcp`). */
const rembusTcp: System = {
  ...rembus,
  name: 'rembus-tcp',
  startBroker: (run) => run.spawnRole('rembus-broker.ts', ['--tcp', '1'], { profile: true, broker: true }),
  url: (port) => `tcp://127.0.0.1:${port}`,
};
/**
 * Two rembus brokers of one cluster over a local `nats-server -js` (`--systems rembus,rembus-cluster`):
 * publishers and RPC callers on one broker, subscribers and the RPC server on the other, so every
 * message and call takes the cluster hop (README "Cluster").
 */
const clusterPeers = new Map<number, number>();
const rembusCluster: System = {
  ...rembus,
  name: 'rembus-cluster',
  startBroker: async (run) => {
    const nats = `nats://127.0.0.1:${await run.startNats(true)}`;
    const a = await run.spawnRole('rembus-broker.ts', ['--cluster', nats], { profile: true, broker: true });
    const b = await run.spawnRole('rembus-broker.ts', ['--cluster', nats], { profile: true });
    clusterPeers.set(b, a);
    return b;
  },
  pubUrl: (port) => `ws://127.0.0.1:${clusterPeers.get(port)!}`,
};
const aedes: System = {
  name: 'aedes',
  startBroker: (run) => run.spawnRole('aedes-broker.ts', [], { profile: true, broker: true }),
  clientScript: 'mqtt-client.ts',
  url: (port) => `mqtt://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '+/+/+/telemetry',
  qos1: true,
};
const relay: System = {
  name: 'relay',
  startBroker: (run) => run.spawnRole('relay-broker.ts', [], { profile: true, broker: true }),
  clientScript: 'relay-client.ts',
  url: (port) => `ws://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '(relay: no matching)',
  qos1: false,
};
const mosquitto: System = {
  name: 'mosquitto',
  startBroker: (run) => run.startMosquitto(),
  clientScript: 'mqtt-client.ts',
  url: (port) => `mqtt://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '+/+/+/telemetry',
  qos1: true,
};
/** Native `nats-server`; the client maps topics `/` → `.` (NATS subject tokens). */
const nats: System = {
  name: 'nats',
  startBroker: (run) => run.startNats(),
  clientScript: 'nats-client.ts',
  url: (port) => `nats://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '*.*.*.telemetry',
  qos1: false, // core NATS has no per-message ack; JetStream would be another product
};

/** Native `redis-server`; PUBLISH/SUBSCRIBE (PSUBSCRIBE for W3), RPC over lists (redis-client.ts). */
const redis: System = {
  name: 'redis',
  startBroker: (run) => run.startRedis(),
  clientScript: 'redis-client.ts',
  url: (port) => `redis://127.0.0.1:${port}`,
  exactPattern: EXACT_TOPIC,
  wildcardPattern: '*/*/*/telemetry',
  qos1: false, // Redis pub/sub is at-most-once
};

function onPath(cmd: string): string | undefined {
  const r = spawnSync('which', [cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const notes: string[] = [];
const available: System[] = [rembus, aedes, relay];
const mosquittoPath = onPath('mosquitto') ?? (onPath('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : undefined);
if (mosquittoPath !== undefined) {
  available.push(mosquitto);
  notes.push(`Mosquitto: ${mosquittoPath} (native, unbounded queues); its W7 is a native process without a JS runtime.`);
}
else notes.push('Mosquitto: skipped, `mosquitto` not found on PATH.');
const natsPath = onPath('nats-server') ?? (onPath('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined);
if (natsPath !== undefined) {
  available.push(nats);
  const version = spawnSync(natsPath, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^nats-server:\s*/, '');
  notes.push(`NATS: ${natsPath} (${version || 'version unknown'}, native, defaults: 64 MiB max pending per client, a slower `
    + 'subscriber is disconnected, not buffered), client @nats-io/transport-node; subjects are the topics with `/` → `.`, '
    + 'W3 subscribes to `*.*.*.telemetry`; RPC is NATS request/reply (muxed inbox); no QoS1 in core NATS (W6 n/a, '
    + 'JetStream is a separate persistence layer); its W7 is a native process without a JS runtime.');
} else notes.push('NATS: skipped, `nats-server` not found on PATH.');
const redisPath = onPath('redis-server') ?? (onPath('/usr/sbin/redis-server') ? '/usr/sbin/redis-server' : undefined);
if (redisPath !== undefined) {
  available.push(redis);
  const version = /v=(\S+)/.exec(spawnSync(redisPath, ['--version'], { encoding: 'utf8' }).stdout)?.[1];
  notes.push(`Redis: ${redisPath} (${version ?? 'version unknown'}, native, no persistence), client \`redis\` (node-redis); `
    + 'PUBLISH/SUBSCRIBE on the topic as channel, W3 PSUBSCRIBE `*/*/*/telemetry` (a glob: `*` also matches `/`); RPC is a '
    + 'list work queue (LPUSH request, BLMPOP COUNT 100 on each side, reply LPUSHed on the caller\'s list, correlated by id); '
    + 'no QoS1 in Redis pub/sub (W6 n/a); its W7 is a native process without a JS runtime.');
} else notes.push('Redis: skipped, `redis-server` not found on PATH.');
const wanted = flags['systems']?.split(',').map((s) => s.trim());
available.push(rembusTcp, rembusCli); // only when asked for by name
if (natsPath !== undefined) available.push(rembusCluster); // likewise
const SYSTEMS = wanted === undefined ? available.filter((s) => s !== rembusTcp && s !== rembusCli && s !== rembusCluster) : available.filter((s) => wanted.includes(s.name));
const PEERS = SYSTEMS.filter((s) => s !== rembus);

// ---- workloads ----------------------------------------------------------------------------

/** `target`: an absolute goal (W8, W9), shown in the "vs target" column as median ÷ target. */
interface Metric { key: string; label: string; unit: string; higherIsBetter: boolean; target?: number }

type Plan =
  | { kind: 'pubsub'; subscribers: number; count: number; topics: 1 | 1000; qos: 0 | 1;
    /** One exact topic instead of `bench/telemetry`, and the schema payload (W9). */
    topic?: string; payload?: 'schema' }
  | { kind: 'rpc'; count: number; concurrency: number; warmup: number }
  /** `count` publishes; with `frameRows`, each a DataFrame of that many rows (W8b). */
  | { kind: 'ingest'; count: number; frameRows?: number }
  | { kind: 'live-schema'; count: number }
  /** W11: pair A (1 → 1, `countA`), pair B (1 → 2, `countB`), with and without a stalled `**` reader. */
  | { kind: 'isolation'; countA: number; countB: number }

  /** W10: `count` publishes at QoS1 then `count` at QoS2, each awaited; `durable`: rembus phases (W10d). */
  | { kind: 'awaited'; count: number; warmup: number; durable?: boolean }
  /** W6d: the W6 workload against rembus in memory, then durable with each fsync mode. */
  | { kind: 'qos1-durable'; count: number };

/**
 * `rembusOnly`: the other systems are not run and get no rows. `phases`: brokers started one
 * after the other within one run (each gets set-up + limit + grace in the hard bound).
 */
interface Workload { id: string; title: string; plan: Plan; limitMs: number; metrics: Metric[]; rembusOnly?: boolean; phases?: number }

/**
 * Data-at-rest targets of issue 14 (the earlier data-at-rest issue asked 200,000 rows/s for both
 * and 0.8× for W9): W8 one row per publish, W8b DataFrames (rows/s), and W9 (live msgs/s with the
 * durable log and the schema ÷ in memory).
 */
const W8_TARGET = 150_000;
const W8B_TARGET = 300_000;
/**
 * W8b pacing: DataFrames written per event-loop turn (10 × 1,000 rows ≈ 0.4 MB), the counterpart
 * of W8's 500 single-row publishes per turn for frames 1,000 times larger.
 */
const FRAME_CHUNK = 10;
const LIVE_RATIO_TARGET = 0.7;
/** W9: one exact topic that the telemetry schema matches, the same with and without the schema. */
const W9_TOPIC = schemaTopic(0);
/** W11 targets: the unrelated pair keeps ≥ 0.9× its rate, the publisher's fast readers ≥ 0.5×. */
const ISOLATION_TARGET = 0.9;
const FAST_READERS_TARGET = 0.5;
/** W11: how long after the subscribers are done the run waits for the slow reader to be cut. */
const CUT_WAIT_MS = 6_000;

const n = (full: number): number => Math.max(1, Math.round(full * SCALE));

const WORKLOADS: Workload[] = [
  {
    id: 'W1', title: `1 publisher → 1 subscriber, ${n(200_000).toLocaleString('en')} QoS0 messages`,
    plan: { kind: 'pubsub', subscribers: 1, count: n(200_000), topics: 1, qos: 0 }, limitMs: 15_000,
    metrics: [{ key: 'W1', label: 'W1 1→1 QoS0', unit: 'msgs/s', higherIsBetter: true }],
  },
  {
    id: 'W2', title: `1 publisher → 10 subscriber processes, ${n(50_000).toLocaleString('en')} messages`,
    plan: { kind: 'pubsub', subscribers: 10, count: n(50_000), topics: 1, qos: 0 }, limitMs: 15_000,
    metrics: [
      { key: 'W2', label: 'W2 1→10 delivered', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W7', label: 'W7 broker peak RSS during W2', unit: 'MiB', higherIsBetter: false },
    ],
  },
  {
    id: 'W3', title: `1,000 topics, one wildcard subscriber, ${n(100_000).toLocaleString('en')} messages`,
    plan: { kind: 'pubsub', subscribers: 1, count: n(100_000), topics: 1000, qos: 0 }, limitMs: 12_000,
    metrics: [{ key: 'W3', label: 'W3 1000 topics, wildcard sub', unit: 'msgs/s', higherIsBetter: true }],
  },
  {
    id: 'W4', title: `${n(20_000).toLocaleString('en')} sequential RPC calls add(a, b) after ${n(2_000).toLocaleString('en')} warm-up calls`,
    plan: { kind: 'rpc', count: n(20_000), concurrency: 1, warmup: n(2_000) }, limitMs: 15_000,
    metrics: [
      { key: 'W4.p50', label: 'W4 sequential RPC p50', unit: 'µs', higherIsBetter: false },
      { key: 'W4.p99', label: 'W4 sequential RPC p99', unit: 'µs', higherIsBetter: false },
      { key: 'W4', label: 'W4 sequential RPC', unit: 'calls/s', higherIsBetter: true },
    ],
  },
  {
    id: 'W5', title: `${n(50_000).toLocaleString('en')} RPC calls, 100 in flight (after ${n(2_000).toLocaleString('en')} warm-up calls)`,
    plan: { kind: 'rpc', count: n(50_000), concurrency: 100, warmup: n(2_000) }, limitMs: 12_000,
    metrics: [{ key: 'W5', label: 'W5 RPC, 100 in flight', unit: 'calls/s', higherIsBetter: true }],
  },
  {
    id: 'W6', title: `QoS1, 1 → 1, ${n(50_000).toLocaleString('en')} messages`,
    plan: { kind: 'pubsub', subscribers: 1, count: n(50_000), topics: 1, qos: 1 }, limitMs: 12_000,
    metrics: [
      { key: 'W6.pub', label: 'W6 QoS1 acked at publisher', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W6.sub', label: 'W6 QoS1 received at subscriber', unit: 'msgs/s', higherIsBetter: true },
    ],
  },
  {
    id: 'W8', title: `schema ingest: ${n(200_000).toLocaleString('en')} QoS0 telemetry publishes on \`site{i%10}/dn{i%100}/telemetry\` `
      + `persisted into DuckDB (rembus only; rows/s = persisted rows / time from the first publish received until all are persisted)`,
    plan: { kind: 'ingest', count: n(200_000) }, limitMs: 20_000, rembusOnly: true,
    metrics: [{ key: 'W8', label: 'W8 schema ingest', unit: 'rows/s', higherIsBetter: true, target: W8_TARGET },
      { key: 'W8.cpu', label: 'W8 broker main-thread CPU per row', unit: 'µs', higherIsBetter: false }],
  },
  {
    id: 'W8b', title: `schema ingest of DataFrames: ${n(1_000).toLocaleString('en')} QoS0 publishes, each a polars DataFrame of `
      + `${FRAME_ROWS.toLocaleString('en')} telemetry rows (tag 80), on the W8 topics and table (rembus only; the stage's capacity: `
      + `rows/s = persisted rows / time from the first publish received until all are persisted)`,
    plan: { kind: 'ingest', count: n(1_000), frameRows: FRAME_ROWS }, limitMs: 20_000, rembusOnly: true,
    metrics: [{ key: 'W8b', label: 'W8b schema ingest, DataFrames', unit: 'rows/s', higherIsBetter: true, target: W8B_TARGET },
      { key: 'W8b.cpu', label: 'W8b broker main-thread CPU per row', unit: 'µs', higherIsBetter: false }],
  },
  {
    id: 'W9', title: `live 1 → 1, ${n(200_000).toLocaleString('en')} QoS0 messages on \`${W9_TOPIC}\`, against a broker in memory, `
      + `a durable one (dataDir: the message log in LMDB) and a durable one with the telemetry schema `
      + `(rembus only; three brokers one after the other in each run, the order rotating between runs)`,
    plan: { kind: 'live-schema', count: n(200_000) }, limitMs: 15_000, rembusOnly: true, phases: 3,
    metrics: [
      { key: 'W9.without', label: 'W9 1→1 live, in memory (no persistence)', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W9.durable', label: 'W9 1→1 live, durable log, no schema', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W9.with', label: 'W9 1→1 live, durable log and schema', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W9.ratio', label: 'W9 with ÷ in memory (per run)', unit: '×', higherIsBetter: true, target: LIVE_RATIO_TARGET },
      { key: 'W9.schemaRatio', label: 'W9 with ÷ durable (per run): the schema alone', unit: '×', higherIsBetter: true },
      { key: 'W9.logRatio', label: 'W9 durable log ÷ in memory (per run)', unit: '×', higherIsBetter: true, target: 0.9 },
    ],
  },
  {
    id: 'W11', title: `slow reader isolation: pair A (1 publisher → 1 subscriber on \`bench/a\`, ${n(200_000).toLocaleString('en')} `
      + `QoS0 messages) and pair B (1 publisher → 2 subscribers on \`bench/b\`, ${n(100_000).toLocaleString('en')} messages) at once, `
      + 'against a broker with no other client and against one with an anonymous `**` subscriber that stops reading its socket '
      + 'when the publishers start (rembus only; two brokers one after the other in each run, the order alternating; default '
      + 'flow control: 1 MiB high water, 2 s stall deadline (0.5 s once 8 MiB more pile up), 64 MiB maxBufferedBytes)',
    plan: { kind: 'isolation', countA: n(200_000), countB: n(100_000) }, limitMs: 20_000, rembusOnly: true, phases: 2,
    metrics: [
      { key: 'W11.a.without', label: 'W11 pair A (unrelated) 1→1, no slow reader', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W11.a.with', label: 'W11 pair A (unrelated) 1→1, stalled ** reader', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W11.a', label: 'W11 pair A with ÷ without (per run)', unit: '×', higherIsBetter: true, target: ISOLATION_TARGET },
      { key: 'W11.b.without', label: 'W11 pair B 1→2 delivered, no slow reader', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W11.b.with', label: 'W11 pair B 1→2 delivered, stalled ** reader', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W11.b', label: 'W11 pair B with ÷ without (per run)', unit: '×', higherIsBetter: true, target: FAST_READERS_TARGET },
      { key: 'W11.cut', label: 'W11 time until the slow reader is cut (from when it stops reading)', unit: 's', higherIsBetter: false },
      { key: 'W11.rss.without', label: 'W11 broker peak RSS, no slow reader', unit: 'MiB', higherIsBetter: false },
      { key: 'W11.rss.with', label: 'W11 broker peak RSS, stalled ** reader', unit: 'MiB', higherIsBetter: false },
    ],
  },
];

/** Durable variants: the broker of each phase (`mem`: in memory; else `dataDir` and that fsync mode). */
const DURABLE_PHASES = ['mem', 'off', 'interval', 'always'] as const;
type DurablePhase = typeof DURABLE_PHASES[number];
const PHASE_TEXT: Record<DurablePhase, string> = {
  mem: 'in memory', off: 'durable, fsync off', interval: 'durable, fsync interval', always: 'durable, fsync always',
};
WORKLOADS.push(
  {
    id: 'W10', title: `awaited publishes: one publisher awaiting each ACK, ${n(5_000).toLocaleString('en')} QoS1 then `
      + `${n(5_000).toLocaleString('en')} QoS2 messages (after ${n(500)} warm-up each), no subscriber; rembus in memory`,
    plan: { kind: 'awaited', count: n(5_000), warmup: n(500) }, limitMs: 30_000, phases: 2,
    metrics: [
      { key: 'W10.q1.p50', label: 'W10 awaited QoS1 p50', unit: 'µs', higherIsBetter: false },
      { key: 'W10.q1', label: 'W10 awaited QoS1', unit: 'msgs/s', higherIsBetter: true },
      { key: 'W10.q2.p50', label: 'W10 awaited QoS2 p50', unit: 'µs', higherIsBetter: false },
      { key: 'W10.q2', label: 'W10 awaited QoS2', unit: 'msgs/s', higherIsBetter: true },
    ],
  },
  {
    id: 'W10d', title: `W10 against rembus in memory and durable with each fsync mode, one broker after the other in each run (rembus only)`,
    plan: { kind: 'awaited', count: n(5_000), warmup: n(500), durable: true }, limitMs: 15_000, rembusOnly: true,
    phases: DURABLE_PHASES.length,
    metrics: [
      ...DURABLE_PHASES.flatMap((ph): Metric[] => [
        { key: `W10d.${ph}.q1.p50`, label: `W10 QoS1 p50, ${PHASE_TEXT[ph]}`, unit: 'µs', higherIsBetter: false },
        { key: `W10d.${ph}.q2.p50`, label: `W10 QoS2 p50, ${PHASE_TEXT[ph]}`, unit: 'µs', higherIsBetter: false },
        { key: `W10d.${ph}.q1`, label: `W10 QoS1, ${PHASE_TEXT[ph]}`, unit: 'msgs/s', higherIsBetter: true },
        { key: `W10d.${ph}.q2`, label: `W10 QoS2, ${PHASE_TEXT[ph]}`, unit: 'msgs/s', higherIsBetter: true },
      ]),
      { key: 'W10d.ratio', label: 'W10 QoS1 durable (fsync off) ÷ in memory (per run)', unit: '×', higherIsBetter: true, target: 0.5 },
    ],
  },
  {
    id: 'W6d', title: `W6 (QoS1 1 → 1, ${n(50_000).toLocaleString('en')} messages) against rembus in memory and durable with each fsync mode (rembus only)`,
    plan: { kind: 'qos1-durable', count: n(50_000) }, limitMs: 12_000, rembusOnly: true, phases: DURABLE_PHASES.length,
    metrics: [
      ...DURABLE_PHASES.map((ph): Metric => ({ key: `W6d.${ph}`, label: `W6 QoS1 acked at publisher, ${PHASE_TEXT[ph]}`, unit: 'msgs/s', higherIsBetter: true })),
      { key: 'W6d.ratio', label: 'W6 durable (fsync off) ÷ in memory (per run)', unit: '×', higherIsBetter: true, target: 0.8 },
    ],
  },
);

const SELECTED = WORKLOADS.filter((w) => ONLY === undefined || ONLY.includes(w.id.toUpperCase()) || (w.id === 'W2' && ONLY.includes('W7')));

// ---- child processes ----------------------------------------------------------------------

class Role {
  private readonly inbox: ToParent[] = [];
  private readonly waiters: { pick: (m: ToParent) => boolean; resolve: (m: ToParent) => void }[] = [];
  private stderr = '';
  exited = false;
  readonly exit: Promise<void>;

  constructor(readonly name: string, readonly proc: ChildProcess) {
    proc.on('message', (raw) => this.deliver(raw as ToParent));
    proc.stdout?.on('data', () => undefined);
    proc.stderr?.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-4000); });
    this.exit = new Promise((done) => proc.once('exit', () => { this.exited = true; done(); }));
    proc.on('error', (err) => this.deliver({ type: 'error', message: err.message }));
    void this.exit.then(() => this.deliver({ type: 'error', message: `${this.name} exited\n${this.stderr}` }));
  }

  private deliver(msg: ToParent): void {
    const at = this.waiters.findIndex((w) => w.pick(msg));
    if (at >= 0) this.waiters.splice(at, 1)[0]!.resolve(msg);
    else this.inbox.push(msg);
  }

  /** The next message of one of `types` (an `error` message always matches). */
  next(...types: ToParent['type'][]): Promise<ToParent> {
    const pick = (m: ToParent): boolean => m.type === 'error' || types.includes(m.type);
    const at = this.inbox.findIndex(pick);
    if (at >= 0) return Promise.resolve(this.inbox.splice(at, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ pick, resolve }));
  }

  send(msg: { type: 'go' | 'stop' | 'stats' | 'exit' }): void {
    if (!this.exited && this.proc.connected) this.proc.send(msg);
  }

  kill(): void {
    if (!this.exited && this.proc.pid !== undefined) {
      try { process.kill(this.proc.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

class RunFailure extends Error {
  constructor(readonly status: 'error' | 'na' | 'timeout', message: string) { super(message); }
}

function expectType(msg: ToParent, type: ToParent['type'], who: string): ToParent {
  if (msg.type === 'na') throw new RunFailure('na', msg.reason);
  if (msg.type === 'error') throw new RunFailure('error', `${who}: ${msg.message}`);
  if (msg.type !== type) throw new RunFailure('error', `${who}: expected ${type}, got ${msg.type}`);
  return msg;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => done(port));
    });
  });
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const sock = tcpConnect(port, '127.0.0.1', () => { sock.destroy(); done(true); });
      sock.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new RunFailure('error', `nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The processes of one run; everything it started is stopped by `close()`. */
class RunContext {
  readonly roles: Role[] = [];
  brokerPid: number | undefined;
  private seq = 0;
  private readonly tempDirs: string[] = [];

  constructor(readonly label: string, private readonly profile: boolean) {}

  spawn(script: string, args: string[], options: { profile?: boolean; broker?: boolean } = {}): Role {
    const execArgv: string[] = [];
    if (options.profile === true && this.profile && CPU_PROF !== undefined) {
      // One directory per process; Node names the files CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile.
      const mode = args.includes('--mode') ? `-${args[args.indexOf('--mode') + 1]}` : '';
      const dir = join(CPU_PROF, `${this.label}-${script.replace(/\.ts$/, '')}${mode}-${this.seq++}`);
      mkdirSync(dir, { recursive: true });
      execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
    }
    execArgv.push(...NODE_ARGV);
    const proc = fork(join(ROLES_DIR, script.replace(/\.ts$/, '.js')), args, {
      cwd: ROOT, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const role = new Role(`${script} ${args.slice(0, 2).join(' ')}`, proc);
    if (NODE_LOG !== undefined) {
      const tag = `${script.replace(/\.ts$/, '')}${args.includes('--mode') ? `-${args[args.indexOf('--mode') + 1]}` : ''}`;
      proc.stdout?.on('data', (chunk: Buffer) => appendFileSync(NODE_LOG,
        chunk.toString().split('\n').filter((l) => l !== '').map((l) => `${this.label} ${tag} ${l}\n`).join('')));
    }
    this.roles.push(role);
    if (options.broker === true) this.brokerPid = proc.pid;
    return role;
  }

  async spawnRole(script: string, args: string[], options: { profile?: boolean; broker?: boolean } = {}): Promise<number> {
    const role = this.spawn(script, args, options);
    const ready = expectType(await role.next('ready', 'na'), 'ready', role.name);
    return (ready as { port?: number }).port ?? 0;
  }

  /**
   * The broker as users run it: `rembus broker --port 0 --host 127.0.0.1 --no-persist` (the built
   * CLI, JSON log lines on stderr); resolves with the port of its start line.
   */
  async spawnCliBroker(): Promise<number> {
    const execArgv: string[] = [];
    if (this.profile && CPU_PROF !== undefined) {
      const dir = join(CPU_PROF, `${this.label}-rembus-cli-broker-${this.seq++}`);
      mkdirSync(dir, { recursive: true });
      execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
    }
    const proc = spawn(process.execPath, [...CLI_NODE_ARGV, ...execArgv, ...NODE_ARGV, join(ROOT, 'dist', 'src', 'cli', 'main.js'),
      'broker', '--port', '0', '--host', '127.0.0.1', '--no-persist'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production', REMBUS_LOG_FORMAT: 'json' } });
    const role = new Role('rembus broker (CLI)', proc);
    this.roles.push(role);
    this.brokerPid = proc.pid;
    let text = '';
    const port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`rembus broker: no start line within ${SETUP_MS} ms\n${text}`)), SETUP_MS);
      proc.stderr!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /"port":(\d+)[^\n]*broker listening/u.exec(text);
        if (m !== null) { clearTimeout(timer); done(Number(m[1])); }
      });
      void role.exit.then(() => { clearTimeout(timer); fail(new Error(`rembus broker exited\n${text}`)); });
    });
    return port;
  }

  /** A fresh directory under the OS temp dir, removed by `close()`. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.tempDirs.push(dir);
    return dir;
  }

  async startMosquitto(): Promise<number> {
    const port = await freePort();
    const dir = this.tempDir('bench-mosquitto-');
    const conf = join(dir, 'mosquitto.conf');
    // Unbounded queues: Mosquitto's defaults (1,000 queued QoS1/2 messages) would drop the
    // backlog that the other brokers buffer.
    writeFileSync(conf, [
      `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false',
      'max_queued_messages 0', 'max_inflight_messages 0', 'log_dest none', '',
    ].join('\n'));
    const proc = spawn(mosquittoPath!, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.roles.push(new Role('mosquitto', proc));
    this.brokerPid = proc.pid;
    await waitForTcp(port, SETUP_MS);
    return port;
  }

  /**
   * `nats-server` on loopback with its defaults (no config file: no JetStream, no monitoring port);
   * `jetStream`: with JetStream in a fresh store directory, for rembus-cluster (not the broker measured).
   */
  async startNats(jetStream = false): Promise<number> {
    const port = await freePort();
    const js = jetStream ? ['-js', '-sd', this.tempDir('bench-nats-js-')] : [];
    const proc = spawn(natsPath!, ['-a', '127.0.0.1', '-p', String(port), ...js], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.roles.push(new Role('nats-server', proc));
    if (!jetStream) this.brokerPid = proc.pid;
    await waitForTcp(port, SETUP_MS);
    return port;
  }

  /** `redis-server` on loopback, no persistence (RDB snapshots and AOF off), no config file. */
  async startRedis(): Promise<number> {
    const port = await freePort();
    const dir = this.tempDir('bench-redis-');
    const proc = spawn(redisPath!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.roles.push(new Role('redis-server', proc));
    this.brokerPid = proc.pid;
    await waitForTcp(port, SETUP_MS);
    return port;
  }

  async close(): Promise<void> {
    for (const role of this.roles) role.send({ type: 'exit' });
    for (const role of this.roles) if (role.proc.connected === false && !role.exited) role.proc.kill('SIGTERM');
    await Promise.race([Promise.all(this.roles.map((r) => r.exit)), sleep(GRACE_MS)]);
    for (const role of this.roles) role.kill();
    for (const dir of this.tempDirs) rmSync(dir, { recursive: true, force: true });
    // The context can be used again (W9 runs its two phases in one context).
    this.roles.length = 0;
    this.tempDirs.length = 0;
    this.brokerPid = undefined;
  }

  killAll(): void {
    for (const role of this.roles) role.kill();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** The broker's CPU so far (all threads, and its main thread), for the progress line. */
function brokerCpuNote(pid: number | undefined): { note?: string } {
  if (pid === undefined) return {};
  const secs = (file: string): number => {
    const stat = readFileSync(file, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ ticks
  };
  try {
    return { note: `broker CPU ${secs(`/proc/${pid}/stat`).toFixed(2)} s, main ${secs(`/proc/${pid}/task/${pid}/stat`).toFixed(2)} s` };
  } catch {
    return {};
  }
}

// ---- one run ------------------------------------------------------------------------------

/** `note`: shown in the progress line only. */
interface Value { value: number; incomplete?: string; note?: string }
type RunResult = { status: 'ok'; values: Record<string, Value> } | { status: 'error' | 'na' | 'timeout'; message: string };

/** Wait for every `roles` result until `deadline`; then ask the late ones to `stop` and report. */
async function collect(roles: Role[], deadline: number): Promise<ToParent[]> {
  const pending = roles.map((r) => r.next('result'));
  const all = Promise.all(pending);
  const inTime = await Promise.race([all, sleep(Math.max(0, deadline - Date.now())).then(() => undefined)]);
  if (inTime !== undefined) return inTime;
  for (const r of roles) r.send({ type: 'stop' });
  const late = await Promise.race([all, sleep(GRACE_MS).then(() => undefined)]);
  if (late === undefined) throw new RunFailure('timeout', 'no result after stop');
  return late;
}

function rate(count: number, first: number, last: number): number {
  return last > first ? (count * 1000) / (last - first) : 0;
}

async function pubsub(run: RunContext, system: System, w: Workload & { plan: { kind: 'pubsub' } },
  startBroker: (run: RunContext) => Promise<number> = system.startBroker): Promise<Record<string, Value>> {
  const { plan } = w;
  if (plan.qos === 1 && !system.qos1) throw new RunFailure('na', 'n/a (no QoS1)');
  const port = await startBroker(run);
  const url = system.url(port);
  const pattern = plan.topics === 1000 ? system.wildcardPattern : plan.topic ?? system.exactPattern;
  const subs = Array.from({ length: plan.subscribers }, () => run.spawn(system.clientScript,
    ['--mode', 'sub', '--url', url, '--pattern', pattern, '--expect', String(plan.count), '--qos', String(plan.qos)],
    { profile: true }));
  const pubArgs = ['--mode', 'pub', '--url', system.pubUrl?.(port) ?? url, '--count', String(plan.count), '--chunk', String(CHUNK),
    '--qos', String(plan.qos), ...(plan.topics === 1000 ? ['--topics', '1000'] : ['--topic', plan.topic ?? EXACT_TOPIC]),
    ...(plan.payload === undefined ? [] : ['--payload', plan.payload])];
  const pub = run.spawn(system.clientScript, pubArgs, { profile: true });
  // The publisher may answer `na` (no QoS1 API): then the subscribers are not needed.
  expectType(await pub.next('ready', 'na'), 'ready', 'publisher');
  for (const sub of subs) expectType(await sub.next('ready', 'na'), 'ready', 'subscriber');
  pub.send({ type: 'go' });
  const deadline = Date.now() + w.limitMs;
  const subResults = (await collect(subs, deadline)).map((m) => expectType(m, 'result', 'subscriber') as Record<string, number | boolean>);
  const values: Record<string, Value> = {};
  const received = subResults.reduce((sum, r) => sum + (r['received'] as number), 0);
  const expected = plan.count * plan.subscribers;
  const first = Math.min(...subResults.map((r) => r['first'] as number));
  const last = Math.max(...subResults.map((r) => r['last'] as number));
  const incomplete = received < expected ? `received ${received.toLocaleString('en')}/${expected.toLocaleString('en')}` : undefined;
  const subRate: Value = { value: rate(received, first, last), ...(incomplete ? { incomplete } : {}) };
  if (plan.qos === 1) {
    const qos1 = subResults.reduce((sum, r) => sum + ((r['qos1'] as number | undefined) ?? 0), 0);
    if (qos1 < received) throw new RunFailure('error', `invalid: ${received - qos1} deliveries were not QoS1`);
    const pr = expectType((await collect([pub], Date.now() + GRACE_MS))[0]!, 'result', 'publisher') as Record<string, number>;
    const acked = pr['acked']!;
    values['W6.pub'] = { value: rate(acked, pr['first']!, pr['last']!),
      ...(acked < plan.count ? { incomplete: `acked ${acked.toLocaleString('en')}/${plan.count.toLocaleString('en')}`
        + (pr['failed']! > 0 ? `, ${pr['failed']!.toLocaleString('en')} failed` : '') } : {}) };
    values['W6.sub'] = subRate;
  } else {
    values[w.id] = subRate;
  }
  if (w.id === 'W2') {
    const rss = peakRssMiB(run.brokerPid);
    if (rss !== undefined) values['W7'] = { value: rss, ...brokerCpuNote(run.brokerPid) };
  }
  return values;
}

async function rpc(run: RunContext, system: System, w: Workload & { plan: { kind: 'rpc' } }): Promise<Record<string, Value>> {
  const { plan } = w;
  const port = await system.startBroker(run);
  const url = system.url(port);
  const server = run.spawn(system.clientScript, ['--mode', 'rpc-server', '--url', url], { profile: true });
  expectType(await server.next('ready'), 'ready', 'rpc server');
  const caller = run.spawn(system.clientScript, ['--mode', 'rpc-caller', '--url', system.pubUrl?.(port) ?? url, '--count', String(plan.count),
    '--concurrency', String(plan.concurrency), '--warmup', String(plan.warmup)], { profile: true });
  expectType(await caller.next('ready'), 'ready', 'rpc caller');
  caller.send({ type: 'go' });
  const [msg] = await collect([caller], Date.now() + w.limitMs);
  const r = expectType(msg!, 'result', 'rpc caller') as Record<string, number>;
  if (r['errors']! > 0) throw new RunFailure('error', `${r['errors']} failed calls`);
  const values: Record<string, Value> = { [w.id]: { value: rate(r['calls']!, r['first']!, r['last']!) } };
  if (w.id === 'W4') {
    values['W4.p50'] = { value: r['p50us']! };
    values['W4.p99'] = { value: r['p99us']! };
  }
  return values;
}

/** The rembus broker with the telemetry schema and a fresh `dataDir` (removed by `run.close()`). */
function schemaBrokerArgs(run: RunContext): string[] {
  return ['--data-dir', run.tempDir('bench-rembus-schema-'), '--schema', 'telemetry'];
}

/**
 * W8/W8b: one publisher, the broker times the ingest from the first publish to the last row
 * persisted. W8b publishes DataFrames of `frameRows` rows, `FRAME_CHUNK` per event-loop turn.
 */
async function ingest(run: RunContext, system: System, w: Workload & { plan: { kind: 'ingest' } }): Promise<Record<string, Value>> {
  const { plan } = w;
  const rows = plan.count * (plan.frameRows ?? 1);
  const brokerRole = run.spawn('rembus-broker.ts', [...schemaBrokerArgs(run), '--ingest', String(rows)],
    { profile: true, broker: true });
  const ready = expectType(await brokerRole.next('ready', 'na'), 'ready', 'broker') as { port?: number };
  const url = system.url(ready.port!);
  const payload = plan.frameRows === undefined ? ['--chunk', String(CHUNK), '--payload', 'schema']
    : ['--chunk', String(FRAME_CHUNK), '--payload', 'frame', '--frame-rows', String(plan.frameRows)];
  const pub = run.spawn(system.clientScript, ['--mode', 'pub', '--url', url, '--count', String(plan.count),
    '--topics', 'schema', ...payload], { profile: true });
  expectType(await pub.next('ready', 'na'), 'ready', 'publisher');
  pub.send({ type: 'go' });
  const [msg] = await collect([brokerRole], Date.now() + w.limitMs);
  const r = expectType(msg!, 'result', 'broker') as Record<string, number>;
  const persisted = r['persisted']!;
  const problems = [
    persisted < rows ? `persisted ${persisted.toLocaleString('en')}/${rows.toLocaleString('en')}` : '',
    r['rejected']! > 0 ? `${r['rejected']!.toLocaleString('en')} rejected` : '',
    r['dropped']! > 0 ? `${r['dropped']!.toLocaleString('en')} dropped` : '',
  ].filter((x) => x !== '').join(', ');
  const cpu = r['cpuUs'] === undefined || persisted === 0 ? {} : { [`${w.id}.cpu`]: { value: r['cpuUs'] / persisted } };
  return { [w.id]: { value: rate(persisted, r['first']!, r['last']!), ...(problems === '' ? {} : { incomplete: problems }),
    note: `${r['batches']!.toLocaleString('en')} batches` }, ...cpu };
}

/**
 * W9: the W1 workload (on one schema-matched topic, schema payload) against three brokers one
 * after the other in the same run — in memory, durable (dataDir), durable with the schema — in
 * an order that rotates between runs. Reports the three rates and two ratios: with ÷ in memory
 * (the whole cost of persistence, the bar) and with ÷ durable (the schema stage alone).
 */
async function liveSchema(run: RunContext, system: System, w: Workload & { plan: { kind: 'live-schema' } },
  runIndex: number): Promise<Record<string, Value>> {
  const live = { ...w, plan: { kind: 'pubsub', subscribers: 1, count: w.plan.count, topics: 1, qos: 0,
    topic: W9_TOPIC, payload: 'schema' } } as Workload & { plan: { kind: 'pubsub' } };
  const order: ('without' | 'durable' | 'with')[] = ['without', 'durable', 'with'];
  const phases = [...order.slice(runIndex % 3), ...order.slice(0, runIndex % 3)];
  const values: Record<string, Value> = {};
  for (const phase of phases) {
    let brokerRole: Role | undefined;
    const start = async (ctx: RunContext): Promise<number> => {
      const args = phase === 'with' ? schemaBrokerArgs(ctx)
        : phase === 'durable' ? ['--data-dir', ctx.tempDir('bench-rembus-durable-')] : [];
      brokerRole = ctx.spawn('rembus-broker.ts', args, { profile: true, broker: true });
      return (expectType(await brokerRole.next('ready', 'na'), 'ready', 'broker') as { port?: number }).port!;
    };
    const v = (await pubsub(run, system, live, start))[w.id]!;
    if (phase === 'with' && brokerRole !== undefined) {
      brokerRole.send({ type: 'stats' });
      const [msg] = await collect([brokerRole], Date.now() + GRACE_MS);
      const r = expectType(msg!, 'result', 'broker') as Record<string, number>;
      v.note = `${r['persisted']!.toLocaleString('en')} rows persisted at the end`
        + (r['rejected']! + r['dropped']! > 0 ? `, ${r['rejected']!.toLocaleString('en')} rejected, ${r['dropped']!.toLocaleString('en')} dropped` : '');
    }
    values[`W9.${phase}`] = v;
    await run.close(); // stop this phase's processes before the next broker starts
  }
  const ratio = (over: Value, under: Value): Value => {
    const incomplete = [over.incomplete, under.incomplete].filter((x) => x !== undefined).join('; ');
    return { value: under.value > 0 ? over.value / under.value : 0, ...(incomplete === '' ? {} : { incomplete }) };
  };
  values['W9.ratio'] = ratio(values['W9.with']!, values['W9.without']!);
  values['W9.schemaRatio'] = ratio(values['W9.with']!, values['W9.durable']!);
  values['W9.logRatio'] = ratio(values['W9.durable']!, values['W9.without']!);
  return values;
}

/** A rembus broker for one durable phase (`mem`: in memory). */
function phaseBroker(phase: DurablePhase): (ctx: RunContext) => Promise<number> {
  return async (ctx) => {
    const args = phase === 'mem' ? [] : ['--data-dir', ctx.tempDir('bench-rembus-durable-'), '--fsync', phase];
    const role = ctx.spawn('rembus-broker.ts', args, { profile: true, broker: true });
    return (expectType(await role.next('ready', 'na'), 'ready', 'broker') as { port?: number }).port!;
  };
}

/** Phases in an order that rotates between runs. */
function rotated<T>(xs: readonly T[], runIndex: number): T[] {
  return [...xs.slice(runIndex % xs.length), ...xs.slice(0, runIndex % xs.length)];
}

function perRunRatio(over: Value | undefined, under: Value | undefined): Value {
  if (over === undefined || under === undefined) return { value: 0, incomplete: 'missing phase' };
  const incomplete = [over.incomplete, under.incomplete].filter((x) => x !== undefined).join('; ');
  return { value: under.value > 0 ? over.value / under.value : 0, ...(incomplete === '' ? {} : { incomplete }) };
}

/** W10: QoS1 then QoS2, each publish awaited, against one broker. */
async function awaitedRun(run: RunContext, system: System, w: Workload & { plan: { kind: 'awaited' } },
  startBroker: (run: RunContext) => Promise<number>, prefix: string): Promise<Record<string, Value>> {
  if (!system.qos1) throw new RunFailure('na', 'n/a (no per-message ack)');
  const port = await startBroker(run);
  const values: Record<string, Value> = {};
  for (const qos of [1, 2]) {
    const pub = run.spawn(system.clientScript, ['--mode', 'awaited', '--url', system.url(port), '--count', String(w.plan.count),
      '--warmup', String(w.plan.warmup), '--qos', String(qos)], { profile: true });
    expectType(await pub.next('ready', 'na'), 'ready', 'awaited publisher');
    pub.send({ type: 'go' });
    const [msg] = await collect([pub], Date.now() + w.limitMs);
    const r = expectType(msg!, 'result', 'awaited publisher') as Record<string, number>;
    if (r['errors']! > 0) throw new RunFailure('error', `${r['errors']} publishes failed`);
    const incomplete = r['calls']! < w.plan.count ? { incomplete: `${r['calls']!.toLocaleString('en')}/${w.plan.count.toLocaleString('en')} within the limit` } : {};
    values[`${prefix}.q${qos}`] = { value: rate(r['calls']!, r['first']!, r['last']!), ...incomplete };
    values[`${prefix}.q${qos}.p50`] = { value: r['p50us']!, ...incomplete };
  }
  return values;
}

async function durableVariants(run: RunContext, system: System, w: Workload, runIndex: number): Promise<Record<string, Value>> {
  const values: Record<string, Value> = {};
  for (const phase of rotated(DURABLE_PHASES, runIndex)) {
    if (w.plan.kind === 'awaited') {
      Object.assign(values, await awaitedRun(run, system, w as Workload & { plan: { kind: 'awaited' } }, phaseBroker(phase), `W10d.${phase}`));
    } else {
      const w6 = { ...w, id: 'W6', plan: { kind: 'pubsub', subscribers: 1, count: (w.plan as { count: number }).count, topics: 1, qos: 1 } } as
        Workload & { plan: { kind: 'pubsub' } };
      values[`W6d.${phase}`] = (await pubsub(run, system, w6, phaseBroker(phase)))['W6.pub']!;
    }
    await run.close();
  }
  if (w.plan.kind === 'awaited') values['W10d.ratio'] = perRunRatio(values['W10d.off.q1'], values['W10d.mem.q1']);
  else values['W6d.ratio'] = perRunRatio(values['W6d.off'], values['W6d.mem']);
  return values;
}

/**
 * W11: pair A (1 → 1 on `bench/a`) and pair B (1 → 2 on `bench/b`) at once, against a broker
 * without other clients and against one with an anonymous `**` subscriber that stops reading
 * when the publishers start (`slow-reader.ts`), one broker after the other in an order that
 * alternates between runs. Reports both rates of each pair, their ratios, when the broker cut
 * the slow reader (its `--watch-slow` clock ÷ the reader's pause time) and the broker's VmHWM.
 */
async function isolation(run: RunContext, system: System, w: Workload & { plan: { kind: 'isolation' } },
  runIndex: number): Promise<Record<string, Value>> {
  const { countA, countB } = w.plan;
  const phases: ('without' | 'with')[] = runIndex % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
  const values: Record<string, Value> = {};
  for (const phase of phases) {
    const brokerRole = run.spawn('rembus-broker.ts', ['--watch-slow'], { profile: true, broker: true });
    const url = system.url((expectType(await brokerRole.next('ready', 'na'), 'ready', 'broker') as { port?: number }).port!);
    const slow = phase === 'with' ? run.spawn('slow-reader.ts', ['--url', url, '--pattern', '**']) : undefined;
    const sub = (topic: string, count: number): Role => run.spawn(system.clientScript,
      ['--mode', 'sub', '--url', url, '--pattern', topic, '--expect', String(count), '--qos', '0'], { profile: true });
    const pub = (topic: string, count: number): Role => run.spawn(system.clientScript, ['--mode', 'pub', '--url', url,
      '--count', String(count), '--chunk', String(CHUNK), '--qos', '0', '--topic', topic], { profile: true });
    const subA = sub('bench/a', countA);
    const subsB = [sub('bench/b', countB), sub('bench/b', countB)];
    const pubs = [pub('bench/a', countA), pub('bench/b', countB)];
    for (const role of [...(slow === undefined ? [] : [slow]), subA, ...subsB, ...pubs]) {
      expectType(await role.next('ready', 'na'), 'ready', role.name);
    }
    slow?.send({ type: 'go' }); // it stops reading before the first publish
    for (const p of pubs) p.send({ type: 'go' });
    const results = (await collect([subA, ...subsB], Date.now() + w.limitMs))
      .map((m) => expectType(m, 'result', 'subscriber') as Record<string, number>);
    const summary = (rs: Record<string, number>[], expected: number): Value => {
      const received = rs.reduce((sum, r) => sum + r['received']!, 0);
      const v = rate(received, Math.min(...rs.map((r) => r['first']!)), Math.max(...rs.map((r) => r['last']!)));
      return { value: v, ...(received < expected ? { incomplete: `received ${received.toLocaleString('en')}/${expected.toLocaleString('en')}` } : {}) };
    };
    values[`W11.a.${phase}`] = summary(results.slice(0, 1), countA);
    values[`W11.b.${phase}`] = summary(results.slice(1), 2 * countB);
    if (slow !== undefined) {
      let broker: Record<string, number> = {};
      const waitUntil = Date.now() + CUT_WAIT_MS;
      for (;;) {
        brokerRole.send({ type: 'stats' });
        broker = expectType((await collect([brokerRole], Date.now() + GRACE_MS))[0]!, 'result', 'broker') as Record<string, number>;
        if (broker['cutAt']! > 0 || Date.now() >= waitUntil) break;
        await sleep(100);
      }
      slow.send({ type: 'stop' });
      const reader = expectType((await collect([slow], Date.now() + GRACE_MS))[0]!, 'result', 'slow reader') as Record<string, number>;
      values['W11.cut'] = broker['cutAt']! > 0 ? { value: (broker['cutAt']! - reader['pausedAt']!) / 1000,
        note: `first link behind after ${((broker['behindAt']! - reader['pausedAt']!) / 1000).toFixed(2)} s, `
          + `${(broker['cutBuffered']! / 1048576).toFixed(1)} MiB held for it when cut` }
        : { value: (Date.now() - reader['pausedAt']!) / 1000, incomplete: 'not cut' };
    }
    const rss = peakRssMiB(run.brokerPid);
    if (rss !== undefined) values[`W11.rss.${phase}`] = { value: rss };
    await run.close(); // stop this phase's processes before the next broker starts
  }
  const ratio = (over: Value, under: Value): Value => {
    const incomplete = [over.incomplete, under.incomplete].filter((x) => x !== undefined).join('; ');
    return { value: under.value > 0 ? over.value / under.value : 0, ...(incomplete === '' ? {} : { incomplete }) };
  };
  values['W11.a'] = ratio(values['W11.a.with']!, values['W11.a.without']!);
  values['W11.b'] = ratio(values['W11.b.with']!, values['W11.b.without']!);
  return values;
}

async function runOnce(w: Workload, system: System, runIndex: number): Promise<RunResult> {
  const run = new RunContext(`${w.id}-r${runIndex + 1}-${system.name}`, CPU_PROF !== undefined);
  const hardMs = (w.phases ?? 1) * (SETUP_MS + w.limitMs + GRACE_MS) + GRACE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hard = new Promise<RunResult>((done) => {
    timer = setTimeout(() => {
      run.killAll();
      done({ status: 'timeout', message: `hard limit ${Math.round(hardMs / 1000)} s` });
    }, hardMs);
  });
  const body = (async (): Promise<RunResult> => {
    try {
      const values = w.plan.kind === 'rpc' ? await rpc(run, system, w as Workload & { plan: { kind: 'rpc' } })
        : w.plan.kind === 'ingest' ? await ingest(run, system, w as Workload & { plan: { kind: 'ingest' } })
        : w.plan.kind === 'live-schema' ? await liveSchema(run, system, w as Workload & { plan: { kind: 'live-schema' } }, runIndex)
        : w.plan.kind === 'qos1-durable' || (w.plan.kind === 'awaited' && w.plan.durable === true) ? await durableVariants(run, system, w, runIndex)
        : w.plan.kind === 'awaited' ? await awaitedRun(run, system, w as Workload & { plan: { kind: 'awaited' } }, system.startBroker, 'W10')
        : w.plan.kind === 'isolation' ? await isolation(run, system, w as Workload & { plan: { kind: 'isolation' } }, runIndex)
        : await pubsub(run, system, w as Workload & { plan: { kind: 'pubsub' } });
      return { status: 'ok', values };
    } catch (err) {
      if (err instanceof RunFailure) return { status: err.status, message: err.message };
      return { status: 'error', message: err instanceof Error ? err.message : String(err) };
    }
  })();
  const result = await Promise.race([body, hard]);
  clearTimeout(timer);
  await run.close();
  return result;
}

// ---- statistics and report ----------------------------------------------------------------

interface Cell { values: number[]; incomplete: string[]; failures: string[] }

const results = new Map<string, Cell>(); // `${metric}|${system}`
const cell = (metric: string, system: string): Cell => {
  const key = `${metric}|${system}`;
  let c = results.get(key);
  if (c === undefined) results.set(key, (c = { values: [], incomplete: [], failures: [] }));
  return c;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmt(x: number, unit: string): string {
  if (unit === '×') return `${x.toFixed(2)}×`;
  if (unit === 'MiB') return x.toFixed(0);
  if (unit === 'µs') return x < 20 ? x.toFixed(2) : x.toFixed(0); // a row's CPU (W8) is a few µs
  if (unit === 's') return x.toFixed(2);
  return Math.round(x).toLocaleString('en');
}

/** How many times better rembus is than `peer` on `metric` (> 1: rembus better). */
function ratio(metric: Metric, peer: string): number | undefined {
  const a = cell(metric.key, rembus.name);
  const b = cell(metric.key, peer);
  if (a.values.length === 0 || b.values.length === 0) return undefined;
  const ra = median(a.values);
  const rb = median(b.values);
  if (ra === 0 || rb === 0) return undefined;
  return metric.higherIsBetter ? ra / rb : rb / ra;
}

function describe(c: Cell, unit: string): { median: string; range: string } {
  if (c.values.length === 0) {
    const reason = c.failures[0] ?? 'not run';
    return { median: reason.startsWith('n/a') ? reason : reason.split('\n')[0]!.slice(0, 60), range: '' };
  }
  const mark = c.incomplete.length > 0 ? ' *' : '';
  const failed = c.failures.length > 0 ? ` (${c.failures.length} run${c.failures.length > 1 ? 's' : ''} failed †)` : '';
  return {
    median: `${fmt(median(c.values), unit)}${mark}${failed}`,
    range: `${fmt(Math.min(...c.values), unit)}–${fmt(Math.max(...c.values), unit)} (n=${c.values.length})`,
  };
}

/** A bar against a peer (`peer`: rembus ÷ peer ≥ `min`), or against the metric's own `target`. */
type Bar = { text: string; metric: string; peer: string; min: number } | { text: string; metric: string; target: true };
const BARS: Bar[] = [
  { text: 'W1 ≥ 1.5× Aedes', metric: 'W1', peer: 'aedes', min: 1.5 },
  { text: 'W2 ≥ 1.5× Aedes', metric: 'W2', peer: 'aedes', min: 1.5 },
  { text: 'W3 ≥ 1.5× Aedes', metric: 'W3', peer: 'aedes', min: 1.5 },
  { text: 'W1 ≥ 1.0× raw relay', metric: 'W1', peer: 'relay', min: 1.0 },
  { text: 'W4 p50 ≤ Aedes', metric: 'W4.p50', peer: 'aedes', min: 1.0 },
  { text: 'W5 ≥ Aedes', metric: 'W5', peer: 'aedes', min: 1.0 },
  { text: 'W6 (acked at publisher) ≥ Aedes', metric: 'W6.pub', peer: 'aedes', min: 1.0 },
  { text: 'W6 (received at subscriber) ≥ Aedes', metric: 'W6.sub', peer: 'aedes', min: 1.0 },
  { text: 'W7 ≤ Aedes', metric: 'W7', peer: 'aedes', min: 1.0 },
  { text: `W8 schema ingest ≥ ${W8_TARGET.toLocaleString('en')} rows/s (one row per publish, see notes)`, metric: 'W8', target: true },
  { text: `W8b schema ingest of DataFrames ≥ ${W8B_TARGET.toLocaleString('en')} rows/s`, metric: 'W8b', target: true },
  { text: `W9 live 1→1 with persistence (durable log and schema) ≥ ${LIVE_RATIO_TARGET}× in memory (median of per-run ratios)`,
    metric: 'W9.ratio', target: true },
  { text: `W11 unrelated pair with a stalled \`**\` reader ≥ ${ISOLATION_TARGET}× its rate without (median of per-run ratios)`,
    metric: 'W11.a', target: true },
  { text: `W11 the publisher's fast subscribers with a stalled \`**\` reader ≥ ${FAST_READERS_TARGET}× their rate without`,
    metric: 'W11.b', target: true },
  { text: 'W10 awaited QoS1 durable (fsync off) ≥ 0.5× in memory (median of per-run ratios)', metric: 'W10d.ratio', target: true },
  { text: 'W6 durable (fsync off) ≥ 0.8× in memory (median of per-run ratios)', metric: 'W6d.ratio', target: true },
  { text: 'W9 durable log alone ≥ 0.9× in memory (median of per-run ratios)', metric: 'W9.logRatio', target: true },
];

/** Median of rembus's values of `metric`, or undefined when it has none. */
function rembusMedian(metric: Metric): number | undefined {
  return rembusMedianOf(metric.key);
}

function rembusMedianOf(key: string): number | undefined {
  const c = cell(key, rembus.name);
  return c.values.length === 0 ? undefined : median(c.values);
}

function report(): string {
  const metrics = SELECTED.flatMap((w) => w.metrics);
  const lines: string[] = [];
  const payload = new Encoder({ useRecords: false }).encode(telemetry(123)).length;
  lines.push(`## rembus benchmark${QUICK ? ' (quick: counts ÷ 10)' : ''}`, '');
  lines.push(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; `
    + `${new Date().toISOString()}. ${RUNS} run(s) per cell, median and min–max. Payload \`{dn, temperature, pressure, ts}\` = ${payload} bytes as CBOR; `
    + `publishers write ${CHUNK} messages per event-loop turn then yield (\`setImmediate\`), the same for every system.`, '');
  lines.push('Ratio columns: how many times better rembus is than that peer (rembus ÷ peer for rates, peer ÷ rembus for latency and memory; > 1 means rembus is better).', '');
  const withTarget = metrics.some((m) => m.target !== undefined);
  if (withTarget) {
    lines.push(`"vs target" column: rembus median ÷ target (W8: rows/s ÷ ${W8_TARGET.toLocaleString('en')}; W8b: rows/s ÷ `
      + `${W8B_TARGET.toLocaleString('en')}; W9: (with ÷ in memory) ÷ ${LIVE_RATIO_TARGET}; `
      + `W11: (with ÷ without) ÷ ${ISOLATION_TARGET} for pair A, ÷ ${FAST_READERS_TARGET} for pair B; ≥ 1 meets the target). `
      + 'W8, W8b, W9 and W11 are rembus only; "broker main-thread CPU per row" is the CPU time of the broker\'s main thread '
      + '(routing, the message log and the schema stage; not DuckDB\'s own threads) over the ingest ÷ rows: what a row costs '
      + 'the thread that bounds the rate, less sensitive to a shared machine\'s load than the rate itself.', '');
  }
  const cols = [...PEERS.map((p) => `vs ${p.name}`), ...(withTarget ? ['vs target'] : [])];
  lines.push(`| workload | unit | system | median | min–max | ${cols.join(' | ')} |`);
  lines.push(`|---|---|---|---:|---|${cols.map(() => '---:').join('|')}|`);
  for (const m of metrics) {
    const rembusOnly = SELECTED.some((w) => w.rembusOnly === true && w.metrics.includes(m));
    for (const s of SYSTEMS) {
      if (rembusOnly && s !== rembus) continue;
      const c = cell(m.key, s.name);
      const d = describe(c, m.unit);
      const ratios = PEERS.map((p) => {
        if (s !== rembus || rembusOnly) return '';
        const r = ratio(m, p.name);
        return r === undefined ? '—' : `${r.toFixed(2)}×`;
      });
      if (withTarget) {
        const med = rembusMedian(m);
        ratios.push(m.target === undefined || s !== rembus ? '' : med === undefined ? '—' : `${(med / m.target).toFixed(2)}×`);
      }
      lines.push(`| ${m.label} | ${m.unit} | ${s.name} | ${d.median} | ${d.range} | ${ratios.join(' | ')} |`);
    }
  }
  const incomplete = [...results.entries()].filter(([, c]) => c.incomplete.length > 0);
  if (incomplete.length > 0) {
    lines.push('', '\\* incomplete (time limit reached, rate = received / elapsed): '
      + incomplete.map(([k, c]) => `${k.replace('|', ' ')}: ${c.incomplete.join('; ')}`).join('; '));
  }
  const failedCells = [...results.entries()].filter(([, c]) => c.values.length > 0 && c.failures.length > 0);
  if (failedCells.length > 0) {
    lines.push('', '† failed runs (left out of the median): ' + failedCells
      .map(([k, c]) => `${k.replace('|', ' ')}: ${c.failures.map((f) => f.replace(/\s+/g, ' ').slice(0, 160)).join('; ')}`).join('; '));
  }
  lines.push('', '### Bar', '');
  lines.push('| criterion | rembus ÷ peer (better-is->1) | verdict |', '|---|---:|---|');
  for (const bar of BARS) {
    const m = metrics.find((x) => x.key === bar.metric);
    if (m === undefined) continue;
    if ('target' in bar) {
      if (!SYSTEMS.includes(rembus) || m.target === undefined) continue;
      const med = rembusMedian(m);
      const verdict = med === undefined ? 'n/a' : med >= m.target ? 'pass' : 'FAIL';
      const shown = med === undefined ? '—' : m.unit === '×' ? `${med.toFixed(2)}× (target ${m.target}×)`
        : `${fmt(med, m.unit)} ${m.unit} = ${(med / m.target).toFixed(2)}× target`;
      lines.push(`| ${bar.text} | ${shown} | ${verdict} |`);
      continue;
    }
    if (!PEERS.some((p) => p.name === bar.peer)) continue;
    const r = ratio(m, bar.peer);
    const verdict = r === undefined ? 'n/a' : r >= bar.min ? 'pass' : 'FAIL';
    lines.push(`| ${bar.text} | ${r === undefined ? '—' : `${r.toFixed(2)}×`} | ${verdict} |`);
  }
  lines.push('', '### Notes', '');
  for (const w of SELECTED) lines.push(`- ${w.id}: ${w.title}; time limit ${w.limitMs / 1000} s per run.`);
  const w8 = rembusMedianOf('W8');
  const live = rembusMedianOf('W9.without') ?? rembusMedianOf('W1');
  if (w8 !== undefined && live !== undefined) {
    lines.push(`- W8 ingest (one row per publish) = ${(w8 / live).toFixed(2)}× the live 1→1 rate in memory of this run `
      + `(${rembusMedianOf('W9.without') === undefined ? 'W1' : 'W9 in memory'}, median ${fmt(live, 'msgs/s')} msgs/s), the most `
      + 'one publisher puts on the wire: near 1× storage keeps up with the wire; below, each publish\'s persistence (a log row '
      + 'and a table row, see W9) is the bound. W8b measures the stage with many rows per publish.');
  }
  if (SELECTED.some((w) => w.id === 'W8' || w.id === 'W8b' || w.id === 'W9')) {
    lines.push('- W8/W8b/W9 schema: table `telemetry` on `:site/:dn/telemetry` (site, dn TEXT; temperature, pressure DOUBLE; ts UBIGINT), '
      + 'payload `{temperature, pressure, ts}`; the broker gets a fresh `dataDir` under the OS temp dir (removed after the run), '
      + 'so its message log is in LMDB (`broker.lmdb`) and the tables in DuckDB (`broker.duckdb`). W8 and W8b are timed inside the broker process (stats().schema polled every 10 ms). '
      + `W8b: each publish is a polars DataFrame of ${FRAME_ROWS.toLocaleString('en')} rows with every column (site, dn, temperature, `
      + `pressure, ts), ${FRAME_CHUNK} publishes per event-loop turn; one log row per publish, ${FRAME_ROWS.toLocaleString('en')} table rows.`);
  }
  lines.push('- W3 patterns: rembus `*/*/*/telemetry`, MQTT `+/+/+/telemetry`; the relay does no matching.');
  lines.push('- W7: VmHWM of the broker process at the end of each W2 run (every role runs compiled, under plain `node`).');
  lines.push('- MQTT RPC: MQTT 3.1.1 request topic + per-caller reply topic, correlation id in a CBOR envelope (Aedes has no MQTT 5).');
  for (const note of notes) lines.push(`- ${note}`);
  return lines.join('\n');
}

// ---- main ---------------------------------------------------------------------------------

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  progress(`systems: ${SYSTEMS.map((s) => s.name).join(', ')}; workloads: ${SELECTED.map((w) => w.id).join(', ')}; runs: ${RUNS}${QUICK ? ' (quick)' : ''}`);
  for (const w of SELECTED) {
    const skip = new Set<string>();
    for (let r = 0; r < RUNS; r++) {
      // Rotate the order of systems between runs so that slow drifts of a shared box hit all.
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + r) % SYSTEMS.length]!);
      for (const s of order) {
        if (skip.has(s.name) || (w.rembusOnly === true && s !== rembus)) continue;
        const t0 = Date.now();
        const result = await runOnce(w, s, r);
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        if (result.status === 'ok') {
          for (const [key, v] of Object.entries(result.values)) {
            const c = cell(key, s.name);
            c.values.push(v.value);
            if (v.incomplete !== undefined) c.incomplete.push(v.incomplete);
          }
          progress(`${w.id} run ${r + 1}/${RUNS} ${s.name}: ${Object.entries(result.values)
            .map(([k, v]) => `${k}=${v.value < 10 ? v.value.toFixed(3) : Math.round(v.value).toLocaleString('en')}`
              + `${v.incomplete ? ` (${v.incomplete})` : ''}${v.note ? ` [${v.note}]` : ''}`).join(' ')} [${secs} s]`);
        } else {
          const message = result.status === 'timeout' ? `timeout (${result.message})` : result.message;
          for (const m of w.metrics) cell(m.key, s.name).failures.push(message);
          progress(`${w.id} run ${r + 1}/${RUNS} ${s.name}: ${result.status}: ${message.split('\n').slice(0, 6).join(' | ')} [${secs} s]`);
          if (result.status === 'na') skip.add(s.name);
        }
      }
    }
  }
  const text = report();
  process.stdout.write(`${text}\n`);
  if (OUT !== undefined) writeFileSync(OUT, `${text}\n`);
  progress(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
