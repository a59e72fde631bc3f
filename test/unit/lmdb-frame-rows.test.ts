/**
 * The durable log packs a publish read in place (a FrameRow) straight from its frame: topic and
 * args are one run of bytes there and in the LMDB record (version 2). What a replay reads back,
 * from LMDB and after the store is reopened, must be what the plain row of the same publish
 * gives — for any topic (every text head width, non-ASCII, bytes that are not UTF-8), any frame
 * offset in its socket chunk, rows read in place mixed with plain rows and rows with publish
 * options in one record — and the record must keep no view of the frame: its socket chunk is
 * reused after the commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/index.js';
import { decodeLazyPub } from '../../src/codec/lazy-pub.js';
import { FrameRow } from '../../src/store/frame-row.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import type { Store, StoredMessage } from '../../src/store/types.js';
import { pubFlags, topicName, unsignedValue } from './cbor-arbitraries.js';

const dir = mkdtempSync(join(tmpdir(), 'rembus-lmdb-frame-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const MAX_U64 = 2n ** 64n - 1n;

/** `bytes` as a view at `offset` of a larger buffer, as a socket chunk holds a frame. */
function inChunk(bytes: Uint8Array, offset: number): Uint8Array {
  const chunk = Buffer.alloc(offset + bytes.length + 7, 0xee);
  chunk.set(bytes, offset);
  return chunk.subarray(offset, offset + bytes.length);
}

function frameRow(recv: bigint, msg: Parameters<typeof encodeCbor>[0], offset: number, slot: number | null = null): FrameRow {
  const pub = decodeLazyPub(inChunk(encodeCbor(msg), offset));
  expect(pub).toBeDefined();
  return new FrameRow(recv, slot, pub!.flags & 0xf0, pub!.id ?? null, pub!.topic, pub!.frame, pub!.textAt, pub!.argsAt);
}

/** A row as a plain object, its data copied: what must come back. */
const plain = (m: StoredMessage): StoredMessage => ({
  recv: m.recv, slot: m.slot, qos: m.qos, uid: m.uid, topic: m.topic, data: new Uint8Array(m.data),
  ...(m.expires == null ? {} : { expires: m.expires }), ...(m.retain === true ? { retain: true } : {}),
  ...(m.origin === undefined ? {} : { origin: m.origin }),
});

async function readAll(store: Store): Promise<StoredMessage[]> {
  return (await store.readMessages({ after: 0n, upTo: MAX_U64, limit: 1_000_000 })).map(plain);
}

describe('FrameRow in the LMDB log', () => {
  it('reads back the routed topic and the publisher\'s args bytes, mixed with plain rows, after a reopen too', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ topic: topicName, args: fc.array(unsignedValue, { maxLength: 3 }), flags: pubFlags,
        offset: fc.nat(100), framed: fc.boolean(), slot: fc.option(fc.nat(0xffff_ffff)), expires: fc.boolean() }),
      { minLength: 1, maxLength: 8 }),
      async (items) => {
        const path = join(dir, `p${files++}`, 'broker.lmdb');
        const rows: StoredMessage[] = items.map(({ topic, args, flags, offset, framed, slot, expires }, i) => {
          const msg = { type: 'pub' as const, flags, topic, args, ...((flags & 0x70) === 0 ? {} : { id: BigInt(i + 1) }) };
          const row = frameRow(BigInt(i + 1), msg, offset, slot);
          if (framed && !expires) return row;
          // The plain row of the same publish; with an expiry it is a row with publish options.
          return { ...plain(row), ...(expires ? { expires: BigInt(i) * 1000n, origin: `o${i}` } : {}) };
        });
        const expected = rows.map(plain);
        let store = await openLmdbStore({ path });
        try {
          await store.commit({ messages: rows, twins: [] });
          // The socket chunks are reused: nothing read back may come from them.
          for (const m of rows) if (m instanceof FrameRow) (m.frame as Uint8Array).fill(0xa5);
          expect(await readAll(store)).toEqual(expected);
          await store.close();
          store = await openLmdbStore({ path });
          expect(await readAll(store)).toEqual(expected);
          expect(await store.lastRecv()).toBe(BigInt(rows.length));
        } finally {
          await store.close();
        }
      }), { numRuns: 60 });
  });

  it('stores a topic whose bytes are not UTF-8 as the string the broker routed', async () => {
    // [1, "a\x80\x80", [1]] and [1, "é\x80", 2]: U+FFFD for each stray byte, as topicText reads them.
    const frames = [[0x83, 0x01, 0x63, 0x61, 0x80, 0x80, 0x81, 0x01], [0x83, 0x01, 0x63, 0xc3, 0xa9, 0x80, 0x02]];
    const rows = frames.map((f, i) => {
      const pub = decodeLazyPub(inChunk(Uint8Array.from(f), 3))!;
      return new FrameRow(BigInt(i + 1), null, 0, null, pub.topic, pub.frame, pub.textAt, pub.argsAt);
    });
    expect(rows.map((r) => [r.topic, r.topicInFrame])).toEqual([['a\uFFFD\uFFFD', true], ['é\uFFFD', false]]);
    const store = await openLmdbStore({ path: join(dir, `u${files++}`, 'broker.lmdb') });
    try {
      await store.commit({ messages: rows, twins: [] });
      expect((await readAll(store)).map((m) => [m.topic, [...m.data]])).toEqual([['a\uFFFD\uFFFD', [0x81, 0x01]], ['é\uFFFD', [0x02]]]);
    } finally {
      await store.close();
    }
  });

  it('splits a batch longer than one record into records of its rows, in order', async () => {
    const store = await openLmdbStore({ path: join(dir, `b${files++}`, 'broker.lmdb') });
    try {
      // Frames end to end in shared 64 KiB chunks, a few stray bytes apart, as a socket reader lays them.
      let chunk = Buffer.alloc(65_536);
      let used = 0;
      const rows = Array.from({ length: 4096 * 2 + 5 }, (_, i) => {
        const bytes = encodeCbor({ type: 'pub', flags: 0, topic: `site${i % 10}/dn${i % 100}/telemetry`, args: [i, 'x'.repeat(i % 300)] });
        if (used + bytes.length + 6 > chunk.length) { chunk = Buffer.alloc(65_536); used = 0; }
        used += i % 7;
        chunk.set(bytes, used);
        const pub = decodeLazyPub(chunk.subarray(used, used + bytes.length))!;
        used += bytes.length;
        return new FrameRow(BigInt(i + 1), null, 0, null, pub.topic, pub.frame, pub.textAt, pub.argsAt);
      });
      // Compared as text: a deep compare of 8,197 byte arrays is slow on a loaded box.
      const line = (m: StoredMessage): string => `${m.recv} ${m.qos} ${m.topic} ${Buffer.from(m.data).toString('hex')}`;
      const expected = rows.map(line);
      await store.commit({ messages: rows, twins: [] });
      for (const m of rows) (m.frame as Uint8Array).fill(0xa5);
      const back = await readAll(store);
      expect(back.length).toBe(expected.length);
      expect(back.map(line).join('\n')).toBe(expected.join('\n'));
      const window = await store.readMessages({ after: 4095n, upTo: 4098n, limit: 10 });
      expect(window.map((m) => m.recv)).toEqual([4096n, 4097n, 4098n]);
    } finally {
      await store.close();
    }
  });
});
