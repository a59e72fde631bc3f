/**
 * Rembus TCP framing (spec §1.4): header choice at the size boundaries, byte-exact headers as
 * Rembus.jl writes them, any chunking of the stream, bad header bytes and oversized lengths.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { encodeFrame, encodeFrames, FrameDecoder, frameHeaderSize } from '../../src/transport/tcp-framing.js';

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('tcp framing', () => {
  it('writes Rembus.jl headers: 0x81 + 1 byte, 0x8D + 2 bytes BE, 0x8F + 4 bytes BE', () => {
    expect([...encodeFrame(Uint8Array.of(0xaa)).subarray(0, 2)]).toEqual([0x81, 1]);
    expect([...encodeFrame(bytes(255)).subarray(0, 2)]).toEqual([0x81, 255]);
    expect([...encodeFrame(bytes(256)).subarray(0, 3)]).toEqual([0x8d, 1, 0]);
    expect([...encodeFrame(bytes(65_535)).subarray(0, 3)]).toEqual([0x8d, 0xff, 0xff]);
    expect([...encodeFrame(bytes(65_536)).subarray(0, 5)]).toEqual([0x8f, 0, 1, 0, 0]);
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0x81, 0]);
    for (const n of [0, 255, 256, 65_535, 65_536]) expect(encodeFrame(bytes(n)).length).toBe(frameHeaderSize(n) + n);
  });

  it('round-trips frames at every boundary size', () => {
    const payloads = [0, 1, 255, 256, 65_535, 65_536, 100_000].map((n) => bytes(n, n));
    const out = new FrameDecoder(1 << 20).push(encodeFrames(payloads));
    expect(out.map((p) => [...p])).toEqual(payloads.map((p) => [...p]));
  });

  it('reassembles frames split at every byte, and merged several to a chunk', () => {
    const payloads = [bytes(3), bytes(300, 5), bytes(0), bytes(70_000, 9), bytes(1)];
    const stream = encodeFrames(payloads);
    for (const size of [1, 2, 3, 4, 5, 7, 1000, 65_537, stream.length]) {
      const decoder = new FrameDecoder(1 << 20);
      const got: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += size) got.push(...decoder.push(stream.subarray(at, at + size)));
      expect(got.map((p) => p.length), `chunks of ${size}`).toEqual(payloads.map((p) => p.length));
      expect(Buffer.concat(got).equals(Buffer.concat(payloads)), `chunks of ${size}`).toBe(true);
      expect(decoder.pending).toBe(0);
    }
  });

  it('holds an incomplete frame until the rest arrives', () => {
    const decoder = new FrameDecoder(1024);
    const frame = encodeFrame(bytes(10));
    expect(decoder.push(frame.subarray(0, 1))).toEqual([]);
    expect(decoder.push(frame.subarray(1, 5))).toEqual([]);
    expect(decoder.pending).toBe(3);
    expect(decoder.push(frame.subarray(5)).map((p) => p.length)).toEqual([10]);
  });

  it('refuses a bad header byte at once, also after good frames in the same chunk', () => {
    expect(() => new FrameDecoder(1024).push(Uint8Array.of(0x82))).toThrow(ProtocolError);
    expect(() => new FrameDecoder(1024).push(Uint8Array.of(0x00, 0x01, 0x02))).toThrow(/bad header byte 0x00/);
    const decoder = new FrameDecoder(1024);
    const stream = Uint8Array.from([...encodeFrame(bytes(2)), 0x9f, 0, 0]);
    expect(() => decoder.push(stream)).toThrow(/0x9f/);
    // A failed stream cannot be resynchronised: every later chunk is refused too.
    expect(() => decoder.push(encodeFrame(bytes(2)))).toThrow(ProtocolError);
  });

  it('refuses a length over the cap from the header alone, before buffering the payload', () => {
    const decoder = new FrameDecoder(1000);
    expect(() => decoder.push(Uint8Array.of(0x8d, 0x03, 0xe9))).toThrow(/1001 bytes exceeds the cap of 1000/);
    expect(decoder.pending).toBe(0);
    expect(() => new FrameDecoder(60 * 1024 * 1024).push(Uint8Array.of(0x8f, 0xff, 0xff, 0xff, 0xff)))
      .toThrow(/4294967295 bytes/);
    expect(new FrameDecoder(1000).push(encodeFrame(bytes(1000)))[0]!.length).toBe(1000);
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameDecoder(10);
    expect(decoder.push(new Uint8Array(0))).toEqual([]);
    expect(decoder.push(encodeFrame(Uint8Array.of(1, 2))).map((p) => [...p])).toEqual([[1, 2]]);
  });
});
