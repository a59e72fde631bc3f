/**
 * In-process micro-benchmark of the component's PUB delivery decode (issue 20): W1 frames
 * (`[1, 'bench/telemetry', [telemetry]]`) and W3 wildcard deliveries (`[1, pattern, [topic,
 * telemetry]]`) as Node `Buffer`s, as a `ws` link hands them over, read by one link's
 * `PubFrameReader`. Reports CPU ns per frame (median of rounds), so it can be compared across
 * builds under load; also a fixed-iteration loop for `valgrind --tool=callgrind`.
 *
 * Usage: `npx tsx bench/pub-decode-micro.ts [--frames 200000] [--rounds 5] [--workload W1|W3]`
 */
import { encodeCbor } from '../src/codec/cbor.js';
import { PubFrameReader } from '../src/codec/pub-frame.js';
import { telemetry, w3Topic } from './common.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const FRAMES = Number(arg('frames', '200000'));
const ROUNDS = Number(arg('rounds', '5'));
const WORKLOAD = arg('workload', 'W1');

// 1,000 distinct frames (every W1 payload has its own dn, floats and ts), as Buffers.
const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(encodeCbor(WORKLOAD === 'W3'
  ? { type: 'pub', flags: 0, topic: '*/*/*/telemetry', args: [w3Topic(i), telemetry(i)] }
  : { type: 'pub', flags: 0, topic: 'bench/telemetry', args: [telemetry(i)] })));

const reader = new PubFrameReader();
let sink = 0;
function round(n: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const msg = reader.read(frames[i % 1000]!);
    sink += msg === undefined ? 0 : msg.args.length;
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

round(50_000); // warm up
const ns = Array.from({ length: ROUNDS }, () => round(FRAMES)).sort((a, b) => a - b);
console.log(`${WORKLOAD} ${frames[0]!.length}-byte frames: median ${ns[ns.length >> 1]!.toFixed(0)} ns/frame, min ${ns[0]!.toFixed(0)} (sink ${sink})`);
