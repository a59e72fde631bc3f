/**
 * Wildcard deliveries over a real WebSocket (spec §4.5–4.6: `[1, pattern, [topic, ...args]]`).
 * The broker's WebSocket links write a wildcard delivery from its parts, straight into the
 * link's write buffer (`Link.sendParts`, issue 20): the bytes a `ws` subscriber receives are
 * pinned against frames written by hand from the spec — every args shape the splice reads
 * (definite, indefinite, null, undefined, one bare value, 24+ elements), long and non-ASCII
 * topics, a frame past the write buffer's batch limit, bursts that outgrow a write buffer in one
 * turn — and a subscriber that stops reading (its deliveries parked as bytes) gets the same
 * bytes, in order, once it reads again.
 */
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/cbor.js';
import type { RawClient } from './helpers.js';
import { rawSubscriber, toHex, useScope, waitFor } from './helpers.js';

const scope = useScope();
const utf8 = new TextEncoder();

/** The CBOR head of major type `major` with argument `n`. */
function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
const text = (s: string): number[] => { const b = utf8.encode(s); return [...head(3, b.length), ...b]; };

/** A QoS0 PUB written by hand: `[1, topic, argsItem]`. */
const pubFrame = (topic: string, argsItem: number[]): Uint8Array => Uint8Array.from([0x83, 0x01, ...text(topic), ...argsItem]);
/** Its wildcard delivery written by hand: `[1, pattern, [topic, ...elements]]`. */
const delivery = (pattern: string, topic: string, elementsHead: number[], elements: number[]): Uint8Array =>
  Uint8Array.from([0x83, 0x01, ...text(pattern), ...elementsHead, ...text(topic), ...elements]);

async function frames(sub: RawClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await sub.nextHex(10_000));
  return out;
}

describe('wildcard delivery over WebSocket', () => {
  it('writes every args shape byte for byte as the spec reads it', async () => {
    const b = await scope.broker();
    const sub = await rawSubscriber(scope, b, 'w/**');
    const pub = await scope.raw(b);
    const long = `w/${'x'.repeat(100)}`;
    const wide = 'w/température/€';
    const many = Array.from({ length: 30 }, (_, i) => head(0, i)).flat(); // 31 elements: a two-byte array head
    const cases: [Uint8Array, Uint8Array][] = [
      [pubFrame('w/a', [0x82, 0x01, 0x61, 0x78]), delivery('w/**', 'w/a', [0x83], [0x01, 0x61, 0x78])],
      [pubFrame('w/indef', [0x9f, 0x01, 0x02, 0xff]), delivery('w/**', 'w/indef', [0x9f], [0x01, 0x02, 0xff])],
      [pubFrame('w/null', [0xf6]), delivery('w/**', 'w/null', [0x81], [])],
      [pubFrame('w/undef', [0xf7]), delivery('w/**', 'w/undef', [0x81], [])],
      [pubFrame('w/bare', [0x05]), delivery('w/**', 'w/bare', [0x82], [0x05])],
      [pubFrame('w/empty', [0x80]), delivery('w/**', 'w/empty', [0x81], [])],
      [pubFrame('w/many', [...head(4, 30), ...many]), delivery('w/**', 'w/many', head(4, 31), many)],
      [pubFrame(long, [0x81, 0x07]), delivery('w/**', long, [0x82], [0x07])],
      [pubFrame(wide, [0x81, 0x07]), delivery('w/**', wide, [0x82], [0x07])],
    ];
    for (const [frame] of cases) pub.sendBinary(frame);
    expect(await frames(sub, cases.length)).toEqual(cases.map(([, expected]) => toHex(expected)));
  });

  it('keeps every frame of a burst that outgrows the write buffer, and one past the batch limit', async () => {
    const b = await scope.broker();
    const sub = await rawSubscriber(scope, b, '*/*/*/telemetry');
    const pub = await scope.raw(b);
    const expected: string[] = [];
    const big = new Uint8Array(70_000).fill(0x61);
    for (let i = 0; i < 1_500; i++) {
      const topic = `site${i % 10}/type${i % 5}/dn${i}/telemetry`;
      // One args item of 70,000 bytes mid-burst: a frame `ws` writes itself, in its place.
      const arg = i === 700 ? [0x5a, 0x00, 0x01, 0x11, 0x70, ...big] : [...text(`reading ${i}`)];
      pub.sendBinary(pubFrame(topic, [0x82, ...head(0, i), ...arg]));
      expected.push(toHex(delivery('*/*/*/telemetry', topic, [0x83], [...head(0, i), ...arg])));
    }
    const got = await frames(sub, expected.length);
    for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) expect({ i, got: got[i] }).toEqual({ i, got: expected[i] });
  });

  it('gives a subscriber that stopped reading the same bytes, in order, once it reads again', async () => {
    const b = await scope.broker({ flowControl: { highWater: 64 * 1024, stallTimeout: 60_000, maxPause: 60_000 } });
    const sub = await rawSubscriber(scope, b, 'bulk/*');
    const other = await rawSubscriber(scope, b, 'bulk/*'); // keeps reading: the publisher is never paused
    sub.pause();
    const pub = await scope.connect(b);
    const payload = 'p'.repeat(1000);
    const expected: string[] = [];
    const publish = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const k = expected.length;
        const topic = `bulk/${k % 100}`;
        pub.publish(topic, k, payload);
        expected.push(toHex(encodeCbor({ type: 'pub', flags: 0, topic: 'bulk/*', args: [topic, k, payload] })));
      }
    };
    // Kernel buffers take a few MiB before the broker holds anything: publish until the link is
    // behind (its deliveries are then parked as bytes), then some more behind it.
    while (b.stats().congested === 0 && expected.length < 200_000) {
      publish(200);
      await waitFor(() => other.frames.length === expected.length + 1, { timeout: 20_000, what: 'the reading subscriber' });
    }
    expect(b.stats().congested).toBe(1);
    publish(500);
    sub.resume();
    const got = await frames(sub, expected.length);
    for (let i = 0; i < expected.length; i++) if (got[i] !== expected[i]) expect({ i, got: got[i] }).toEqual({ i, got: expected[i] });
    await waitFor(() => b.stats().congested === 0, { what: 'the link to drain' });
  });
});
