/**
 * Publisher flow control (BrokerOptions.flowControl): a subscriber that falls behind pauses the
 * publishers that feed it instead of growing the broker's memory; one that reads nothing is cut.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { decodeCbor } from '../../src/codec/index.js';
import type { PubMsg } from '../../src/protocol/messages.js';
import { collect, roundTrip, textHex, useScope, waitFor, type RawClient } from './helpers.js';

const scope = useScope();
const PAYLOAD = 'x'.repeat(1000);
/** Well past what loopback socket buffers absorb, so the broker's own buffer must grow. */
const COUNT = 30_000;

/** A raw CBOR subscriber of `topic` (anonymous), once the broker has confirmed it. */
async function rawSubscriber(b: Broker, topic: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  raw.sendBinary(`84 03 48 01 00 00 00 00 00 00 00 ${textHex(topic)} a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65`);
  expect(await raw.nextHex()).toMatch(/^84 04 48 01 00 00 00 00 00 00 00 00 f6$/);
  return raw;
}

describe('flow control', () => {
  it('pauses a publisher while its subscriber is behind, then delivers everything in order', async () => {
    const b = await scope.broker({ flowControl: { highWater: 256 * 1024, stallTimeout: 60_000, maxPause: 60_000 } });
    const sub = await rawSubscriber(b, 'bulk');
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

  it('closes a subscriber that reads nothing for stallTimeout and lets the publisher go on', async () => {
    const b = await scope.broker({ flowControl: { highWater: 256 * 1024, stallTimeout: 300, maxPause: 60_000 } });
    const stuck = await rawSubscriber(b, 'bulk');
    stuck.pause();
    const [pub, other] = await Promise.all([scope.connect(b), scope.connect(b)]);
    const got = collect(other.subscribe$('bulk'), COUNT, { timeout: 20_000 });
    await roundTrip(other);
    for (let i = 0; i < COUNT; i++) pub.publish('bulk', i, PAYLOAD);
    await waitFor(() => b.stats().pausedPublishers === 1, { what: 'the publisher to be paused' });
    await waitFor(() => b.stats().connections === 2, { what: 'the stuck subscriber to be dropped' });
    stuck.resume();
    await stuck.closedAt;
    expect(stuck.closeCode).toBe(1006); // dropped without a closing handshake
    expect((await got.done).map((m) => m.args[0])).toEqual([...Array(COUNT).keys()]);
    expect(b.stats().pausedPublishers).toBe(0);
  });
});
