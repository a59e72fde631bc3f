/**
 * The broker's per-message CPU in one process, without sockets (issue 20): a real `broker()`
 * (metering on, as in the bench) is handed two in-memory links, a subscriber's and a
 * publisher's; the publisher's frames are the bytes a component sends for W1 (one topic) or W3
 * (1,000 topics, a `*∕*∕*∕telemetry` subscriber), laid out one after another in 64 KiB chunks
 * as a WebSocket reader hands them over (Buffer views of one chunk). What the subscriber is
 * sent is counted, not decoded. The figure is the process's CPU (`process.cpuUsage`) per message
 * from the first frame fed to the last delivery, less the making of the frames (copies of 1,000
 * encoded ones, timed apart, 500 at a time, so that they die young as a socket's do); steady enough for
 * `valgrind --tool=callgrind` instruction counts of two builds.
 *
 * Usage (after `tsc -p tsconfig.bench.json`):
 * `node dist/bench/broker-inproc.js [--workload W1|W3] [--count 200000] [--runs 3] [--warmup N] [--dist DIR]`
 * (`--warmup`: messages before the measured runs, default `--count`)
 * `--dist`: the `dist` directory of the build to measure (default this one).
 * `--stats-interval MS`: the broker's stats topic interval (default 1000, as deployed); 0 for
 * callgrind, where the run lasts 50× longer and the snapshot made every second of wall time
 * (1,000 topics in W3) would be counted into every message.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuPerFed, num, parseArgs, str, telemetry, w3Topic } from './common.js';

const args = parseArgs();
const workload = str(args, 'workload', 'W1');
const count = num(args, 'count', 200_000);
const runs = num(args, 'runs', 3);
const warmup = num(args, 'warmup', count);
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..')));
const load = (path: string): Promise<Record<string, any>> => import(pathToFileURL(join(dist, 'src', path)).href);

const { broker } = await load('broker/index.js');
const { memoryLinkPair } = await load('transport/memory-link.js');
const { encodeCbor } = await load('codec/cbor.js');

const BATCH = 500;
const topicOf = workload === 'W3' ? w3Topic : (): string => 'bench/telemetry';

/** 1,000 distinct frames (topics and payloads), encoded once. */
const templates = Array.from({ length: 1000 }, (_, i) =>
  encodeCbor({ type: 'pub', flags: 0, topic: topicOf(i), args: [telemetry(i)] }) as Uint8Array);

/** Frames `from`..`from + n`: copies of the templates, as views of 64 KiB chunks. */

const statsInterval = num(args, 'stats-interval', 1000);
const b = await broker({ port: 0, host: '127.0.0.1', http: { statsInterval } });
const [subSide, subBroker] = memoryLinkPair(['sub', 'broker:sub']);
const [pubSide, pubBroker] = memoryLinkPair(['pub', 'broker:pub']);
let received = 0;
let answered = false;
subSide.frames$.subscribe((f: Uint8Array) => { if (received === 0 && !answered) answered = true; else received++; });
b.handle(subBroker);
b.handle(pubBroker);
const pattern = workload === 'W3' ? '*/*/*/telemetry' : 'bench/telemetry';
subSide.send(encodeCbor({ type: 'admin', id: 1n, topic: pattern, cmd: { cmd: 'subscribe', msg_from: 0, ts_pub_opts: true } }));
await new Promise((r) => setTimeout(r, 50));
if (!answered) throw new Error('no answer to subscribe');


/** CPU per message spent by everything but the making of the frames (timed apart, batch by batch). */
function once(from: number, n = count): Promise<number> {
  return cpuPerFed(templates, (f) => pubSide.send(f), () => received, from, n, BATCH);
}

await once(0, warmup); // warm-up
const results: number[] = [];
for (let r = 0; r < runs; r++) {
  const us = await once((r + 1) * count);
  results.push(us);
  console.log(`run ${r + 1}: broker ${us.toFixed(2)} µs/msg`);
}
results.sort((x, y) => x - y);
console.log(`${workload} median broker ${results[results.length >> 1]!.toFixed(2)} µs CPU/msg (${dist})`);
await b.close();
process.exit(0);
