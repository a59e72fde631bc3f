import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageRing } from '../../src/store/message-ring.js';
import type { StoredMessage } from '../../src/store/types.js';

const msg = (recv: bigint, topic = 't', data: number[] = [0x80]): StoredMessage =>
  ({ recv, slot: null, qos: 0, uid: null, topic, data: Uint8Array.from(data) });
const recvs = (ms: StoredMessage[]): bigint[] => ms.map((m) => m.recv);
const ALL = { after: -1n, upTo: 2n ** 64n, limit: Infinity };

describe('MessageRing', () => {
  it('reads what a plain array would, for any appends, prunes and windows', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3000 }), topic: fc.string({ maxLength: 30 }),
        data: fc.uint8Array({ maxLength: 200 }), uid: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        slot: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 })), qos: fc.constantFrom(0, 0x10, 0x30, 0x50) }),
      fc.record({ kind: fc.constant('prune' as const), back: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ kind: fc.constant('read' as const), from: fc.integer({ min: -10, max: 12000 }),
        span: fc.integer({ min: 0, max: 12000 }), limit: fc.integer({ min: 0, max: 5000 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
      const ring = new MessageRing({ maxMessages: Infinity, maxBytes: Infinity });
      let model: StoredMessage[] = [];
      let next = 1n;
      for (const o of ops) {
        if (o.kind === 'append') {
          for (let i = 0; i < o.n; i++) {
            const m = { recv: next++, slot: o.slot, qos: o.qos, uid: o.uid, topic: o.topic, data: o.data };
            ring.append(m);
            model.push(m);
          }
        } else if (o.kind === 'prune') {
          const before = next - BigInt(o.back);
          expect(ring.prune(before)).toBe(model.filter((m) => m.recv < before).length);
          model = model.filter((m) => m.recv >= before);
        } else {
          const after = BigInt(o.from);
          const upTo = after + BigInt(o.span);
          const expected = model.filter((m) => m.recv > after && m.recv <= upTo).slice(0, o.limit);
          expect(ring.read({ after, upTo, limit: o.limit })).toEqual(expected.map((m) => ({ ...m, data: Uint8Array.from(m.data) })));
        }
        expect(ring.size).toBe(model.length);
        expect(ring.lastRecv).toBe(model.at(-1)?.recv ?? 0n);
      }
    }), { numRuns: 60 });
  });

  it('drops the oldest segment past maxMessages, counting what it dropped', () => {
    const ring = new MessageRing({ maxMessages: 5000, maxBytes: Infinity });
    for (let i = 1n; i <= 10_000n; i++) ring.append(msg(i));
    expect(ring.size).toBeLessThanOrEqual(5000);
    expect(ring.evicted + ring.size).toBe(10_000);
    const kept = recvs(ring.read(ALL));
    expect(kept.at(-1)).toBe(10_000n);
    expect(kept.length).toBe(ring.size);
    expect(kept[0]).toBe(10_001n - BigInt(ring.size)); // the newest, in order, no gap
  });

  it('drops the oldest segments past maxBytes and holds about that many bytes', () => {
    const ring = new MessageRing({ maxMessages: Infinity, maxBytes: 4 * 1024 * 1024 });
    const data = new Array<number>(1000).fill(7);
    for (let i = 1n; i <= 20_000n; i++) ring.append(msg(i, 'a/b', data));
    expect(ring.byteSize).toBeLessThanOrEqual(4 * 1024 * 1024 + 8 * 1024 * 1024); // at most one segment over
    expect(ring.evicted).toBeGreaterThan(10_000);
    expect(recvs(ring.read({ after: 19_998n, upTo: 20_000n, limit: 10 }))).toEqual([19_999n, 20_000n]);
  });

  it('copies the bytes it keeps: a reused input buffer does not change the log', () => {
    const ring = new MessageRing({ maxMessages: Infinity, maxBytes: Infinity });
    const data = Uint8Array.of(0x81, 0x01);
    ring.append({ ...msg(1n), topic: 'é/topic', data });
    data[1] = 0x02;
    expect(ring.read(ALL)).toEqual([{ ...msg(1n), topic: 'é/topic', data: Uint8Array.of(0x81, 0x01) }]);
  });
});

describe('MessageRing at its bound', () => {
  it('reuses the dropped segment: 100,000 messages through a 10,000-message ring allocate 3 segments', () => {
    const ring = new MessageRing({ maxMessages: 10_000, maxBytes: Infinity });
    for (let i = 1n; i <= 100_000n; i++) ring.append(msg(i, 'bench/telemetry', new Array<number>(100).fill(1)));
    expect(ring.allocated).toBe(3); // ⌈10,001 / 4,096⌉: then the oldest, dropped, is the next one filled
    expect(ring.size).toBeLessThanOrEqual(10_000);
    expect(ring.evicted + ring.size).toBe(100_000);
    expect(recvs(ring.read(ALL))).toEqual(Array.from({ length: ring.size }, (_, i) => 100_001n - BigInt(ring.size) + BigInt(i)));
  });

  it('a reused segment shows nothing of the entries it held before (uid, slot, expiry, bytes)', () => {
    const ring = new MessageRing({ maxMessages: 4096, maxBytes: Infinity });
    let recv = 1n;
    for (let i = 0; i < 4096; i++) {
      ring.append({ recv: recv++, slot: 7, qos: 0x10, uid: 99n, topic: 'old/topic', data: Uint8Array.of(1, 2, 3), expires: 5n });
    }
    for (let i = 0; i < 4097; i++) ring.append(msg(recv++, 'n', [0x80 + (i % 16)])); // the first segment is dropped, then reused
    expect(ring.allocated).toBe(2);
    const kept = ring.read(ALL);
    expect(kept.length).toBe(ring.size);
    for (const [i, m] of kept.entries()) {
      expect(m).toEqual(msg(m.recv, 'n', [0x80 + ((4097 - kept.length + i) % 16)]));
      expect('expires' in m).toBe(false);
    }
  });

  it('lets a larger-than-standard segment go instead of keeping it as the spare', () => {
    const ring = new MessageRing({ maxMessages: 1, maxBytes: Infinity });
    ring.append(msg(1n, 't', new Array<number>(600 * 1024).fill(9))); // A: its own 600 KiB arena
    ring.append(msg(2n)); // B; A is dropped and not kept
    ring.append(msg(3n, 't', new Array<number>(600 * 1024).fill(8))); // A would have fit: C is new; B dropped, kept
    ring.append(msg(4n)); // B again
    expect(ring.allocated).toBe(3);
    expect(recvs(ring.read(ALL))).toEqual([4n]);
  });
});
