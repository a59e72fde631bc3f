/** Text views of `__broker__/stats` snapshots for `rembus stats` and `rembus top`. */
import type { StatsSnapshot } from '../http/snapshot.js';

const num = (n: number): string => n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
const bytes = (n: number): string => n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB`
  : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`;
const ms = (s: number): string => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
const pad = (s: string, n: number): string => s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);

/** One snapshot as a short report; with `prev`, rates per second between the two. */
export function statsView(s: StatsSnapshot, prev?: StatsSnapshot): string {
  const dt = prev === undefined ? 0 : (s.time - prev.time) / 1000;
  const rate = (now: number, before: number | undefined): string =>
    dt > 0 && before !== undefined ? `${num((now - before) / dt)}/s` : '';
  const w = s.wire;
  const st = s.stats as Record<string, number>;
  const online = s.components.filter((c) => c.online);
  const lines = [
    `broker ${s.broker}  up ${s.uptime}s  connections ${st['connections'] ?? 0}  components ${online.length}/${s.components.length}`
      + `  rss ${bytes(s.memory.rss)}  storage ${s.storage.ok ? 'ok' : `FAILED: ${s.storage.error ?? ''}`}`,
    `msgs in ${num(w.publishesIn)} ${rate(w.publishesIn, prev?.wire.publishesIn)}   out ${num(w.publishesOut)} `
      + `${rate(w.publishesOut, prev?.wire.publishesOut)}   bytes in ${bytes(w.bytesIn)} out ${bytes(w.bytesOut)}`
      + (dt > 0 ? `  (${bytes((w.bytesIn - prev!.wire.bytesIn) / dt)}/s in, ${bytes((w.bytesOut - prev!.wire.bytesOut) / dt)}/s out)` : ''),
    `inflight ${st['outboxed'] ?? 0}  held ${st['held'] ?? 0}  pending rpcs ${st['pendingRpcs'] ?? 0}  congested ${st['congested'] ?? 0}`
      + `  slow consumers cut ${w.slowConsumersCut}  replays ${w.replays}`,
  ];
  const before = new Map(prev?.topics.map((t) => [t.topic, t.published]));
  const topics = [...s.topics].sort((a, b) => (b.published - (before.get(b.topic) ?? 0)) - (a.published - (before.get(a.topic) ?? 0)))
    .slice(0, 10);
  if (topics.length > 0) {
    lines.push('', `${pad('TOPIC', 40)} ${pad('PUBLISHED', 12)} RATE`);
    for (const t of topics) lines.push(`${pad(t.topic, 40)} ${pad(num(t.published), 12)} ${rate(t.published, before.get(t.topic) ?? 0)}`);
  }
  if (s.rpc.length > 0) {
    lines.push('', `${pad('METHOD', 30)} ${pad('CALLS', 10)} ${pad('ERRORS', 8)} ${pad('P50', 10)} P99`);
    for (const r of [...s.rpc].sort((a, b) => b.calls - a.calls).slice(0, 10)) {
      lines.push(`${pad(r.method, 30)} ${pad(num(r.calls), 10)} ${pad(num(r.errors), 8)} ${pad(ms(r.p50), 10)} ${ms(r.p99)}`);
    }
  }
  if (s.components.length > 0) {
    lines.push('', `${pad('COMPONENT', 24)} ${pad('STATE', 8)} ${pad('OUTBOX', 8)} ${pad('SUBS', 6)} EXPOSES`);
    for (const c of s.components.slice(0, 20)) {
      lines.push(`${pad(c.name, 24)} ${pad(c.online ? 'online' : 'offline', 8)} ${pad(String(c.outbox), 8)} `
        + `${pad(String(c.subscriptions.length), 6)} ${c.exposed.join(', ')}`);
    }
  }
  return lines.join('\n');
}
