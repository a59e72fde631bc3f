/**
 * The wire meter counts a PUB's topic behind the broker's codec (src/http/meter.ts): by the
 * topic the decoder interned when it read the frame in place (the decode stage tells the link,
 * `Link.topicRead`), by its own reading of the head otherwise. Which frames count, and under which topic, must be exactly what the meter counts
 * reading every head itself (no decoder behind it, as before issue 20's change): canonical
 * frames, frames the lazy path refuses (type byte in two bytes, an extra element, an integer id,
 * malformed args), topics the head reader skips (≥ 256 bytes), RPCs and garbage in between.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/cbor.js';
import { WireCodec } from '../../src/codec/wire.js';
import { frameDecoder } from '../../src/broker/decode-frames.js';
import { silentLogger } from '../../src/internal/logger.js';
import { WireMeter } from '../../src/http/meter.js';
import type { Link } from '../../src/transport/link.js';
import { memoryLinkPair } from '../../src/transport/memory-link.js';
import { topicName, unsignedValue } from './cbor-arbitraries.js';

const utf8 = new TextEncoder();

/** The CBOR head of a text of `n` bytes. */
function textHead(n: number): number[] {
  if (n < 24) return [0x60 | n];
  if (n < 0x100) return [0x78, n];
  return [0x79, n >> 8, n & 0xff];
}
const text = (s: string): number[] => { const b = utf8.encode(s); return [...textHead(b.length), ...b]; };

/** One frame a peer might send, canonical or not. */
const frameOf = fc.oneof(
  // Canonical QoS0/1/2 PUBs, as every client sends them.
  fc.tuple(fc.constantFrom(0, 0x10, 0x30), topicName, fc.array(unsignedValue, { maxLength: 3 })).map(([flags, topic, args]) =>
    encodeCbor({ type: 'pub', flags, ...(flags === 0 ? {} : { id: 9n }), topic, args })),
  // A few recurring topics, so that the per-link "last topic" path is taken too.
  fc.constantFrom('a/b', 'c', 'café/€', 'x'.repeat(255), 'y'.repeat(256)).map((topic) =>
    encodeCbor({ type: 'pub', flags: 0, topic, args: [1] })),
  // The type byte in two bytes (0x18 0x01): still canonical for the head reader.
  fc.constantFrom('a/b', 'two/byte').map((t) => Uint8Array.from([0x83, 0x18, 0x01, ...text(t), 0x81, 0x01])),
  // An extra element: refused by the lazy path, read by the full decoder (or refused by it).
  fc.constantFrom('a/b', 'extra').map((t) => Uint8Array.from([0x84, 0x01, ...text(t), 0x80, 0x02])),
  // QoS1 with an integer id: not the canonical 8-byte string.
  fc.constantFrom('a/b', 'int-id').map((t) => Uint8Array.from([0x84, 0x11, 0x05, ...text(t), 0x80])),
  // Malformed args (truncated array), and a truncated topic.
  fc.constantFrom('a/b', 'broken').map((t) => Uint8Array.from([0x83, 0x01, ...text(t), 0x82, 0x01])),
  fc.constant(Uint8Array.from([0x83, 0x01, 0x6a, 0x61, 0x62])),
  // A PUB head with nothing after the topic, an indefinite outer array, RPCs and garbage.
  fc.constant(Uint8Array.from([0x83, 0x01, ...text('no/args')])),
  fc.constant(Uint8Array.from([0x9f, 0x01, ...text('a/b'), 0x80, 0xff])),
  fc.constant(encodeCbor({ type: 'rpc', id: 3n, topic: 'add', target: null, args: [1, 2] })),
  fc.uint8Array({ minLength: 1, maxLength: 12 }),
);

/** The broker's decode stage on `link`, as `broker.handle` sets it up; `onEach` after each frame is handled. */
function decoded(link: Link, onEach: () => void = () => undefined): void {
  link.frames$.subscribe(frameDecoder(new WireCodec(), silentLogger, { handle: onEach, topicRead: link.topicRead?.bind(link) }));
}

/** Feed `frames` through a fresh meter; `codec`: with the broker's decode stage behind it. */
function count(frames: readonly Uint8Array[], codec: boolean): { topics: Record<string, number>; publishesIn: number; framesIn: number } {
  const meter = new WireMeter(() => 0);
  const [peer, raw] = memoryLinkPair();
  const link = meter.wrap(raw);
  if (codec) decoded(link);
  else link.frames$.subscribe();
  for (const f of frames) peer.send(f);
  return { topics: Object.fromEntries([...meter.topics].map(([t, e]) => [t, e.published])), publishesIn: meter.publishesIn, framesIn: meter.framesIn };
}

describe('WireMeter behind the codec', () => {
  it('counts every frame under the same topic as the meter reading every head itself', () => {
    fc.assert(fc.property(fc.array(frameOf, { maxLength: 40 }), (frames) => {
      // Each frame as a view into a larger buffer, as a socket's reader hands them over.
      const views = frames.map((f) => { const b = Buffer.alloc(f.length + 8); b.set(f, 4); return b.subarray(4, 4 + f.length); });
      expect(count(views, true)).toEqual(count(views, false));
    }), { numRuns: 400 });
  });

  it('pins what is counted for the frames the lazy path refuses', () => {
    const frames = [
      Uint8Array.from([0x83, 0x18, 0x01, ...text('two/byte'), 0x80]),
      Uint8Array.from([0x84, 0x01, ...text('extra'), 0x80, 0x02]),
      Uint8Array.from([0x84, 0x11, 0x05, ...text('int-id'), 0x80]),
      Uint8Array.from([0x83, 0x01, ...text('broken'), 0x82, 0x01]),
      encodeCbor({ type: 'pub', flags: 0, topic: 'y'.repeat(256), args: [] }),
      encodeCbor({ type: 'pub', flags: 0, topic: 'ok', args: [] }),
    ];
    expect(count(frames, true)).toEqual({ topics: { 'two/byte': 1, extra: 1, broken: 1, ok: 1 }, publishesIn: 6, framesIn: 6 });
  });

  it('counts each frame by its own topic when the decoder reads another frame in between', () => {
    // Handling a frame of link A decodes one of link B at once (re-entrant), B not metered.
    const meter = new WireMeter(() => 0);
    const [peerA, rawA] = memoryLinkPair();
    const [peerB, b] = memoryLinkPair();
    const a = meter.wrap(rawA);
    decoded(b);
    decoded(a, () => peerB.send(encodeCbor({ type: 'pub', flags: 0, topic: 'echo', args: [] })));
    for (let i = 0; i < 3; i++) peerA.send(encodeCbor({ type: 'pub', flags: 0, topic: `in/${i}`, args: [i] }));
    expect(Object.fromEntries([...meter.topics].map(([t, e]) => [t, e.published]))).toEqual({ 'in/0': 1, 'in/1': 1, 'in/2': 1 });
  });

  it('counts each frame once when a frame of the same link arrives while one is handled', () => {
    // A frame the lazy path refuses (two-byte type) is handled; meanwhile the peer's next
    // frames (read in place) arrive on the same link; the outer one is counted by its bytes after.
    const meter = new WireMeter(() => 0);
    const [peer, raw] = memoryLinkPair();
    const link = meter.wrap(raw);
    let sent = false;
    decoded(link, () => {
      if (sent) return;
      sent = true;
      peer.send(encodeCbor({ type: 'pub', flags: 0, topic: 'inner/1', args: [] }));
      peer.send(Uint8Array.from([0x83, 0x18, 0x01, ...text('inner/odd'), 0x80]));
    });
    peer.send(Uint8Array.from([0x83, 0x18, 0x01, ...text('outer'), 0x80]));
    peer.send(encodeCbor({ type: 'pub', flags: 0, topic: 'after', args: [] }));
    expect(Object.fromEntries([...meter.topics].map(([t, e]) => [t, e.published])))
      .toEqual({ outer: 1, 'inner/1': 1, 'inner/odd': 1, after: 1 });
    expect(meter.publishesIn).toBe(4);
  });

  it('reads the bytes itself when the link it wraps is wrapped again without topicRead', () => {
    const meter = new WireMeter(() => 0);
    const [peer, raw] = memoryLinkPair();
    const metered = meter.wrap(raw);
    const outer: Link = { frames$: metered.frames$, send: (f) => metered.send(f), close: () => metered.close(),
      get isOpen() { return metered.isOpen; }, bufferedAmount: 0, remote: 'outer' };
    decoded(outer);
    peer.send(encodeCbor({ type: 'pub', flags: 0, topic: 'a/b', args: [1] }));
    peer.send(encodeCbor({ type: 'pub', flags: 0, topic: 'a/b', args: [2] }));
    expect(meter.topics.get('a/b')?.published).toBe(2);
  });

  it('stays right past the intern table: more distinct topics than it holds, long and non-ASCII ones', () => {
    const topics = Array.from({ length: 5_000 }, (_, i) => (i % 7 === 0 ? `é/${i}/température` : `site${i % 10}/dn${i}/telemetry`));
    const frames = topics.map((topic) => encodeCbor({ type: 'pub', flags: 0, topic, args: [] }));
    const viaCodec = count([...frames, ...frames], true);
    expect(viaCodec).toEqual(count([...frames, ...frames], false));
    expect(viaCodec.publishesIn).toBe(10_000);
    // 1,000 topics are counted by name, the rest under __other__ (MAX_TOPICS).
    expect(viaCodec.topics['__other__']).toBe(2 * 4_000);
    expect(viaCodec.topics['é/0/température']).toBe(2);
  });
});
