/**
 * The LMDB log's packed record: every field survives a round trip at its edges (null and
 * maximal uid and slot, small payloads copied by loop and large ones by `set`, repeated and
 * non-ASCII topics), the layout is the documented one, byte for byte, and records of the
 * previous layout (version 1) still read.
 */
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../src/store/lmdb/log-record.js';
import type { StoredMessage } from '../../src/store/types.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (k * 31 + seed) & 255);

describe('log record', () => {
  it('round-trips every field at its edges', () => {
    const rows: StoredMessage[] = Array.from({ length: 300 }, (_, i) => ({
      recv: 1_700_000_000_000_000_000n + BigInt(i * 7),
      slot: i % 3 === 0 ? null : i % 3 === 1 ? 0 : 0xffff_ffff - i,
      qos: [0, 1, 2, 0x10, 0x12][i % 5]!,
      uid: i % 2 === 0 ? null : i % 4 === 1 ? 0n : 2n ** 64n - 1n - BigInt(i),
      topic: i % 11 === 0 ? `città/${'x'.repeat(80)}/è` : `site${i % 10}/dn${i % 100}/telemetry`,
      data: bytes([0, 1, 63, 64, 65, 1000][i % 6]!, i),
    }));
    const record = decodeRecord(encodeRecord(rows));
    expect(record.first).toBe(rows[0]!.recv);
    expect(record.last).toBe(rows.at(-1)!.recv);
    expect(record.rows).toEqual(rows);
  });

  it('sizes text by its UTF-8 bytes: 4-byte characters, lone surrogates (U+FFFD), origins and expiries', () => {
    const rows: StoredMessage[] = [
      { recv: 1n, slot: null, qos: 0, uid: null, topic: '𝄞/'.repeat(50), data: bytes(3, 1) },
      { recv: 2n, slot: 5, qos: 0x10, uid: 9n, topic: 'a/\ud800/b', data: new Uint8Array(0), origin: 'é\udc00' },
      { recv: 3n, slot: null, qos: 0, uid: null, topic: 'x', data: bytes(70, 3), expires: 2n ** 63n, retain: true, origin: '' },
    ];
    const out = encodeRecord(rows);
    const back = decodeRecord(out).rows;
    expect(back[0]).toEqual(rows[0]);
    expect(back[1]).toEqual({ ...rows[1], topic: 'a/\ufffd/b', origin: 'é\ufffd', expires: null });
    expect(back[2]).toEqual(rows[2]);
    // The record is cut to what was written: 13 head bytes, 30 fixed per row, the texts' UTF-8, data, expiry.
    const utf8 = (t: string): number => Buffer.byteLength(t, 'utf8');
    expect(out.byteLength).toBe(13 + 3 * 30 + utf8(rows[0]!.topic) + 3 + utf8('a/\ud800/b') + 4 + utf8('é\udc00') + 1 + 70 + 8 + 4);
  });

  it('writes short topics that turn non-ASCII late, at 0x7f/0x80 and around the 64-character cut, as UTF-8', () => {
    const topics = ['a'.repeat(63) + 'é', 'a'.repeat(64), 'a'.repeat(65), 'x\u007f', 'x\u0080', `${'b'.repeat(40)}€`, '', 'ü'];
    const rows: StoredMessage[] = topics.map((topic, i) => ({ recv: BigInt(i + 1), slot: null, qos: 0, uid: null, topic, data: bytes(i, i) }));
    const out = encodeRecord(rows);
    expect(decodeRecord(out).rows.map((m) => m.topic)).toEqual(topics);
    expect(out.byteLength).toBe(13 + rows.length * 30 + topics.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0) + rows.reduce((n, m) => n + m.data.length, 0));
  });

  it('writes the documented layout (version 2: little-endian, zeros for absent uid and slot, both lengths before topic and data)', () => {
    const bytesOut = encodeRecord([{ recv: 0x0102030405060708n, slot: null, qos: 1, uid: null, topic: 'a/b', data: Uint8Array.of(9, 8) }]);
    expect([...bytesOut]).toEqual([
      2, 1, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, // version, count, last recv
      8, 7, 6, 5, 4, 3, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // recv, qos, has, uid, slot
      3, 0, 0, 0, 2, 0, 0, 0, 0x61, 0x2f, 0x62, 9, 8, // topic bytes, data bytes, topic, data
    ]);
  });

  it('packs the rows [from, to) of a batch, and only those', () => {
    const rows: StoredMessage[] = Array.from({ length: 5 }, (_, i) => ({ recv: BigInt(10 + i), slot: null, qos: 0, uid: null, topic: `t/${i}`, data: bytes(i, i) }));
    const record = decodeRecord(encodeRecord(rows, 1, 4));
    expect(record.first).toBe(11n);
    expect(record.last).toBe(13n);
    expect(record.rows).toEqual(rows.slice(1, 4));
  });

  it('reads the version 1 layout an older broker wrote (data length between topic and data), options included', () => {
    const v1 = Buffer.from([
      1, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, // version 1, count 2, last recv 9
      8, 0, 0, 0, 0, 0, 0, 0, 0x10, 3, 5, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, // recv 8, qos 0x10, uid 5, slot 7
      3, 0, 0, 0, 0x61, 0x2f, 0x62, 2, 0, 0, 0, 9, 8, // topic 'a/b', data [9, 8]
      9, 0, 0, 0, 0, 0, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // recv 9, expires + retain + origin
      1, 0, 0, 0, 0x78, 0, 0, 0, 0, // topic 'x', no data
      1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x70, // expires 1, origin 'p'
    ]);
    const record = decodeRecord(new Uint8Array(v1));
    expect(record.first).toBe(8n);
    expect(record.last).toBe(9n);
    expect(record.rows).toEqual([
      { recv: 8n, slot: 7, qos: 0x10, uid: 5n, topic: 'a/b', data: Uint8Array.of(9, 8) },
      { recv: 9n, slot: null, qos: 0, uid: null, topic: 'x', data: new Uint8Array(0), expires: 1n, retain: true, origin: 'p' },
    ]);
  });

  it('refuses a record of an unknown version', () => {
    const out = Buffer.from(encodeRecord([{ recv: 1n, slot: null, qos: 0, uid: null, topic: 'a', data: bytes(1, 1) }]));
    out[0] = 3;
    expect(() => decodeRecord(out)).toThrow(/unknown log record version 3/);
  });
});
