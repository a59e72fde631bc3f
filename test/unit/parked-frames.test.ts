import { describe, expect, it } from 'vitest';
import { ParkedFrames } from '../../src/broker/parked-frames.js';

describe('ParkedFrames', () => {
  it('gives back binary and text frames in order, across chunks and past a frame larger than a chunk', () => {
    const parked = new ParkedFrames();
    const frames: (Uint8Array | string)[] = [];
    for (let i = 0; i < 5000; i++) {
      const f = i % 997 === 0 ? `text ${i}` : i === 2500 ? new Uint8Array(300_000).fill(7) : new Uint8Array(100 + (i % 50)).fill(i & 0xff);
      frames.push(f);
      parked.push(f);
    }
    expect(parked.size).toBe(5000);
    expect(parked.bytes).toBe(frames.reduce((n, f) => n + (typeof f === 'string' ? f.length : f.byteLength), 0));
    const out: (Uint8Array | string)[] = [];
    for (let i = 0; i < 2000; i++) out.push(copy(parked.shift()!));
    // Views handed out stay intact while more frames are pushed behind them.
    const view = parked.shift()!;
    out.push(view);
    for (const f of frames.slice(0, 100)) parked.push(f);
    for (let f = parked.shift(); f !== undefined; f = parked.shift()) out.push(copy(f));
    expect(out.map(key)).toEqual([...frames, ...frames.slice(0, 100)].map(key));
    expect(parked.size).toBe(0);
    expect(parked.bytes).toBe(0);
  });

  it('writes a frame in parts straight into its chunks, in order with the others', () => {
    const parked = new ParkedFrames();
    const parts = (fill: number, length: number): { length: number; writeTo(out: Uint8Array, at: number): number } => ({
      length,
      writeTo(out, at) {
        out.fill(fill, at, at + length);
        return at + length;
      },
    });
    const expected: number[][] = [];
    for (let i = 0; i < 3000; i++) {
      const n = 90 + (i % 40);
      if (i % 2 === 0) parked.push(parts(i & 0xff, n));
      else parked.push(new Uint8Array(n).fill(i & 0xff));
      expected.push(Array(n).fill(i & 0xff) as number[]);
    }
    expect(parked.bytes).toBe(expected.reduce((sum, e) => sum + e.length, 0));
    const out: number[][] = [];
    for (let f = parked.shift(); f !== undefined; f = parked.shift()) out.push([...(f as Uint8Array)]);
    expect(out).toEqual(expected);
  });

  it('copies what it is given: the caller may reuse its buffer', () => {
    const parked = new ParkedFrames();
    const buffer = Uint8Array.of(1, 2, 3);
    parked.push(buffer);
    buffer.fill(0);
    expect(parked.shift()).toEqual(Uint8Array.of(1, 2, 3));
    expect(parked.shift()).toBeUndefined();
  });

  it('keeps frames that fill a chunk exactly, empty frames and long runs of text frames in order', () => {
    const parked = new ParkedFrames();
    const CHUNK = 256 * 1024;
    // Each frame takes 4 bytes more in its chunk: these two fill the first chunk to the byte.
    const frames: (Uint8Array | string)[] = [new Uint8Array(CHUNK / 2 - 4).fill(1), new Uint8Array(CHUNK / 2 - 4).fill(2),
      new Uint8Array(0), new Uint8Array(CHUNK - 4).fill(3), new Uint8Array(CHUNK - 3).fill(4)];
    for (let i = 0; i < 3000; i++) frames.push(i % 3 === 0 ? new Uint8Array(5).fill(i & 0xff) : `t${i}`);
    const out: (Uint8Array | string)[] = [];
    // Pushed and taken interleaved, so that reading crosses chunks while more are written.
    for (const f of frames) {
      parked.push(f);
      if (parked.size > 7) out.push(copy(parked.shift()!));
    }
    for (let f = parked.shift(); f !== undefined; f = parked.shift()) out.push(copy(f));
    expect(out.map(key)).toEqual(frames.map(key));
    expect(parked.bytes).toBe(0);
  });

  it('holds no object per binary frame: its length is in the chunk (nothing on the JS heap grows with the frames)', () => {
    const parked = new ParkedFrames();
    for (let i = 0; i < 100_000; i++) parked.push(new Uint8Array(60).fill(i & 0xff));
    const own = Object.values(parked as unknown as Record<string, unknown>).filter(Array.isArray) as unknown[][];
    // The chunk list and its ends (one slot per 256 KiB chunk), the text frames: none per frame.
    expect(Math.max(...own.map((a) => a.length))).toBeLessThan(100);
    expect(parked.size).toBe(100_000);
    expect((parked.shift() as Uint8Array)[0]).toBe(0);
  });

  it('holds nothing after clear', () => {
    const parked = new ParkedFrames();
    parked.push(new Uint8Array(10));
    parked.push('x');
    parked.clear();
    expect(parked.size).toBe(0);
    expect(parked.bytes).toBe(0);
    expect(parked.shift()).toBeUndefined();
  });
});

/** A frame as a string, quick to compare. */
function key(f: Uint8Array | string): string {
  return typeof f === 'string' ? f : Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

function copy(f: Uint8Array | string): Uint8Array | string {
  return typeof f === 'string' ? f : Uint8Array.from(f);
}
