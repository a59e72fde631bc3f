/**
 * The schema stage's intake on one thread, without DuckDB: W8's publishes (telemetry topics and
 * payloads, PUB frames read in place) through `collectRows` into column batches, to measure the
 * per-row cost of matching and mapping (`bench/w8-inproc.ts` measures the whole broker).
 *
 * Usage: `npx tsc -p tsconfig.bench.json && node dist/bench/schema-map-micro.js [--rows 1000000] [--runs 5]
 * [--topics 100] [--frames own|chunk]`; prints ns per row (thread CPU) per run and their median.
 * `--topics 1 --frames chunk` is W9's intake: one topic, frames read in place from shared socket
 * chunks as the broker's WebSocket reader hands them (default: W8's 100 topics, a buffer per frame).
 */
import { Subject } from 'rxjs';
import { encodeCbor } from '../src/codec/index.js';
import { decodeLazyPub } from '../src/codec/lazy-pub.js';
import { publishedOf } from '../src/broker/published.js';
import { collectRows } from '../src/schema/collect-rows.js';
import { parseSchema } from '../src/schema/parse.js';
import type { Published } from '../src/schema/types.js';
import { num, parseArgs, schemaTelemetry, schemaTopic, TELEMETRY_SCHEMA } from './common.js';

const args = parseArgs(process.argv.slice(2));
const N = num(args, 'rows', 1_000_000);
const RUNS = num(args, 'runs', 5);
const TOPICS = num(args, 'topics', 100);
const CHUNK = args['frames'] === 'chunk';
const schema = parseSchema(TELEMETRY_SCHEMA);
const frames = Array.from({ length: 1_000 }, (_, i) =>
  new Uint8Array(encodeCbor({ type: 'pub', flags: 0, topic: schemaTopic(i % TOPICS), args: [schemaTelemetry(i)] })));
// `--frames chunk`: views into one buffer, as frames of one socket chunk are.
const chunk = Buffer.concat(frames);
let at = 0;
const pubs = frames.map((f) => {
  const frame = CHUNK ? chunk.subarray(at, at + f.length) : f;
  at += f.length;
  return decodeLazyPub(frame)!;
});
const results: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const input = new Subject<Published>();
  let rows = 0;
  const sub = input.pipe(collectRows({ schema, maxRows: 20_000, maxWait: 1e9 })).subscribe((batches) => {
    for (const b of batches) rows += b.length;
  });
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) input.next(publishedOf(pubs[i % pubs.length]!, undefined, BigInt(i), 'bench'));
  const t = process.cpuUsage(t0);
  sub.unsubscribe();
  results.push((t.user + t.system) * 1000 / N);
  if (rows < N - 20_000) throw new Error(`only ${rows} rows mapped`);
}
const sorted = [...results].sort((a, b) => a - b);
process.stdout.write(`ns/row: ${results.map((r) => r.toFixed(0)).join(' ')}; median ${sorted[Math.floor(RUNS / 2)]!.toFixed(0)}\n`);
