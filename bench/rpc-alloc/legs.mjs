// W4's legs as the clients' sockets see them, for any system of the bench (issue 20): run
//   RPC_OUT=/tmp/legs npm run bench -- --only W4 --systems rembus,mosquitto --runs 3 --node-argv import=$PWD/bench/rpc-alloc/trace-hooks.mjs
//   node bench/rpc-alloc/legs.mjs /tmp/legs
// and each call (a caller write to the next caller read) is cut at the exposer's read and write:
// caller → exposer (broker in and out, and the exposer's wake), the exposer's own time, and exposer → caller.
// p50 / p99 / p99.9 of each leg in µs, per run; and the calls at or above p99 of the whole: in which leg
// their excess over that leg's median lies, and whether a collection of caller or exposer overlapped them.
import { readFileSync, readdirSync } from 'node:fs';
const dir = process.argv[2] ?? '/tmp/rpc-alloc';
const traces = readdirSync(dir).filter((f) => f.endsWith('.trace.json')).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')));
const mainSocket = (t) => { const cnt = new Map(); for (const e of t.ev) if (e[0] <= 1) cnt.set(e[1], (cnt.get(e[1]) ?? 0) + 1); return [...cnt].sort((a, b) => b[1] - a[1])[0]?.[0]; };
const prep = (t) => { const s = mainSocket(t); const pick = (k) => Float64Array.from(t.ev.filter((e) => e[0] === k && e[1] === s).map((e) => e[2]));
  return { ...t, reads: pick(0), writes: pick(1), gcs: t.ev.filter((e) => e[0] >= 2).map((e) => [e[2], e[2] + e[3]]) }; };
const after = (a, t) => { let lo = 0, hi = a.length; while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < t) lo = m + 1; else hi = m; } return lo; };
const callers = traces.filter((t) => t.argv.includes('rpc-caller')).map(prep);
const servers = traces.filter((t) => t.argv.includes('rpc-server')).map(prep);
const brokers = traces.filter((t) => t.argv.includes('broker'));
/** Main-thread CPU and runqueue wait, µs per call, between the samples inside [a, z] (calls: their start times). */
const perCall = (t, a, z, starts) => { const s = (t.samples ?? []).filter((x) => x[0] >= a && x[0] <= z); if (s.length < 2) return '-';
  const f = s[0], l = s[s.length - 1]; const k = starts.filter((x) => x >= f[0] && x < l[0]).length; if (k === 0) return '-';
  return `${((l[1] - f[1]) / k / 1000).toFixed(0)}/${((l[2] - f[2]) / k / 1000).toFixed(0)}`; };
const pct = (v, q) => v[Math.min(v.length - 1, Math.floor(q * (v.length - 1)))];
const us = (x) => (x * 1000).toFixed(0).padStart(6);
for (const C of callers.sort((a, b) => a.writes[0] - b.writes[0])) {
  const S = servers.find((x) => x.reads.length > 0 && x.reads[0] < C.writes[C.writes.length - 1] && x.writes[x.writes.length - 1] > C.writes[0]);
  if (!S) continue;
  const legs = []; // [rtt, toExposer, exposer, back, t0, t1]
  for (let i = 0; i < C.writes.length; i++) {
    const w = C.writes[i]; const r = C.reads[after(C.reads, w)]; if (r === undefined) break;
    if (i + 1 < C.writes.length && C.writes[i + 1] < r) continue; // not a lone call (handshake)
    const si = after(S.reads, w); const sr = S.reads[si]; const sw = S.writes[after(S.writes, sr)];
    if (!(sr < r && sw <= r)) continue;
    legs.push([r - w, sr - w, sw - sr, r - sw, w, r]);
  }
  // The measured calls: drop the first 10 % (warm-up and handshakes).
  const m = legs.slice(Math.floor(legs.length / 10));
  const sys = C.argv.includes('mqtt') ? 'mqtt' : C.argv.includes('relay-client') ? 'relay' : C.argv.includes('nats') ? 'nats' : 'rembus';
  const col = (k) => m.map((x) => x[k]).sort((a, b) => a - b);
  const names = ['rtt', 'to exposer', 'exposer', 'back'];
  const med = names.map((_, k) => pct(col(k), 0.5));
  const thr = pct(col(0), 0.99); const slow = m.filter((x) => x[0] >= thr);
  const where = [0, 0, 0]; let gc = 0;
  for (const x of slow) { const d = [1, 2, 3].map((k) => x[k] - med[k]); where[d.indexOf(Math.max(...d))]++;
    if ([C, S].some((P) => P.gcs.some(([g0, g1]) => g0 < x[5] && g1 > x[4]))) gc++; }
  const a = m[0][4], z = m[m.length - 1][5], starts = m.map((x) => x[4]);
  const B = brokers.find((t) => t.samples.some((x) => x[0] >= a && x[0] <= z));
  const cpu = `cpu/wait µs per call: caller ${perCall(C, a, z, starts)}, exposer ${perCall(S, a, z, starts)}${B ? `, broker ${perCall(B, a, z, starts)}` : ''}`;
  console.log(`${sys.padEnd(7)} calls ${m.length}: ` + names.map((nm, k) => `${nm} ${us(pct(col(k), 0.5))}/${us(pct(col(k), 0.99))}/${us(pct(col(k), 0.999))}`).join(' | ')
    + ` || ≥p99: ${slow.length}, excess in to-exposer ${where[0]}, exposer ${where[1]}, back ${where[2]}; overlapping a client GC ${gc} || ${cpu}`);
}
