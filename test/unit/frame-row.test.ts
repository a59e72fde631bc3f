/**
 * A publish read in place is logged as a FrameRow (src/store/frame-row.ts): the in-memory log
 * copies its topic and args from the frame in one move. What a replay reads back must be what
 * the plain row of the same publish gave: the topic string the broker routed, the args bytes
 * the publisher sent — before the commit (from the log's buffer) and after (from the ring), for
 * any topic (every text head width, non-ASCII, bytes that are not UTF-8) and any frame offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageLog } from '../../src/broker/message-log.js';
import { encodeCbor } from '../../src/codec/index.js';
import { decodeLazyPub, type LazyPub } from '../../src/codec/lazy-pub.js';
import { FrameRow } from '../../src/store/frame-row.js';
import { memoryStore } from '../../src/store/memory-store.js';
import type { Store, StoredMessage } from '../../src/store/types.js';
import type { Logger } from '../../src/types.js';
import { pubFlags, topicName, unsignedValue } from './cbor-arbitraries.js';
import { buffering } from './log-stores.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const ALL = { after: 0n, upTo: 2n ** 64n - 1n, limit: Infinity };

/** `bytes` as a view at `offset` of a larger buffer, as a socket chunk holds a frame. */
function inChunk(bytes: Uint8Array, offset: number): Uint8Array {
  const chunk = Buffer.alloc(offset + bytes.length + 7, 0xee);
  chunk.set(bytes, offset);
  return chunk.subarray(offset, offset + bytes.length);
}

const plain = (m: StoredMessage) => ({ topic: m.topic, data: [...m.data], qos: m.qos, uid: m.uid, slot: m.slot });

/** Log `pubs` over a memory store: buffered for its commits, or taken at once (`appendNow`). */
async function logged(pubs: LazyPub[], store: Store = memoryStore()): Promise<{ buffered: StoredMessage[]; committed: StoredMessage[] }> {
  const log = new MessageLog(store, 60_000, 1_000_000, quiet);
  try {
    for (const p of pubs) log.append(p, undefined);
    const buffered = await log.read(ALL);
    await log.flush();
    return { buffered, committed: await log.read(ALL) };
  } finally {
    await log.close();
  }
}

describe('FrameRow in the in-memory log', () => {
  it('reads back the routed topic and the publisher\'s args bytes, before and after the commit', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ topic: topicName, args: fc.array(unsignedValue, { maxLength: 3 }), flags: pubFlags,
        offset: fc.nat(100) }), { minLength: 1, maxLength: 6 }),
      async (items) => {
        const pubs = items.map(({ topic, args, flags, offset }, i) => {
          const msg = { type: 'pub' as const, flags, topic, args, ...((flags & 0x70) === 0 ? {} : { id: BigInt(i + 1) }) };
          const pub = decodeLazyPub(inChunk(encodeCbor(msg), offset));
          expect(pub).toBeDefined();
          return pub!;
        });
        const expected = pubs.map((p, i) => ({ topic: p.topic, data: [...p.argsBytes], qos: p.flags, uid: p.id ?? null, slot: null, i }))
          .map(({ i: _, ...row }) => row);
        const { buffered, committed } = await logged(pubs, buffering(memoryStore()));
        expect(buffered.every((m) => m instanceof FrameRow)).toBe(true);
        expect(buffered.map(plain)).toEqual(expected);
        expect(committed.map(plain)).toEqual(expected);
        expect(committed.map((m) => m.topic)).toEqual(items.map((it) => it.topic));
        // Taken at once: copied out of the frame in the same call, read back the same.
        const now = await logged(pubs);
        expect(now.buffered.some((m) => m instanceof FrameRow)).toBe(false);
        expect(now.buffered.map(plain)).toEqual(expected);
        expect(now.committed.map(plain)).toEqual(expected);
      }), { numRuns: 150 });
  });

  it('stores a topic whose bytes are not UTF-8 as the string the broker routed', async () => {
    // [1, "a\x80\x80", [1]] and [1, "é\x80", 2]: U+FFFD for each stray byte, as topicText reads them.
    const frames = [[0x83, 0x01, 0x63, 0x61, 0x80, 0x80, 0x81, 0x01], [0x83, 0x01, 0x63, 0xc3, 0xa9, 0x80, 0x02]];
    const pubs = frames.map((f) => decodeLazyPub(inChunk(Uint8Array.from(f), 3))!);
    expect(pubs.map((p) => p.topic)).toEqual(['a\uFFFD\uFFFD', 'é\uFFFD']);
    for (const store of [buffering(memoryStore()), memoryStore()]) {
      const { committed } = await logged(pubs, store);
      expect(committed.map((m) => [m.topic, [...m.data]])).toEqual([['a\uFFFD\uFFFD', [0x81, 0x01]], ['é\uFFFD', [0x02]]]);
    }
  });

  it('keeps no view of the frame in the ring: the frame\'s buffer may be reused after the commit', async () => {
    const frame = inChunk(encodeCbor({ type: 'pub', flags: 0, topic: 'plant/7', args: [1, 'x'] }), 10);
    const log = new MessageLog(buffering(memoryStore()), 60_000, 1_000_000, quiet);
    log.append(decodeLazyPub(frame)!, undefined);
    await log.flush();
    frame.fill(0);
    const [row] = await log.read(ALL);
    expect(row?.topic).toBe('plant/7');
    expect([...row!.data]).toEqual([0x82, 0x01, 0x61, 0x78]);
    await log.close();
  });

  it('copies the frame at append when the store takes rows at once: the buffer may be reused in the same turn', async () => {
    const frame = inChunk(encodeCbor({ type: 'pub', flags: 0, topic: 'plant/7', args: [1, 'x'] }), 10);
    const log = new MessageLog(memoryStore(), 60_000, 1_000_000, quiet);
    log.append(decodeLazyPub(frame)!, undefined);
    frame.fill(0);
    const [row] = await log.read(ALL);
    expect(row?.topic).toBe('plant/7');
    expect([...row!.data]).toEqual([0x82, 0x01, 0x61, 0x78]);
    await log.close();
  });
});
