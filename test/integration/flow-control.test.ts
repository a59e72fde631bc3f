/**
 * Flow control (BrokerOptions.flowControl): a subscriber that falls behind pauses a publisher
 * that feeds no one else instead of growing the broker's memory; one that reads nothing is cut
 * as a slow consumer and slows no one else meanwhile.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeCbor, encodeCbor, newMsgId } from '../../src/codec/index.js';
import type { PubMsg } from '../../src/protocol/messages.js';
import { collect, rawSubscriber, roundTrip, useScope, waitFor, warnRecorder } from './helpers.js';

const scope = useScope();
const PAYLOAD = 'x'.repeat(1000);
/** Well past what loopback socket buffers absorb, so the broker's own buffer must grow. */
const COUNT = 30_000;


describe('flow control', () => {
  it('pauses a publisher while its subscriber is behind, then delivers everything in order', async () => {
    const b = await scope.broker({ flowControl: { highWater: 256 * 1024, stallTimeout: 60_000, maxPause: 60_000 } });
    const sub = await rawSubscriber(scope, b, 'bulk');
    sub.pause();
    const pub = await scope.connect(b);
    let received = 0;
    b.messages$.subscribe(() => received++);
    for (let i = 0; i < COUNT; i++) pub.publish('bulk', i, PAYLOAD);
    await waitFor(() => b.stats().pausedPublishers === 1, { what: 'the publisher to be paused' });
    expect(b.stats().congested).toBe(1);
    // Paused: the broker stops taking publishes well before all of them are in.
    const atPause = received;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toBeLessThan(COUNT);
    expect(received - atPause).toBeLessThan(1000);
    sub.resume();
    await waitFor(() => sub.frames.length === COUNT + 1, { timeout: 20_000, what: `${COUNT} deliveries` });
    const order = sub.frames.slice(1).map((f) => ((decodeCbor(f as Uint8Array) as PubMsg).args[0]));
    expect(order).toEqual([...Array(COUNT).keys()]);
    await waitFor(() => b.stats().pausedPublishers === 0 && b.stats().congested === 0, { what: 'flow control to clear' });
  });

  it('cuts a stalled ** reader and counts it; an unrelated pair and the publisher\'s fast readers get everything', async () => {
    const logger = warnRecorder();
    const b = await scope.broker({ logger, flowControl: { stallTimeout: 300 } });
    const stuck = await rawSubscriber(scope, b, '**');
    stuck.pause(); // reads nothing from now on
    const [pubA, subA, pubB, fast1, fast2] = await scope.connectAll(b, 'pubA', 'subA', 'pubB', 'fast1', 'fast2');
    const got = { a: [] as unknown[], b1: [] as unknown[], b2: [] as unknown[] };
    subA.subscribe$('pair/a').subscribe((m) => got.a.push(m.args[0]));
    fast1.subscribe$('pair/b').subscribe((m) => got.b1.push(m.args[0]));
    fast2.subscribe$('pair/b').subscribe((m) => got.b2.push(m.args[0]));
    await roundTrip(subA, fast1, fast2);
    const chunk = new Uint8Array(4096);
    let sent = 0;
    // Kernel buffers absorb a few MiB before the broker holds anything: publish until the cut,
    // and a few rounds more to show that the pairs go on.
    for (let after = 0; after < 5 && sent < 100_000;) {
      for (let i = 0; i < 100; i++, sent++) {
        pubA.publish('pair/a', sent, chunk);
        pubB.publish('pair/b', sent, chunk);
      }
      await roundTrip(pubA, pubB);
      if (b.stats().slowConsumers > 0) after++;
    }
    expect(b.stats().slowConsumers).toBe(1);
    await roundTrip(subA, fast1, fast2);
    const all = [...Array(sent).keys()];
    expect(got.a).toEqual(all);
    expect(got.b1).toEqual(all);
    expect(got.b2).toEqual(all);
    const cut = logger.warnings.find((w) => w.msg.startsWith('slow consumer cut'));
    // The 300 ms deadline, or 8 MiB more parked with nothing written for a quarter of it (`stallBytes`).
    expect(cut?.msg).toMatch(/^slow consumer cut: nothing written for (300 ms|\d+ ms while 8388608 bytes more were parked)$/);
    expect(cut?.obj['buffered']).toBeLessThan(64 * 1024 * 1024); // maxBufferedBytes was never reached
    stuck.resume(); // a paused socket does not see its end
    await stuck.closedAt;
    expect(stuck.closeCode).toBe(1006); // dropped without a closing handshake
    await waitFor(() => b.stats().connections === 5 && b.stats().congested === 0, { what: 'the stuck link to be released' });
    expect(b.stats().pausedPublishers).toBe(0);
  }, 30_000);
});

/** Frames of 64 KiB the slow reader is sent. */
const COUNT_64K = 640;

describe('a slow reader that reads', () => {
  it('is not cut while it drains a backlog far larger than one stall deadline\'s worth', async () => {
    const b = await scope.broker({ flowControl: { highWater: 256 * 1024, stallTimeout: 1000 } });
    // About 10 MB/s: 16 frames of 64 KiB, then nothing until the next 100 ms tick. The broker's
    // backlog goes out in writes of several MiB, each taking longer than the stall deadline.
    const slow = new WebSocket(b.url!, { perMessageDeflate: false });
    scope.track({ close: () => slow.terminate() });
    await new Promise((resolve, reject) => { slow.once('open', resolve); slow.once('error', reject); });
    const subscribed = new Promise((resolve) => slow.once('message', resolve));
    slow.send(encodeCbor({ type: 'admin', id: newMsgId(), topic: 'bulk', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    await subscribed;
    let read = 0;
    let budget = 16;
    slow.on('message', () => {
      read++;
      if (--budget <= 0) slow.pause();
    });
    const refill = setInterval(() => { budget = 16; slow.resume(); }, 100);
    scope.track({ close: () => clearInterval(refill) });
    const [pub, fast] = await scope.connectAll(b, 'pub', 'fast');
    const fastGot = collect(fast.subscribe$('bulk'), COUNT_64K, { timeout: 20_000 });
    await roundTrip(fast);
    const chunk = new Uint8Array(65_536);
    for (let i = 0; i < COUNT_64K; i++) pub.publish('bulk', i, chunk); // 40 MiB, much faster than it reads
    await fastGot.done; // the publisher is not held back for the slow reader
    await waitFor(() => read === COUNT_64K || slow.readyState !== WebSocket.OPEN, { timeout: 30_000, what: 'the slow reader to read all' });
    expect(read).toBe(COUNT_64K);
    expect(b.stats().slowConsumers).toBe(0);
  }, 40_000);
});
