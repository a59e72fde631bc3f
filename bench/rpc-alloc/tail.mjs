// W4's tail, hop by hop (issue 20): the three W4 roles of driver.mjs with trace-hooks.mjs preloaded
// (every socket read/write and GC on CLOCK_MONOTONIC), then each measured call cut into its nine
// segments — caller send, broker wake + route (call), exposer wake + answer, broker wake + route
// (answer), caller wake + resume — and the calls at or above p98/p99 compared with the median call:
// which segment holds their extra time and whether a collection of that segment's process overlapped it.
//   npx tsc -p tsconfig.bench.json && node bench/rpc-alloc/tail.mjs $PWD/dist 20000 2000
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync, mkdirSync, readdirSync } from 'node:fs';
const [dist, count = '20000', warm = '2000'] = process.argv.slice(2);
const outDir = process.env.RPC_OUT ?? '/tmp/rpc-alloc'; mkdirSync(outDir, { recursive: true });
const role = fileURLToPath(new URL('./role.mjs', import.meta.url));
const hooks = fileURLToPath(new URL('./trace-hooks.mjs', import.meta.url));
const next = (p, type) => new Promise((res) => { const h = (m) => { if (m.type === type) { p.off('message', h); res(m); } }; p.on('message', h); });
const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' }, execArgv: [...process.execArgv, '--import', hooks] };
const b = fork(role, [dist, 'broker'], opts); const { port } = await next(b, 'ready');
const url = `ws://127.0.0.1:${port}`;
const s = fork(role, [dist, 'server', url], opts); await next(s, 'ready');
const c = fork(role, [dist, 'caller', url, count, warm], opts); await next(c, 'mark');
b.kill('SIGUSR2'); s.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 100));
/** Per thread of each role: [comm, cpu ns, runqueue wait ns] from /proc (schedstat). */
const sched = (p) => readdirSync(`/proc/${p.pid}/task`).map((t) => { const [cpu, wait] = readFileSync(`/proc/${p.pid}/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
  return [t === String(p.pid) ? 'main' : readFileSync(`/proc/${p.pid}/task/${t}/comm`, 'utf8').trim(), cpu, wait]; });
const sched0 = [b, s, c].map(sched);
c.send({ type: 'go' });
const done = await next(c, 'done');
const sched1 = [b, s, c].map(sched);
const mb = next(b, 'marked'), ms = next(s, 'marked'); b.kill('SIGUSR2'); s.kill('SIGUSR2'); await Promise.all([mb, ms]);
await Promise.all([b, s, c].map((p) => new Promise((r) => { p.once('exit', r); p.send({ type: 'exit' }); })));
const load = (p) => { const t = JSON.parse(readFileSync(`${outDir}/${p.pid}.trace.json`, 'utf8'));
  const pick = (k) => Float64Array.from(t.ev.filter((e) => e[0] === k).map((e) => e[2]));
  return { ...t, reads: pick(0), writes: pick(1), gcs: t.ev.filter((e) => e[0] >= 2).map((e) => [e[2], e[2] + e[3], e[0]]) }; };
const [B, S, C] = [b, s, c].map(load);
const calls = JSON.parse(readFileSync(`${outDir}/calls.json`, 'utf8'));
const n = calls.lat.length;
/** First element of sorted `a` ≥ t (Infinity when none). */
const after = (a, t) => { let lo = 0, hi = a.length; while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < t) lo = m + 1; else hi = m; } return lo < a.length ? a[lo] : Infinity; };
const before = (a, t) => { let lo = 0, hi = a.length; while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] <= t) lo = m + 1; else hi = m; } return lo > 0 ? a[lo - 1] : -Infinity; };
const SEG = ['caller send', 'broker wake', 'broker call', 'exposer wake', 'exposer answer', 'broker wake2', 'broker answer', 'caller wake', 'caller resume'];
const OWNER = [C, B, B, S, S, B, B, C, C];
const seg = []; let bad = 0;
for (let i = 0; i < n; i++) {
  const t0 = calls.t0[i] - C.timeOrigin + C.offset, t1 = t0 + calls.lat[i];
  const cw = after(C.writes, t0), bi1 = after(B.reads, cw), bo1 = after(B.writes, bi1), ei = after(S.reads, bo1), eo = after(S.writes, ei);
  const bi2 = after(B.reads, eo), bo2 = after(B.writes, bi2), cr = before(C.reads, t1);
  const pts = [t0, cw, bi1, bo1, ei, eo, bi2, bo2, cr, t1];
  let ok = true; for (let k = 1; k < pts.length; k++) if (!(pts[k] >= pts[k - 1])) ok = false;
  if (!ok) { bad++; seg.push(null); continue; }
  seg.push(pts.slice(1).map((p, k) => [pts[k], p]));
}
['broker', 'exposer', 'caller'].forEach((name, r) => {
  const sum = (rows, main) => rows.filter((x) => (x[0] === 'main') === main).reduce((t, x) => [t[0] + x[1], t[1] + x[2]], [0, 0]);
  const m = [sum(sched1[r], true), sum(sched0[r], true)], o = [sum(sched1[r], false), sum(sched0[r], false)];
  const per = (a, z) => ((a - z) / n / 1000).toFixed(1);
  console.log(`${name.padEnd(8)} main: cpu ${per(m[0][0], m[1][0])} µs/call, runqueue wait ${per(m[0][1], m[1][1])} µs/call; other threads: cpu ${per(o[0][0], o[1][0])}, wait ${per(o[0][1], o[1][1])} µs/call`);
});
const lat = calls.lat; const sorted = [...lat].sort((x, y) => x - y);
const med = SEG.map((_, k) => { const v = seg.filter(Boolean).map((x) => x[k][1] - x[k][0]).sort((x, y) => x - y); return v[v.length >> 1]; });
const us = (ms) => (ms * 1000).toFixed(0).padStart(6);
console.log(`calls ${n}, unaligned ${bad}; p50 ${done.p50} µs p99 ${done.p99} µs; collections traced (whole run): broker ${B.gcs.length} exposer ${S.gcs.length} caller ${C.gcs.length} (whole run)`);
console.log(`segment          median µs  ` + [0.98, 0.99, 0.998].map((q) => `mean≥p${q * 100}`.padStart(11)).join('') + '   worst-segment counts ≥p98 (with a GC of its process in it)');
const rows = [0.98, 0.99, 0.998].map((q) => { const thr = sorted[Math.floor(q * (n - 1))]; return seg.map((x, i) => (x && lat[i] >= thr ? i : -1)).filter((i) => i >= 0); });
const worst = SEG.map(() => [0, 0]); const anyGc = [0, 0];
for (const i of rows[0]) {
  const d = seg[i].map(([a, z], k) => z - a - med[k]); const k = d.indexOf(Math.max(...d));
  const [a, z] = seg[i][k]; const gc = OWNER[k].gcs.some(([g0, g1]) => g0 < z && g1 > a);
  worst[k][0]++; if (gc) worst[k][1]++;
  const any = [B, S, C].some((P) => P.gcs.some(([g0, g1]) => g0 < seg[i][8][1] && g1 > seg[i][0][0])); anyGc[0]++; if (any) anyGc[1]++;
}
SEG.forEach((name, k) => console.log(`${name.padEnd(16)} ${us(med[k])}     ` + rows.map((r) => us(r.reduce((t, i) => t + seg[i][k][1] - seg[i][k][0], 0) / r.length).padStart(11)).join('') + `   ${worst[k][0]} (${worst[k][1]})`));
console.log(`calls ≥ p98: ${anyGc[0]}, of which ${anyGc[1]} overlapped a collection in any process`);
// What the p99 would be without collections: over the calls that overlapped none.
const clean = lat.filter((_, i) => ![B, S, C].some((P) => P.gcs.some(([g0, g1]) => { const a = calls.t0[i] - C.timeOrigin + C.offset; return g0 < a + lat[i] && g1 > a; })));
const cs = clean.sort((x, y) => x - y);
console.log(`calls overlapping a collection: ${n - cs.length}; p99 without them ${us(cs[Math.floor(0.99 * (cs.length - 1))]).trim()} µs (with: ${us(sorted[Math.floor(0.99 * (n - 1))]).trim()})`);
