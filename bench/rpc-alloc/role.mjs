// One W4 role (see driver.mjs): node role.mjs DIST broker|server|caller [url] [count] [warmup]
// Measures between two marks (SIGUSR2 in broker/server, in-process in the caller): scavenges,
// mark-compacts, GC ms, main-thread CPU, and (RPC_PROF=1) sampled allocated bytes with attribution.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
const [dist, mode, url, countArg, warmArg] = process.argv.slice(2);
const outDir = process.env.RPC_OUT ?? '/tmp/rpc-alloc';
const prof = process.env.RPC_PROF === '1';
const gc = { s: 0, mc: 0, other: 0, ms: 0, maxMs: 0 };
/** Collections between the marks as [start, end] in ms since the epoch (timeOrigin-based, comparable across processes). */
const pauses = []; let measuring = false;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const k = e.detail?.kind ?? e.kind;
    if (measuring) pauses.push([performance.timeOrigin + e.startTime, performance.timeOrigin + e.startTime + e.duration]);
    if (k === constants.NODE_PERFORMANCE_GC_MINOR) gc.s++; else if (k === constants.NODE_PERFORMANCE_GC_MAJOR) gc.mc++; else gc.other++;
    gc.ms += e.duration; gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
const session = new Session(); session.connect();
let marks = 0; let start;
function mark(calls) {
  marks++;
  if (marks === 1) {
    if (prof) { session.post('HeapProfiler.enable'); session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }); }
    start = { gc: { ...gc }, cpu: process.cpuUsage() };
    measuring = true;
  } else if (marks === 2) {
    measuring = false;
    const cpu = process.cpuUsage(start.cpu);
    const res = { mode, pid: process.pid, scav: gc.s - start.gc.s, mc: gc.mc - start.gc.mc, gcMs: +(gc.ms - start.gc.ms).toFixed(1), cpuMs: (cpu.user + cpu.system) / 1000, pauses,
      // V8 grows the young generation only once what survived scavenges adds up to its size: its size decides the scavenge count.
      newSpaceMiB: +(getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size / 2 ** 20).toFixed(1) };
    const finish = (bytes) => { res.allocMB = bytes / 1e6; writeFileSync(`${outDir}/${mode}.json`, JSON.stringify(res)); if (process.send) process.send({ type: 'marked' }); };
    if (prof) session.post('HeapProfiler.stopSampling', (err, r) => {
      writeFileSync(`${outDir}/${mode}.heapprofile`, JSON.stringify(r.profile));
      let total = 0; const walk = (n) => { total += n.selfSize; for (const c of n.children) walk(c); }; walk(r.profile.head);
      finish(total);
    }); else finish(NaN);
  }
}
process.on('SIGUSR2', () => mark());
const { connect } = await import(`${dist}/src/index.js`);
const { firstValueFrom } = await import('rxjs');
if (mode === 'broker') {
  const { broker } = await import(`${dist}/src/broker/index.js`);
  const noop = () => undefined; const logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };
  const b = await broker({ port: 0, host: '127.0.0.1', logger });
  process.send({ type: 'ready', port: b.port });
} else if (mode === 'server') {
  const node = await connect(url);
  node.expose('add', (a, b) => a + b);
  await node.rpc('rid');
  process.send({ type: 'ready' });
} else {
  const node = await connect(url);
  const count = Number(countArg); const warm = Number(warmArg);
  const lat = new Float64Array(count);
  const t0s = new Float64Array(count); // call starts, ms since the epoch (for the tail's attribution)
  for (let i = 0; i < warm; i++) if (await firstValueFrom(node.rpc$('add', i, 1)) !== i + 1) throw new Error('bad');
  process.send({ type: 'mark' });
  await new Promise((r) => process.once('message', r)); // driver signalled the others
  mark();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    if (await firstValueFrom(node.rpc$('add', i, 1)) !== i + 1) throw new Error('bad');
    lat[i] = performance.now() - t0;
    t0s[i] = performance.timeOrigin + t0;
  }
  mark();
  writeFileSync(`${outDir}/calls.json`, JSON.stringify({ t0: Array.from(t0s), lat: Array.from(lat) }));
  const s = Array.from(lat).sort((a, b) => a - b);
  const pct = (p) => +(s[Math.floor(p * (s.length - 1))] * 1000).toFixed(0);
  process.send({ type: 'done', p50: pct(0.5), p99: pct(0.99) });
}
process.on('message', (m) => { if (m?.type === 'exit') process.exit(0); });
