/**
 * README "Slow consumers are cut" / "the broker holds at most `maxBufferedBytes` per link",
 * attacked by one link that floods: a QoS1 publisher that never stops and never reads its
 * ACKs, next to a subscriber that never reads. Against a real broker process with its default
 * durable store (LMDB in a temp dir); its memory is read from /proc (VmRSS), sampled through
 * the flood. The flood is bounded in time and in what the test process buffers itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeCbor, newMsgId } from '../../src/codec/index.js';
import { component, type Component } from '../../src/index.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';
import { waitFor } from './helpers.js';

const brokers: BrokerProcess[] = [];
const sockets: WebSocket[] = [];
const opened: Component[] = [];
let dir: string | undefined;

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(brokers.splice(0).map(kill));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Resident memory of a process now, MiB (/proc, not an estimate). */
function rssMiB(pid: number, field = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** A raw link to `url` that has sent `frames` (each awaited for its reply) and then reads nothing more. */
async function deafLink(url: string, frames: Uint8Array[]): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.on('error', () => undefined);
  for (const frame of frames) {
    const replied = new Promise((resolve) => ws.once('message', resolve));
    ws.send(frame);
    await replied;
  }
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  return ws;
}

interface Memory { rss: number; anon: number }

/**
 * Send `frame(n)` on `link` at full speed for 7 s or 200,000 frames (bounded: the test process
 * holds at most 4 MiB unsent), sampling the broker's memory (`pid`) between bursts.
 */
async function flood(link: WebSocket, pid: number, frame: (n: number) => Uint8Array):
  Promise<{ sent: number; ms: number; before: Memory; peak: Memory }> {
  const before = { rss: rssMiB(pid), anon: rssMiB(pid, 'RssAnon') };
  const peak = { ...before };
  let sent = 0;
  const started = Date.now();
  while (Date.now() - started < 7_000 && sent < 200_000 && link.readyState === WebSocket.OPEN) {
    while (link.bufferedAmount < 4 * 2 ** 20 && link.readyState === WebSocket.OPEN) link.send(frame(sent++));
    await new Promise((r) => setTimeout(r, 5));
    peak.rss = Math.max(peak.rss, rssMiB(pid));
    peak.anon = Math.max(peak.anon, rssMiB(pid, 'RssAnon'));
  }
  return { sent, ms: Date.now() - started, before, peak };
}

describe('one link floods a broker process', () => {
  it('a QoS2 publisher that never stops, reads nothing, never sends ACK2; a subscriber that reads nothing: memory stays bounded', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-flood-'));
    const broker = await startBroker(dir, await freePort());
    brokers.push(broker);
    const pid = broker.child.pid!;
    await deafLink(broker.url, [encodeCbor({ type: 'identity', id: newMsgId(), cid: 'stuck' }),
      encodeCbor({ type: 'admin', id: newMsgId(), topic: 'flood', cmd: { cmd: 'subscribe', msg_from: 0 } })]);
    const flooder = await deafLink(broker.url, [encodeCbor({ type: 'identity', id: newMsgId(), cid: 'flooder' })]);
    const payload = new Uint8Array(2048).fill(7);
    // Every QoS2 id stays in the flooder's set (no ACK2), every ACK waits unread, every delivery to `stuck` too.
    const { sent, ms, before, peak } = await flood(flooder, pid,
      (n) => encodeCbor({ type: 'pub', flags: 0x30, id: newMsgId(), topic: 'flood', args: [n, payload] }));
    const stderr = broker.stderr();
    const figures = `${sent} QoS2 publishes (${(sent * 2 / 1024).toFixed(0)} MiB) of 2 KiB in ${ms} ms; broker RssAnon ${before.anon.toFixed(0)} → peak `
      + `${peak.anon.toFixed(0)} MiB, VmRSS ${before.rss.toFixed(0)} → ${peak.rss.toFixed(0)} MiB (the rest is LMDB's file pages)`;
    console.log(figures);
    // Nothing failed on the way (a cut of `stuck`, by its 2 s write deadline, may or may not
    // have come yet: slow-consumer-process.test.ts proves the cuts).
    expect(stderr).not.toMatch(/"level":50/);
    // What the broker may hold: `stuck`'s outbox, 10,000 messages of ~2 KiB (20 MiB), and its
    // parked bytes until its cut (1 MiB + stallBytes 8 MiB, at most maxBufferedBytes 64 MiB);
    // the flooder's QoS2 set, 100,000 ids (~10 MiB), and its unread ACKs; then the heap's slack.
    // Holding per message would grow by the frames sent (about 200 MiB on a quiet box; held
    // here: +60–90 MiB, not growing with a longer flood).
    expect(sent).toBeGreaterThan(20_000);
    expect(peak.anon - before.anon, figures).toBeLessThan(128);
    // A well-behaved component is served meanwhile.
    const probe = component(`${broker.url}/probe`);
    opened.push(probe);
    expect(await probe.rpc('rid')).toBe('broker');
  }, 30_000);

  it('a caller that never stops calling an exposer that reads nothing: memory stays bounded, the exposer is cut', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-flood-'));
    const broker = await startBroker(dir, await freePort());
    brokers.push(broker);
    const pid = broker.child.pid!;
    await deafLink(broker.url, [encodeCbor({ type: 'identity', id: newMsgId(), cid: 'deaf-server' }),
      encodeCbor({ type: 'admin', id: newMsgId(), topic: 'work', cmd: { cmd: 'expose' } })]);
    const caller = await deafLink(broker.url, [encodeCbor({ type: 'identity', id: newMsgId(), cid: 'caller' })]);
    const payload = new Uint8Array(1024).fill(7);
    const { sent, ms, before, peak } = await flood(caller, pid,
      (n) => encodeCbor({ type: 'rpc', id: newMsgId(), topic: 'work', target: null, args: [n, payload] }));
    const figures = `${sent} calls of 1 KiB in ${ms} ms; broker RssAnon ${before.anon.toFixed(0)} → peak `
      + `${peak.anon.toFixed(0)} MiB, VmRSS ${before.rss.toFixed(0)} → ${peak.rss.toFixed(0)} MiB`;
    console.log(figures);
    // 200 MiB of calls for a reader of none: it is cut (stallBytes or the write deadline) rather
    // than the broker holding them; its callers' pending calls end with it.
    await waitFor(() => /"cid":"deaf-server".*slow consumer cut/.test(broker.stderr()), { timeout: 5_000, interval: 20, what: 'the deaf exposer cut' });
    expect(sent).toBeGreaterThan(20_000);
    expect(peak.anon - before.anon, figures).toBeLessThan(96);
    const probe = component(`${broker.url}/probe`);
    opened.push(probe);
    expect(await probe.rpc('rid')).toBe('broker');
  }, 30_000);
});
