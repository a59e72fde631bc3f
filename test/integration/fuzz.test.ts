/**
 * Property-based fuzzing of a live broker over raw WebSockets: at least 100,000 generated and
 * mutated frames (see fuzz-frames.ts), in batches, over a few connections — replaced whenever
 * the broker closes one. After every batch the broker must still answer; at the end it must
 * still route publishes and RPCs between fresh components, hold no per-connection state for
 * the fuzz links, and its memory must have stayed bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeCbor } from '../../src/codec/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import { generateKeyPair } from '../../src/security/crypto.js';
import { memorySecurityStore } from '../../src/security/memory-store.js';
import { hostileFrames, type FuzzFrame } from './fuzz-frames.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** Stop after this many frames or this long, whichever comes first. */
const FRAMES = 100_000;
const TIME_LIMIT_MS = 60_000;
const BATCH = 500;
const SOCKETS = 4;
const MAX_PAYLOAD = 64 * 1024;

interface Counts { sent: number; text: number; binary: number; oversized: number; reopened: number; received: number }

/** A raw socket that sends whatever it is given and drops what it receives (counting it). */
async function openSocket(url: string, counts: Counts): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  ws.on('message', () => { counts.received++; });
  scope.track({ close: () => ws.terminate() });
  return ws;
}

describe('broker fuzz', () => {
  it('survives 100,000 hostile frames, then still serves with bounded memory', async () => {
    const keyed = generateKeyPair('ecdsa');
    const other = generateKeyPair('rsa');
    const b = await scope.broker({
      maxPayload: MAX_PAYLOAD, requestTimeout: 2_000, ackTimeout: 200, sendRetries: 2,
      security: memorySecurityStore({
        tenants: { '.': '1234', acme: '5678' }, admins: ['ops'],
        keys: { keyed: keyed.publicKey, secret: 'open sesame' }, topicAuth: { vault: ['alice'] },
      }),
      // Tenants are isolated: '.' open lets the anonymous drains and unkeyed names in.
      openTenants: ['.'],
    });
    const url = b.url!;
    const vocabulary = {
      names: ['alice', 'bob.acme', 'ops', 'keyed', 'secret', 'x.unknown', 'broker', ''],
      topics: ['t', 'vault', 'a/b', 'a/*', '**', '*', 'a/**', '__config__', 'rid', 'version', 'uptime', 'news/1'],
      pins: ['1234', '5678', '0000'], publicKeys: [keyed.publicKey, other.publicKey], maxPayload: MAX_PAYLOAD,
    };
    const counts: Counts = { sent: 0, text: 0, binary: 0, oversized: 0, reopened: 0, received: 0 };

    // Drains: a CBOR and a JSON subscriber of everything, so every publish is fanned out and re-encoded.
    const cborDrain = await openSocket(url, counts);
    for (const topic of ['**', '*']) {
      cborDrain.send(encodeCbor({ type: 'admin', id: newMsgId(), topic, cmd: { cmd: 'subscribe', msg_from: 0 } }));
    }
    const jsonDrain = await openSocket(url, counts);
    for (const topic of ['**', '*']) {
      jsonDrain.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: topic, params: { type: 3, data: { cmd: 'subscribe', msg_from: 0 } } }));
    }
    const probe = await scope.connect(b);
    await roundTrip(probe);

    const sockets: WebSocket[] = [];
    const socket = async (i: number): Promise<WebSocket> => {
      const ws = sockets[i];
      if (ws !== undefined && ws.readyState === WebSocket.OPEN) return ws;
      ws?.terminate();
      if (ws !== undefined) counts.reopened++;
      return (sockets[i] = await openSocket(url, counts));
    };
    // A throw escaping the broker would kill a real process; here it must fail the property.
    const escaped: unknown[] = [];
    const onEscape = (err: unknown): void => { escaped.push(err); };
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    scope.track({ close: () => { process.off('uncaughtException', onEscape); process.off('unhandledRejection', onEscape); } });
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();

    const details = await fc.check(fc.asyncProperty(fc.array(hostileFrames(vocabulary), { minLength: BATCH, maxLength: BATCH }),
      async (frames: FuzzFrame[]) => {
        for (let i = 0; i < frames.length; i++) {
          const frame = frames[i]!;
          const ws = await socket(i % SOCKETS);
          ws.send(frame, { binary: typeof frame !== 'string' });
          counts.sent++;
          if (typeof frame === 'string') counts.text++;
          else if (frame.length > MAX_PAYLOAD) counts.oversized++;
          else counts.binary++;
        }
        // Bounded client memory: every frame has left before the next batch.
        await waitFor(() => sockets.every((ws) => ws.readyState !== WebSocket.OPEN || ws.bufferedAmount === 0),
          { timeout: 10_000, interval: 2, what: 'the fuzz frames to be written' });
        // The broker still answers, nothing escaped it, and it holds no more links than the fuzzer opened.
        expect(await probe.rpc('rid')).toBe('broker');
        if (escaped.length > 0) {
          throw new Error(`${escaped.length} error(s) escaped the broker: ${escaped.slice(0, 3).map(String).join('; ').slice(0, 500)}`);
        }
        expect(b.stats().connections).toBeLessThanOrEqual(SOCKETS + counts.reopened + 3);
      }), {
      numRuns: FRAMES / BATCH, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true,
      // Replay a failure: REMBUS_FUZZ_SEED and REMBUS_FUZZ_PATH from the failure message.
      ...(process.env['REMBUS_FUZZ_SEED'] === undefined ? {} : { seed: Number(process.env['REMBUS_FUZZ_SEED']) }),
      ...(process.env['REMBUS_FUZZ_PATH'] === undefined ? {} : { path: process.env['REMBUS_FUZZ_PATH'] }),
    });
    if (details.failed) {
      // The failing batch is 500 frames of binary: report how to replay it, not the frames.
      throw new Error(`fuzz failed after ${counts.sent} frames (REMBUS_FUZZ_SEED=${details.seed} `
        + `REMBUS_FUZZ_PATH=${details.counterexamplePath ?? ''}): ${String(details.errorInstance)}`, { cause: details.errorInstance });
    }

    const elapsed = Date.now() - started;
    const stats = b.stats();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.info(`fuzz: ${counts.sent} frames (${counts.binary} binary, ${counts.text} text, ${counts.oversized} oversized) `
      + `in ${elapsed} ms; ${counts.reopened} links closed by the broker and reopened; ${counts.received} frames back; `
      + `stats ${JSON.stringify(stats)}; rss +${(rssGrowth / 2 ** 20).toFixed(0)} MiB`);
    expect(counts.sent).toBeGreaterThanOrEqual(elapsed < TIME_LIMIT_MS ? FRAMES : BATCH);

    // Normal traffic between fresh components, on names and topics the fuzzer never uses.
    const tag = globalThis.crypto.randomUUID();
    const [pub, sub, srv] = await scope.connectAll(b, `pub-${tag}`, `sub-${tag}`, `srv-${tag}`);
    const got = collect(sub.subscribe$(`after/${tag}`), 1);
    srv.expose(`add-${tag}`, (x: number, y: number) => x + y);
    await roundTrip(sub, srv);
    pub.publish(`after/${tag}`, 'still here');
    expect((await got.done)[0]!.args).toEqual(['still here']);
    expect(await pub.rpc(`add-${tag}`, 2, 3)).toBe(5);

    // Bounded state: the broker's queues stayed small, and what the fuzz links held goes with them.
    expect(stats.outboxed).toBeLessThan(50_000);
    expect(stats.held).toBeLessThan(50_000);
    expect(stats.logBuffered).toBeLessThan(200_000);
    expect(rssGrowth).toBeLessThan(768 * 2 ** 20);
    for (const ws of [...sockets, cborDrain, jsonDrain]) ws.terminate();
    await Promise.all([pub.close(), sub.close(), srv.close()]);
    await waitFor(() => {
      const s = b.stats();
      return s.connections === 1 && s.pendingRpcs === 0 && s.outboxed === 0 && s.held === 0;
    }, { timeout: 5_000, what: `the fuzz links' state to be released: ${JSON.stringify(b.stats())}` });
  }, 180_000);
});
