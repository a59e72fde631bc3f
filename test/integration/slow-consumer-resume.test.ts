/**
 * A named QoS0 reader cut as a slow consumer loses nothing (mark-ledger.ts): its mark goes back
 * to the last message whose frame the OS took, so it reads those from its old link after the
 * cut, and its replay on reconnect starts right after them — every message once, in order.
 * A named QoS2 reader cut the same way gets every message exactly once: what it read but could
 * not acknowledge is sent again and dropped as a duplicate by its QoS2 ids.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { memoryStore } from '../../src/broker/index.js';
import { component, LastReceived, type Component } from '../../src/index.js';
import type { Link } from '../../src/transport/link.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';
import { roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const chunk = new Uint8Array(8192); // loopback's socket buffers take MBs: a few thousand messages

/** A broker whose log keeps every message of a test, cutting a stalled reader 300 ms after it is behind. */
function stallingBroker(): Promise<Broker> {
  return scope.broker({ store: memoryStore({ maxMessages: 1_000_000, maxBytes: 512 * 1024 * 1024 }),
    flowControl: { highWater: 64 * 1024, stallTimeout: 300, maxPause: 50 } });
}

/**
 * A named component whose link the test can stop reading (`link()` is its current one), and what
 * it got on `topic`: subscribed before it logs in, so a replay at its login is seen too.
 */
async function pausable(b: Broker, name: string, topic: string, onMessage?: (got: number[], link: Link) => void):
  Promise<{ c: Component; link: () => Link; got: number[] }> {
  let current: Link | undefined;
  const c = scope.track(component(`${b.url!}/${name}`, { dial: async (url: string) => (current = await dialWebSocket(url)) }));
  const got: number[] = [];
  c.subscribe$(topic, { msgfrom: LastReceived }).subscribe((m) => {
    got.push(m.args[0] as number);
    onMessage?.(got, current!);
  });
  // One that stops reading at a message cannot answer a round trip after it.
  if (onMessage === undefined) await roundTrip(c);
  else await waitFor(() => got.length > 0, { timeout: 20_000, what: `${name}'s first message` });
  return { c, link: () => current!, got };
}

/** Every one of `0..n-1`, once, in order (got is printed short on failure). */
function expectAll(got: number[], n: number): void {
  const wrong = got.findIndex((v, k) => v !== k);
  expect({ length: got.length, firstWrong: wrong, around: wrong < 0 ? [] : got.slice(Math.max(0, wrong - 2), wrong + 3) })
    .toEqual({ length: n, firstWrong: -1, around: [] });
}

describe('a named QoS0 reader cut as a slow consumer', () => {
  it('stops reading under load, is cut, comes back: every message once, in order — twice', async () => {
    const b = await stallingBroker();
    const { link, got } = await pausable(b, 'resume-a', 'res/t');
    const pub = await scope.connect(b, 'resume-a-pub');
    let i = 0;
    for (let round = 1; round <= 2; round++) {
      const stalled = link();
      stalled.pause!();
      while (b.stats().slowConsumers < round && i < 40_000) {
        for (let k = 0; k < 50; k++) pub.publish('res/t', i++, chunk);
        await roundTrip(pub);
      }
      expect(b.stats().slowConsumers).toBe(round);
      stalled.resume!(); // reads what the OS took, sees its link cut, reconnects, is replayed the rest
      await waitFor(() => link() !== stalled && b.stats().connections === 2, { timeout: 20_000, what: 'the reader to reconnect' });
      for (let k = 0; k < 100; k++) pub.publish('res/t', i++, chunk);
      await waitFor(() => got.length >= i, { timeout: 30_000, what: `${i} messages (got ${got.length})` });
      await roundTrip(pub);
      expectAll(got, i);
    }
  }, 90_000);

  it('cut during its replay: the next replay goes on from the last message it read', async () => {
    const b = await stallingBroker();
    const first = await pausable(b, 'resume-b', 'rb/t');
    expect(first.got).toEqual([]);
    const pub = await scope.connect(b, 'resume-b-pub');
    await first.c.close();
    // QoS0 sent to a link still closing counts as delivered (README): publish once the broker saw it go.
    await waitFor(() => b.stats().connections === 1, { what: 'the reader to be offline' });
    // Offline, it misses 3,000 messages (24 MiB): its replay outgrows the socket buffers.
    const M = 3_000;
    for (let k = 0; k < M; k++) {
      pub.publish('rb/t', k, chunk);
      if (k % 50 === 49) await roundTrip(pub);
    }
    await roundTrip(pub);
    let stalled: Link | undefined;
    const again = await pausable(b, 'resume-b', 'rb/t', (got, link) => {
      if (got.length === 1) (stalled = link).pause!(); // stops reading at its first replayed message
    });
    await waitFor(() => b.stats().slowConsumers === 1, { timeout: 20_000, what: 'the reader to be cut during its replay' });
    expect(again.got.length).toBeLessThan(M);
    stalled!.resume!();
    await waitFor(() => again.got.length >= M, { timeout: 30_000, what: `${M} messages (got ${again.got.length})` });
    await roundTrip(pub);
    expectAll(again.got, M);
  }, 90_000);
});

describe('a named QoS2 reader cut as a slow consumer', () => {
  it('stops reading under QoS2 load, is cut, comes back: every message exactly once, in order', async () => {
    const b = await stallingBroker();
    const { link, got } = await pausable(b, 'resume-q2', 'q2/t');
    const pub = await scope.connect(b, 'resume-q2-pub');
    const big = new Uint8Array(64 * 1024); // 1,024 unacknowledged deliveries outgrow loopback's buffers
    const stalled = link();
    stalled.pause!();
    let i = 0;
    while (b.stats().slowConsumers < 1 && i < 4_000) {
      const acks: Promise<void>[] = [];
      for (let k = 0; k < 20; k++) acks.push(pub.publishAsync('q2/t', [i++, big], { qos: 2 }));
      await Promise.all(acks); // acknowledged: in the log, so the reader must get each once
    }
    expect(b.stats().slowConsumers).toBe(1);
    stalled.resume!();
    await waitFor(() => link() !== stalled && b.stats().connections === 2, { timeout: 20_000, what: 'the reader to reconnect' });
    for (let k = 0; k < 20; k++) await pub.publishAsync('q2/t', [i++, big], { qos: 2 });
    await waitFor(() => got.length >= i, { timeout: 30_000, what: `${i} messages (got ${got.length})` });
    await roundTrip(pub);
    expectAll(got, i);
  }, 90_000);
});
