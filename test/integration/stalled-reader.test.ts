/**
 * A reader that stops reading (flow-control.ts: its frames are parked, then it is cut): what it
 * gets when it resumes before the cut, what the broker holds for it, and what it gets after it
 * is cut and comes back.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { LastReceived } from '../../src/index.js';
import type { Link } from '../../src/transport/link.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';
import { rawSubscriber, roundTrip, useScope, waitFor, warnRecorder } from './helpers.js';

const scope = useScope();

/** A named component whose link the test can stop reading (`link()` is its current one). */
async function pausable(b: Broker, name: string): Promise<{ c: Awaited<ReturnType<typeof scope.connect>>; link: () => Link }> {
  let current: Link | undefined;
  const c = await scope.connect(b, name, { dial: async (url: string) => (current = await dialWebSocket(url)) });
  return { c, link: () => current! };
}


describe('a reader that stops reading', () => {
  it('QoS1, named: stalls until its frames are parked, resumes before the cut, gets every message in order', async () => {
    const b = await scope.broker({ flowControl: { highWater: 64 * 1024, stallTimeout: 60_000, maxPause: 50 } });
    const { c: sub, link } = await pausable(b, 'stall-q1');
    const got: number[] = [];
    sub.subscribe$('q1/t').subscribe((m) => got.push(m.args[0] as number));
    const pub = await scope.connect(b, 'stall-q1-pub');
    await roundTrip(sub, pub);
    link().pause!();
    const N = 1500;
    const chunk = new Uint8Array(8192); // 12 MiB: more than loopback's socket buffers take
    const acked = Promise.all(Array.from({ length: N }, (_, i) => pub.publishAsync('q1/t', [i, chunk], { qos: 1 })));
    await waitFor(() => b.stats().congested === 1, { timeout: 20_000, what: 'the reader\'s link to be behind' });
    await new Promise((resolve) => setTimeout(resolve, 300)); // parked a while
    expect(b.stats().slowConsumers).toBe(0);
    link().resume!();
    await acked;
    await waitFor(() => new Set(got).size === N, { timeout: 30_000, what: `${N} deliveries` });
    // QoS1 may repeat a message (re-sent when its ACK was late), never skip or reorder one.
    const firsts = got.filter((v, i) => got.indexOf(v) === i);
    expect(firsts).toEqual([...Array(N).keys()]);
    expect(b.stats().slowConsumers).toBe(0);
    await waitFor(() => b.stats().congested === 0, { what: 'the link to drain' });
  }, 60_000);

  it('named and anonymous, both cut: the named one comes back and gets what is published after, in order', async () => {
    const logger = warnRecorder();
    const b = await scope.broker({ logger, flowControl: { highWater: 64 * 1024, stallTimeout: 300 } });
    const anon = await rawSubscriber(scope, b, 'cut/**');
    const { c: named, link } = await pausable(b, 'stall-named');
    const got: number[] = [];
    named.subscribe$('cut/t', { msgfrom: LastReceived }).subscribe((m) => got.push(m.args[0] as number));
    const pub = await scope.connect(b, 'stall-named-pub');
    await roundTrip(named, pub);
    anon.pause();
    const first = link();
    first.pause!();
    const chunk = new Uint8Array(8192);
    let i = 0;
    while (b.stats().slowConsumers < 2 && i < 20_000) {
      for (let k = 0; k < 50; k++) pub.publish('cut/t', i++, chunk);
      await roundTrip(pub);
    }
    expect(b.stats().slowConsumers).toBe(2);
    expect(logger.warnings.filter((w) => w.msg.startsWith('slow consumer cut')).length).toBe(2);
    first.resume!(); // reads again: sees its link cut, reconnects
    anon.resume();
    await anon.closedAt;
    expect(anon.closeCode).toBe(1006);
    await waitFor(() => link() !== first && b.stats().connections === 2, { timeout: 20_000, what: 'the named reader to reconnect' });
    await roundTrip(named);
    const from = i;
    for (let k = 0; k < 200; k++) pub.publish('cut/t', i++, chunk);
    await waitFor(() => got.at(-1) === i - 1, { timeout: 20_000, what: 'the messages published after it came back' });
    // Never out of order or twice; everything published after it came back.
    for (let k = 1; k < got.length; k++) expect(got[k]!).toBeGreaterThan(got[k - 1]!);
    expect(got.filter((v) => v >= from)).toEqual([...Array(200).keys()].map((k) => from + k));
  }, 60_000);

  it('during a fan-out of large messages holds at most maxBufferedBytes for it, and the fast reader gets all', async () => {
    const logger = warnRecorder();
    const max = 8 * 1024 * 1024;
    const b = await scope.broker({ logger, maxBufferedBytes: max, flowControl: { stallTimeout: 60_000 } });
    const stuck = await rawSubscriber(scope, b, '**');
    stuck.pause();
    const [pub, fast] = await scope.connectAll(b, 'big-pub', 'big-fast');
    let read = 0;
    fast.subscribe$('big/t').subscribe(() => read++);
    await roundTrip(fast);
    const N = 160;
    const big = new Uint8Array(512 * 1024); // 80 MiB in all
    for (let k = 0; k < N; k++) {
      pub.publish('big/t', k, big);
      if (k % 8 === 7) await roundTrip(pub);
    }
    await waitFor(() => read === N, { timeout: 40_000, what: `${N} large deliveries to the fast reader` });
    expect(b.stats().slowConsumers).toBe(1);
    const cut = logger.warnings.find((w) => w.msg.startsWith('slow consumer cut'));
    expect(cut?.msg).toBe(`slow consumer cut: more than ${max} bytes unread`);
    expect(cut?.obj['buffered']).toBeLessThanOrEqual(max + big.length + 64);
  }, 60_000);
});
