/**
 * Micro-benchmark behind the choice of the message log's engine (README "Durability"): the
 * latency of one awaited commit of one message (what a QoS1/2 ACK waits for) and the
 * throughput of batched commits, for each Store backend and for a bare append-only file (the
 * "segment file" option), in process, on files in the OS temp dir.
 *
 *   npx tsx bench/log-engines.ts [--commits 2000] [--rows 200000] [--batch 4096]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeValue } from '../src/codec/cbor.js';
import { openDuckDbStore } from '../src/store/duckdb/duckdb-store.js';
import { openLmdbStore } from '../src/store/lmdb/lmdb-store.js';
import type { Store, StoredMessage } from '../src/store/types.js';
import { num, parseArgs, telemetry } from './common.js';

const args = parseArgs();
const COMMITS = num(args, 'commits', 2_000);
const ROWS = num(args, 'rows', 200_000);
const BATCH = num(args, 'batch', 4_096);
const dir = mkdtempSync(join(tmpdir(), 'rembus-log-engines-'));
let recv = 1_700_000_000_000_000_000n;
const msg = (i: number): StoredMessage => ({ recv: recv++, slot: null, qos: 0x10, uid: BigInt(i), topic: 'bench/telemetry', data: encodeValue([telemetry(i)]) });

interface Engine { name: string; open(path: string): Promise<Store> }
/** A bare append-only file: one write (and with `sync`, one fdatasync) per commit. */
function fileStore(path: string, sync: boolean): Store {
  const fd = openSync(path, 'a');
  const write = async (batch: readonly StoredMessage[]): Promise<void> => {
    for (const m of batch) writeSync(fd, m.data);
    if (sync) fdatasyncSync(fd);
  };
  return { commit: ({ messages }: { messages: readonly StoredMessage[] }) => write(messages), appendMessages: write, close: async () => closeSync(fd) } as unknown as Store;
}
const ENGINES: Engine[] = [
  { name: 'duckdb (one transaction per commit)', open: (p) => openDuckDbStore({ path: `${p}.duckdb` }) },
  { name: "lmdb, fsync 'off' (written to the OS)", open: (p) => openLmdbStore({ path: `${p}.lmdb`, fsync: 'off' }) },
  { name: "lmdb, fsync 'always'", open: (p) => openLmdbStore({ path: `${p}.lmdb`, fsync: 'always' }) },
  { name: 'append-only file, write(2)', open: async (p) => fileStore(`${p}.log`, false) },
  { name: 'append-only file, write(2) + fdatasync', open: async (p) => fileStore(`${p}.log`, true) },
];

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]! * 1000;
console.log(`| engine | awaited commit of 1 message p50 µs | p99 µs | batched ${BATCH} per commit, msgs/s |`);
console.log('|---|---:|---:|---:|');
let k = 0;
for (const engine of ENGINES) {
  const store = await engine.open(join(dir, `e${k++}`));
  const commits = engine.name.includes('always') || engine.name.includes('fdatasync') ? Math.min(COMMITS, 300) : COMMITS;
  const lat: number[] = [];
  for (let i = 0; i < commits; i++) {
    const m = msg(i);
    const t0 = performance.now();
    await store.commit({ messages: [m], twins: [{ name: 'sub', mark: m.recv }] });
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  const rows = Array.from({ length: ROWS }, (_, i) => msg(i));
  const t0 = performance.now();
  for (let at = 0; at < ROWS; at += BATCH) await store.commit({ messages: rows.slice(at, at + BATCH), twins: [] });
  const rate = ROWS / ((performance.now() - t0) / 1000);
  console.log(`| ${engine.name} | ${pct(lat, 0.5).toFixed(0)} | ${pct(lat, 0.99).toFixed(0)} | ${Math.round(rate).toLocaleString('en')} |`);
  await store.close();
}
rmSync(dir, { recursive: true, force: true });
