/**
 * Declarations at scale (issue 13.7): one connection declares N subscriptions, then N exposed
 * methods, on a durable broker (LMDB store in a temp dir), each awaited as the broker confirms
 * it once stored. Prints the time of each phase and the broker process's RSS/heap growth.
 * The client runs in the same process (raw frames, pipelined).
 *
 *   npx tsx bench/declarations.ts [N=100000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { broker } from '../src/broker/index.js';
import { encodeCbor } from '../src/codec/cbor.js';
import { newMsgId } from '../src/codec/msgid.js';

const n = Number(process.argv[2] ?? 100_000);
const dir = await mkdtemp(join(tmpdir(), 'rembus-decl-bench-'));
const b = await broker({ port: 0, host: '127.0.0.1', dataDir: dir });
const ws = new WebSocket(b.url!, { perMessageDeflate: false });
await new Promise((r) => ws.once('open', r));
let answered = 0;
let wake: (() => void) | undefined;
ws.on('message', () => { answered++; wake?.(); });
const send = (msg: Parameters<typeof encodeCbor>[0]) => ws.send(encodeCbor(msg), { binary: true });
send({ type: 'identity', id: newMsgId(), cid: 'many' });
await until(1);
global.gc?.();
const mem0 = process.memoryUsage();

async function until(count: number): Promise<void> {
  while (answered < count) await new Promise<void>((r) => { wake = r; });
}

async function phase(cmd: string, topic: (i: number) => string): Promise<number> {
  const start = performance.now();
  const target = answered + n;
  for (let i = 0; i < n; i++) send({ type: 'admin', id: newMsgId(), topic: topic(i), cmd: { cmd } });
  await until(target);
  return performance.now() - start;
}

const sub = await phase('subscribe', (i) => `sensor/${i}/value`);
const exp = await phase('expose', (i) => `method_${i}`);
global.gc?.();
const mem1 = process.memoryUsage();
const mib = (x: number) => (x / 1048576).toFixed(1);
console.log(JSON.stringify({
  n, subscribeMs: Math.round(sub), exposeMs: Math.round(exp),
  rssGrowthMiB: mib(mem1.rss - mem0.rss), heapGrowthMiB: mib(mem1.heapUsed - mem0.heapUsed),
}));
ws.close();
await b.close();
await rm(dir, { recursive: true, force: true });
