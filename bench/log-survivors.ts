/**
 * The broker's message log and the young generation (issue 20, W7), in one process and without
 * sockets, so the box's load does not change it: W2-like turns of 500 publishes read in place
 * from one chunk (`LazyPub`) are logged to a memory store, with ~1 KiB of other garbage per
 * message, then the young generation's capacity is printed. Rows that wait across a turn for a
 * commit survive its scavenges and make V8 grow the semispaces; rows the store takes at append
 * (`Store.appendNow`) do not.
 *
 * Usage: `npx tsc -p tsconfig.bench.json && node [--trace-gc-nvp] dist/bench/log-survivors.js
 * [--dist DIR] [--buffering] [--turns 200]`. `--buffering`: the memory store without
 * `appendNow` (rows buffered for commits, as before it had it, and as over LMDB); `--dist`: the
 * `dist` of another build (default this one). With `--trace-gc-nvp`, each scavenge's
 * `new_space_survived` says what it found alive.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { parseArgs, str, num } from './common.js';

const args = parseArgs();
const dist = resolve(str(args, 'dist', join(import.meta.dirname, '..')));
const buffering = args['buffering'] !== undefined;
const turns = num(args, 'turns', 200);
const PER_TURN = 500;
const load = (path: string): Promise<Record<string, any>> => import(pathToFileURL(join(dist, 'src', path)).href);
const { MessageLog } = await load('broker/message-log.js');
const { memoryStore } = await load('store/memory-store.js');
const { decodeLazyPub } = await load('codec/lazy-pub.js');
const { encodeCbor } = await load('codec/index.js');

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const inner = memoryStore();
const store = !buffering ? inner : new Proxy(inner, {
  get: (target, key) => {
    if (key === 'appendNow') return undefined;
    const value: unknown = Reflect.get(target, key, target);
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
});
const log = new MessageLog(store, 1_000, 1_000_000, quiet);
const frame: Uint8Array = encodeCbor({ type: 'pub', flags: 0, topic: 'bench/telemetry',
  args: [{ dn: 'device-0001', temperature: 21.5, pressure: 1013.2, ts: Date.now() }] });
const before = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
/** Where each message's garbage goes (overwritten at once: dead by the next message). */
const sink: unknown[] = [undefined];
for (let t = 0; t < turns; t++) {
  // One socket chunk per turn, every frame a view of it, as the broker reads them.
  const chunk = Buffer.allocUnsafe(frame.length * PER_TURN);
  for (let i = 0; i < PER_TURN; i++) {
    chunk.set(frame, i * frame.length);
    log.append(decodeLazyPub(chunk.subarray(i * frame.length, (i + 1) * frame.length)), undefined);
    sink[0] = [new Array(100).fill(i), { i, pair: [i, i] }]; // routing and delivery garbage
  }
  await new Promise((r) => setImmediate(r));
}
await log.close();
const after = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
const mode = typeof store.appendNow === 'function' ? 'rows taken at append' : 'rows buffered for commits';
console.log(`${mode}: young generation ${(before / 2 ** 20).toFixed(1)} → `
  + `${(after / 2 ** 20).toFixed(1)} MiB after ${(turns * PER_TURN).toLocaleString('en')} publishes (${dist})`);
