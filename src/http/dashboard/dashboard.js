// The broker dashboard: a rembus component in the browser (the root entry's browser bundle,
// served as /dashboard/client.js) that watches the `__broker__/stats` topic and draws it.
// It uses no private API: what it shows, any component can subscribe to.
import { connect } from '/dashboard/client.js';

const STATS = '__broker__/stats';
/** Snapshots kept for the charts: five minutes at the default one per second. */
const HISTORY = 300;
const history = [];
const $ = (id) => document.getElementById(id);
const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
let node;
let stream;
window.dashboard = { snapshots: 0, connected: false, error: null };

const fmt = (n) => n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k`
  : n >= 100 ? n.toFixed(0) : n.toFixed(n % 1 === 0 ? 0 : 1);
const bytes = (n) => n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB`
  : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`;
const ms = (s) => s * 1000 < 1 ? `${(s * 1e6).toFixed(0)} µs` : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
const ago = (t) => { const s = Math.round((Date.now() - t) / 1000); return s < 90 ? `${s}s ago` : s < 5400 ? `${Math.round(s / 60)}m ago` : `${(s / 3600).toFixed(1)}h ago`; };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

async function start(name, secret) {
  stream?.unsubscribe();
  await node?.close();
  window.dashboard.connected = false;
  const url = name ? `${wsBase}/${encodeURIComponent(name)}` : wsBase;
  node = await connect(url, { reconnect: { initialDelay: 250, maxDelay: 3000 }, ...(secret ? { key: secret } : {}) });
  node.status$.subscribe((s) => {
    $('link-dot').classList.toggle('up', s.type === 'up');
    window.dashboard.connected = s.type === 'up';
  });
  $('who').textContent = name ? `as ${name}` : 'anonymous';
  stream = node.subscribe$(STATS).subscribe((m) => onSnapshot(m.args[0]));
}

function onSnapshot(snap) {
  const prev = history[history.length - 1];
  history.push(snap);
  if (history.length > HISTORY) history.shift();
  window.dashboard.snapshots++;
  const dt = prev ? Math.max(0.001, (snap.time - prev.time) / 1000) : 0;
  const rate = (a, b) => (dt > 0 ? Math.max(0, (a - b) / dt) : 0);
  const w = snap.wire;
  snap.rates = prev ? {
    in: rate(w.publishesIn, prev.wire.publishesIn), out: rate(w.publishesOut, prev.wire.publishesOut),
    bytesIn: rate(w.bytesIn, prev.wire.bytesIn), bytesOut: rate(w.bytesOut, prev.wire.bytesOut),
  } : { in: 0, out: 0, bytesIn: 0, bytesOut: 0 };
  renderCards(snap);
  chart($('chart-msgs'), history.map((s) => [s.time, s.rates.in, s.rates.out]), fmt);
  chart($('chart-bytes'), history.map((s) => [s.time, s.rates.bytesIn, s.rates.bytesOut]), (n) => bytes(n));
  renderTopics(snap, prev, dt);
  renderMethods(snap);
  renderComponents(snap);
  renderHealth(snap);
}

function renderCards(s) {
  $('broker-name').textContent = s.broker;
  $('uptime').textContent = `up ${s.uptime}s`;
  $('msgs-in').textContent = fmt(s.rates.in);
  $('msgs-out').textContent = fmt(s.rates.out);
  $('bytes-rate').textContent = `${bytes(s.rates.bytesIn + s.rates.bytesOut)}/s`;
  $('bytes-total').textContent = `${bytes(s.wire.bytesIn)} in · ${bytes(s.wire.bytesOut)} out`;
  const online = s.components.filter((c) => c.online).length;
  $('components-online').textContent = `${online}`;
  $('connections').textContent = `${s.stats.connections ?? 0} connections · ${s.components.length} twins`;
  $('inflight').textContent = fmt(s.stats.outboxed ?? 0);
  $('held').textContent = `${s.stats.held ?? 0} held · ${s.stats.pendingRpcs ?? 0} rpcs pending`;
  $('storage').textContent = s.storage.ok ? 'ok' : 'failing';
  $('storage').className = `big ${s.storage.ok ? '' : 'bad'}`;
  $('memory').textContent = `rss ${bytes(s.memory.rss)} · flush p99 ${ms(s.storage.p99)}`;
}

/** A two-series line chart, hand-drawn SVG: area for "in", line for "out", 4 grid lines. */
function chart(svg, points, label) {
  const W = 600, H = 160, P = 4;
  const max = Math.max(1, ...points.flatMap(([, a, b]) => [a, b])) * 1.15;
  const t0 = points.length ? points[0][0] : 0, t1 = points.length ? points[points.length - 1][0] : 1;
  const x = (t) => (t1 === t0 ? W : ((t - t0) / (t1 - t0)) * W);
  const y = (v) => H - P - (v / max) * (H - 2 * P);
  const line = (i) => points.map((p) => `${x(p[0]).toFixed(1)},${y(p[i]).toFixed(1)}`).join(' ');
  let out = '';
  for (let g = 1; g <= 4; g++) {
    const v = (max / 4) * g;
    out += `<line x1="0" x2="${W}" y1="${y(v)}" y2="${y(v)}" stroke="#263049" stroke-width="1"/>`
      + `<text x="4" y="${y(v) + 12}" fill="#8893a8" font-size="10">${label(v)}</text>`;
  }
  if (points.length > 1) {
    out += `<polygon points="0,${H} ${line(1)} ${W},${H}" fill="rgba(79,195,247,.18)"/>`
      + `<polyline points="${line(1)}" fill="none" stroke="#4fc3f7" stroke-width="2"/>`
      + `<polyline points="${line(2)}" fill="none" stroke="#ffb74d" stroke-width="2" stroke-dasharray="4 2"/>`;
  }
  svg.innerHTML = out;
}

function bars(el, rows, empty) {
  el.innerHTML = rows.length === 0 ? `<div class="empty">${empty}</div>` : rows.map((r) => `<div class="row" data-name="${esc(r.name)}">`
    + `<span class="name" title="${esc(r.name)}">${esc(r.name)}</span><span class="track">`
    + (r.back === undefined ? '' : `<span class="fill p99" style="width:${(r.back * 100).toFixed(1)}%"></span>`)
    + `<span class="fill" style="width:${(r.frac * 100).toFixed(1)}%"></span></span><span class="val">${r.value}</span></div>`).join('');
}

function renderTopics(s, prev, dt) {
  const before = new Map((prev?.topics ?? []).map((t) => [t.topic, t.published]));
  const rows = s.topics.filter((t) => t.topic !== STATS)
    .map((t) => ({ name: t.topic, rate: dt > 0 ? (t.published - (before.get(t.topic) ?? t.published)) / dt : 0, total: t.published }))
    .sort((a, b) => b.rate - a.rate || b.total - a.total).slice(0, 12);
  const max = Math.max(1, ...rows.map((r) => r.rate));
  bars($('topics'), rows.map((r) => ({ name: r.name, frac: r.rate / max, value: `${fmt(r.rate)}/s · ${fmt(r.total)}` })), 'no publishes yet');
}

function renderMethods(s) {
  const rows = [...s.rpc].sort((a, b) => b.calls - a.calls).slice(0, 12);
  const max = Math.max(1e-6, ...rows.map((r) => r.p99));
  bars($('methods'), rows.map((r) => ({ name: `${r.method} (${fmt(r.calls)}${r.errors ? `, ${r.errors} err` : ''})`,
    frac: r.p50 / max, back: r.p99 / max, value: `${ms(r.p50)} · ${ms(r.p99)}` })), 'no calls yet');
}

function renderComponents(s) {
  const body = $('components').tBodies[0];
  const rows = [...s.components].sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
  body.innerHTML = rows.length === 0 ? '<tr><td colspan="6" class="empty">no named components</td></tr>' : rows.map((c) => `<tr>`
    + `<td>${esc(c.name)}</td><td class="${c.online ? 'online' : 'offline'}">${c.online ? '● online' : '○ offline'}</td>`
    + `<td>${c.since ? ago(c.since) : '–'}</td><td>${c.subscriptions.map((t) => `<span class="tag">${esc(t)}</span>`).join('')}</td>`
    + `<td>${c.exposed.map((t) => `<span class="tag">${esc(t)}</span>`).join('')}</td>`
    + `<td>${c.outbox}${c.online || !c.lastDelivered ? '' : ` · last delivery ${ago(c.lastDelivered)}`}</td></tr>`).join('');
}

function renderHealth(s) {
  const dl = (pairs) => pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  $('health').innerHTML = dl([
    ['slow consumers cut', s.wire.slowConsumersCut], ['replays', s.wire.replays], ['congested links', s.stats.congested ?? 0],
    ['paused publishers', s.stats.pausedPublishers ?? 0], ['log buffered', s.stats.logBuffered ?? 0],
    ['storage', s.storage.ok ? `ok (${s.storage.flushes} flushes)` : s.storage.error], ['heap', bytes(s.memory.heapUsed)],
  ]);
  const sc = s.stats.schema;
  $('schema').innerHTML = sc ? dl([['rows written', sc.persisted], ['rows dropped', sc.dropped], ['rejected', sc.rejected],
    ['batches', sc.batches], ['pending rows', sc.pendingRows]]) : '<dt class="empty">no schema on this broker</dt>';
}

function showLogin(message) {
  $('login').hidden = false;
  $('board').hidden = true;
  $('login-error').textContent = message ?? '';
}

$('login-open').addEventListener('click', () => showLogin());
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('login-name').value.trim();
  start(name, $('login-secret').value).then(() => {
    $('login').hidden = true;
    $('board').hidden = false;
  }, (err) => showLogin(err.message));
});

start().catch((err) => {
  window.dashboard.error = err.message;
  showLogin(`anonymous access refused: ${err.message}`);
});
