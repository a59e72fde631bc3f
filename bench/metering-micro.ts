/**
 * In-process micro-benchmark of issue 16's metering cost on the routing path, without sockets:
 * one publisher and `--subs` subscribers on memory links; the publisher's PUB frames go through
 * `broker.handle`'s link (decode → log → route → fan-out) synchronously. Runs alternate between
 * `http: false` (no wire meter, no stats topic) and the default (every link metered, the stats
 * topic on, `/metrics` built from a snapshot every `--scrape` ms of wall time), so both see the
 * same machine load; the report is the median and minimum CPU ns per publish of each and their ratios.
 *
 * Usage: `npx tsx bench/metering-micro.ts [--msgs 200000] [--subs 1] [--rounds 5]`
 */
import { broker } from '../src/broker/index.js';
import { encodeCbor } from '../src/codec/cbor.js';
import { newMsgId } from '../src/codec/msgid.js';
import { memoryLinkPair } from '../src/transport/memory-link.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const MSGS = arg('msgs', 200_000);
const SUBS = arg('subs', 1);
const ROUNDS = arg('rounds', 5);

async function once(metered: boolean): Promise<number> {
  const b = await broker({ port: null, ...(metered ? { http: { statsInterval: 1_000, metrics: process.env['MICRO_METRICS'] !== 'off' } } : { http: false as const }) });
  for (let s = 0; s < SUBS; s++) {
    const [client, server] = memoryLinkPair();
    client.frames$.subscribe();
    b.handle(server);
    client.send(encodeCbor({ type: 'admin', id: newMsgId(), topic: 'bench/telemetry', cmd: { cmd: 'subscribe' } }));
  }
  const [pub, server] = memoryLinkPair();
  pub.frames$.subscribe();
  b.handle(server);
  const frame = encodeCbor({ type: 'pub', flags: 0, topic: 'bench/telemetry', args: [{ t: 21.5, id: 7, ok: true }] });
  // Warm up, then measure.
  for (let i = 0; i < 20_000; i++) pub.send(frame);
  // CPU time of this process, not wall time: on a shared box the wall clock mostly measures
  // the other processes.
  const start = process.cpuUsage();
  for (let i = 0; i < MSGS; i++) pub.send(frame);
  const used = process.cpuUsage(start);
  const ns = ((used.user + used.system) * 1e3) / MSGS;
  await b.close();
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]): number => Math.min(...xs);
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  off.push(await once(false));
  on.push(await once(true));
}
console.log(`msgs ${MSGS}, subscribers ${SUBS}, rounds ${ROUNDS}`);
console.log(`http:false  median ${median(off).toFixed(0)} ns/publish  [${off.map((x) => x.toFixed(0)).join(', ')}]`);
console.log(`metered     median ${median(on).toFixed(0)} ns/publish  [${on.map((x) => x.toFixed(0)).join(', ')}]`);
console.log(`overhead: medians ${(((median(on) / median(off)) - 1) * 100).toFixed(1)} %, minimums ${(((min(on) / min(off)) - 1) * 100).toFixed(1)} %`
  + ` (min ${min(off).toFixed(0)} vs ${min(on).toFixed(0)} ns)`);
