// W4's tail (issue 20): preloaded into each W4 role by tail.mjs (`--import`), or into the bench's
// roles by `npm run bench -- --only W4 --node-argv import=$PWD/bench/rpc-alloc/trace-hooks.mjs`
// (then legs.mjs). Timestamps every socket read ('data') and write, and every GC, on
// CLOCK_MONOTONIC (comparable across processes), into a typed ring (no per-event garbage), plus
// the main thread's CPU and run-queue wait now and then; written to $RPC_OUT/<pid>.trace.json at exit.
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync, readFileSync } from 'node:fs';
const outDir = process.env.RPC_OUT ?? '/tmp/rpc-alloc';
const N = 1 << 20;
const kind = new Uint8Array(N), sock = new Uint16Array(N), at = new Float64Array(N), dur = new Float32Array(N);
let n = 0;
// performance.now() is hrtime since this process's start: offset makes it CLOCK_MONOTONIC ms.
// Sampled a few hundred times, keeping the tightest bracket: a first call of either costs tens of µs.
let offset = 0; { let best = Infinity; for (let i = 0; i < 300; i++) { const p1 = performance.now(); const h = Number(process.hrtime.bigint()) / 1e6; const p2 = performance.now();
  if (p2 - p1 < best) { best = p2 - p1; offset = h - (p1 + p2) / 2; } } }
const ids = new WeakMap(); let nextId = 1;
const idOf = (s) => { let id = ids.get(s); if (id === undefined) { id = nextId++; ids.set(s, id); } return id; };
/** About every 2,048 socket events: [t, main-thread CPU ns, its runqueue wait ns] (/proc/thread-self/schedstat). */
const samples = [];
const sample = () => { const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number); samples.push([performance.now() + offset, cpu, wait]); };
function rec(k, s, t, d) { if ((n & 2047) === 0 && k <= 1) sample(); const i = n++ & (N - 1); kind[i] = k; sock[i] = s; at[i] = t + offset; dur[i] = d; }
const KIND = { read: 0, write: 1, gcMinor: 2, gcMajor: 3, gcOther: 4 };
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function () { rec(KIND.write, idOf(this), performance.now(), 0); return write.apply(this, arguments); };
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (ev) { if (ev === 'data') rec(KIND.read, idOf(this), performance.now(), 0); return emit.apply(this, arguments); };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const k = e.detail?.kind ?? e.kind; // 1 minor, 2 major (NODE_PERFORMANCE_GC_*)
    rec(k === 1 ? KIND.gcMinor : k === 2 ? KIND.gcMajor : KIND.gcOther, 0, e.startTime, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
process.on('exit', () => {
  sample();
  const m = Math.min(n, N), first = n > N ? n & (N - 1) : 0; const ev = [];
  for (let j = 0; j < m; j++) { const i = (first + j) & (N - 1); ev.push([kind[i], sock[i], +at[i].toFixed(4), +dur[i].toFixed(4)]); }
  writeFileSync(`${outDir}/${process.pid}.trace.json`, JSON.stringify({ pid: process.pid, role: process.argv[3], argv: process.argv.slice(1).join(' '), samples, timeOrigin: performance.timeOrigin, offset, ev }));
});
