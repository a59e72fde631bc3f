// W4 per call, per process, between two marks after the warm-up (issue 20, README "W4's tail"):
//   npx tsc -p tsconfig.bench.json && node bench/rpc-alloc/driver.mjs $PWD/dist 20000 2000
// scavenges, GC ms and main-thread CPU per call; RPC_PROF=1 adds bytes allocated per call (V8's
// sampling heap profiler counting collected objects too; profiles in $RPC_OUT, default /tmp/rpc-alloc),
// which `node bench/rpc-alloc/categories.mjs /tmp/rpc-alloc/broker.heapprofile 20000` splits by origin.
// Also: each process's young-generation size at the end and longest pause, and of the calls at or
// above p95/p99 how many overlapped a collection in each process (the tail's attribution). Node flags
// given to this driver reach the roles (fork inherits execArgv): `node --min-semi-space-size=2
// --max-semi-space-size=2 bench/rpc-alloc/driver.mjs …` holds the young generation fixed for an A/B.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync, mkdirSync } from 'node:fs';
const [dist, count = '20000', warm = '2000'] = process.argv.slice(2);
const outDir = process.env.RPC_OUT ?? '/tmp/rpc-alloc'; mkdirSync(outDir, { recursive: true });
const role = fileURLToPath(new URL('./role.mjs', import.meta.url));
const next = (p, type) => new Promise((res) => { const h = (m) => { if (m.type === type) { p.off('message', h); res(m); } }; p.on('message', h); });
const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } };
const b = fork(role, [dist, 'broker'], opts); const { port } = await next(b, 'ready');
const url = `ws://127.0.0.1:${port}`;
const s = fork(role, [dist, 'server', url], opts); await next(s, 'ready');
const c = fork(role, [dist, 'caller', url, count, warm], opts); await next(c, 'mark');
b.kill('SIGUSR2'); s.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 100));
c.send({ type: 'go' });
const done = await next(c, 'done');
const mb = next(b, 'marked'), ms = next(s, 'marked'); b.kill('SIGUSR2'); s.kill('SIGUSR2'); await Promise.all([mb, ms]);
const n = Number(count);
const rows = ['broker', 'server', 'caller'].map((m) => JSON.parse(readFileSync(`${outDir}/${m}.json`, 'utf8')));
let tot = { scav: 0, cpu: 0, alloc: 0 };
for (const r of rows) {
  tot.scav += r.scav; tot.cpu += r.cpuMs; tot.alloc += r.allocMB ?? NaN;
  console.log(`${r.mode.padEnd(7)} young=${r.newSpaceMiB}MiB maxPause=${Math.max(0, ...r.pauses.map(([a, z]) => z - a)).toFixed(2)}ms scav=${String(r.scav).padStart(3)} mc=${r.mc} gcMs=${r.gcMs} scav/1k calls=${(r.scav / n * 1000).toFixed(2)} cpu/call=${(r.cpuMs * 1000 / n).toFixed(1)}µs alloc/call=${r.allocMB == null ? '-' : `${(r.allocMB * 1e6 / n).toFixed(0)}B`}`);
}
console.log(`total   scav=${tot.scav} cpu/call=${(tot.cpu * 1000 / n).toFixed(1)}µs alloc/call=${Number.isNaN(tot.alloc) ? '-' : `${(tot.alloc * 1e6 / n).toFixed(0)}B`}  p50=${done.p50}µs p99=${done.p99}µs`);
// The tail: of the calls at or above p99 (and p95), how many overlapped a collection in each process.
const calls = JSON.parse(readFileSync(`${outDir}/calls.json`, 'utf8'));
const hit = (i, pauses) => { const a = calls.t0[i], z = a + calls.lat[i]; return pauses.some(([s0, s1]) => s0 < z && s1 > a); };
for (const q of [0.95, 0.99]) {
  const thr = [...calls.lat].sort((x, y) => x - y)[Math.floor(q * (n - 1))];
  const slow = calls.lat.map((l, i) => l >= thr ? i : -1).filter((i) => i >= 0);
  const by = rows.map((r) => slow.filter((i) => hit(i, r.pauses)).length);
  const any = slow.filter((i) => rows.some((r) => hit(i, r.pauses))).length;
  const gcCalls = calls.lat.map((_, i) => i).filter((i) => rows.some((r) => hit(i, r.pauses))).length;
  console.log(`calls ≥ p${q * 100} (${(thr * 1000).toFixed(0)}µs): ${slow.length}, overlapping a collection: ${any} (broker ${by[0]}, server ${by[1]}, caller ${by[2]}); calls overlapping one in all: ${gcCalls}`);
}
for (const p of [b, s, c]) p.send({ type: 'exit' });
