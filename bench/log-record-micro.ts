/**
 * Micro-benchmark of the durable log's packing (issue 14, W9): `encodeRecord` of W9's rows as
 * the broker logs them — `FrameRow`s over PUB frames that are views of one socket-sized chunk —
 * in records of 4,096, and `decodeRecord` of the result. Main-thread CPU per row, min of runs.
 *
 * Usage: `npx tsx bench/log-record-micro.ts [--rows 200000] [--repeat 15] [--topics 1|100]`
 */
import { performance } from 'node:perf_hooks';
import { encodeCbor } from '../src/codec/cbor.js';
import { decodeLazyPub } from '../src/codec/lazy-pub.js';
import { FrameRow } from '../src/store/frame-row.js';
import { decodeRecord, encodeRecord } from '../src/store/lmdb/log-record.js';
import { RECORD_ROWS } from '../src/store/lmdb/lmdb-store.js';
import { num, parseArgs, schemaTelemetry, schemaTopic } from './common.js';

const args = parseArgs();
const N = num(args, 'rows', 200_000);
const REPEAT = num(args, 'repeat', 15);
const TOPICS = num(args, 'topics', 1);

// Frames laid end to end in 64 KiB chunks, each row's frame a Buffer view of its chunk.
const rows: FrameRow[] = [];
let chunk = Buffer.allocUnsafe(65536);
let used = 0;
for (let i = 0; i < N; i++) {
  const bytes = encodeCbor({ type: 'pub', flags: 0, topic: schemaTopic(i % TOPICS), args: [schemaTelemetry(i)] });
  if (used + bytes.length > chunk.length) { chunk = Buffer.allocUnsafe(65536); used = 0; }
  chunk.set(bytes, used);
  const frame = chunk.subarray(used, used + bytes.length);
  used += bytes.length;
  const pub = decodeLazyPub(frame)!;
  rows.push(new FrameRow(1_700_000_000_000_000_000n + BigInt(i), null, 0, null, pub.topic, pub.frame, pub.textAt, pub.argsAt));
}

function best(work: () => void): number {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now();
    work();
    min = Math.min(min, performance.now() - t0);
  }
  return (min * 1e6) / N;
}

const records: Uint8Array[] = [];
const enc = best(() => {
  records.length = 0;
  for (let i = 0; i < N; i += RECORD_ROWS) records.push(encodeRecord(rows.slice(i, i + RECORD_ROWS)));
});
const dec = best(() => { for (const r of records) decodeRecord(r); });
const bytes = records.reduce((s, r) => s + r.byteLength, 0);
console.log(`encodeRecord ${enc.toFixed(0)} ns/row, decodeRecord ${dec.toFixed(0)} ns/row, ${(bytes / N).toFixed(1)} bytes/row (${N} rows, min of ${REPEAT})`);
