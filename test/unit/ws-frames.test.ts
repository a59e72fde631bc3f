import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { frameOpcode, framePayload, headerSize, writeFrames, type Masking } from '../../src/transport/ws-frames.js';
import { isLoopbackHost } from '../../src/transport/ws-link.js';

/** writeFrames over whole frames, with the exact size. */
function write(frames: (Uint8Array | string)[], masked: Masking): Buffer {
  const payloads = frames.map(framePayload);
  const size = payloads.reduce((s, p) => s + headerSize(p.length, masked) + p.length, 0);
  const out = writeFrames(frames.map(frameOpcode), payloads, size, masked);
  expect(out.length).toBe(size);
  return out;
}

/** ws's frame parser; exported at run time, not in @types/ws. */
interface FrameReceiver {
  on(event: string, listener: (...args: never[]) => void): void;
  write(chunk: Buffer): void;
}
const Receiver = (ws as unknown as { Receiver: new (options: object) => FrameReceiver }).Receiver;

/** Parse `bytes` with ws's own Receiver: the frames another peer would see. */
function parse(bytes: Buffer, fromClient: Masking): { binary: boolean; data: Buffer }[] {
  const out: { binary: boolean; data: Buffer }[] = [];
  const receiver = new Receiver({ isServer: fromClient !== false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, binary: boolean) => out.push({ binary, data: Buffer.from(data) }));
  receiver.on('error', (err: Error) => { throw err; });
  receiver.write(bytes);
  return out;
}

const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

describe('writeFrames', () => {
  for (const masked of [false, true, 'zero'] as const) {
    it(`writes ${masked === 'zero' ? 'zero-key client' : masked ? 'masked client' : 'unmasked server'} frames ws reads back, at every header size`, () => {
      const frames = sizes.map((n, i) => (i % 2 === 0 ? Buffer.alloc(n, i + 1) : 'é'.repeat(Math.ceil(n / 2))));
      const parsed = parse(write(frames, masked), masked);
      expect(parsed.map((f) => f.binary)).toEqual(frames.map((f) => typeof f !== 'string'));
      parsed.forEach((f, i) => expect(f.data.equals(Buffer.from(framePayload(frames[i]!)))).toBe(true));
    });
  }

  it('round-trips any batch of frames', () => {
    fc.assert(fc.property(fc.constantFrom<Masking>(false, true, 'zero'), fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 })),
      { minLength: 1, maxLength: 20 }), (masked, frames) => {
      const parsed = parse(write(frames, masked), masked);
      expect(parsed.map((f) => (f.binary ? [...f.data] : f.data.toString('utf8'))))
        .toEqual(frames.map((p) => (typeof p === 'string' ? p : [...p])));
    }), { numRuns: 300 });
  });

  it('writes into a given buffer and returns exactly the frames', () => {
    const into = Buffer.alloc(100, 0xee);
    const out = writeFrames([frameOpcode('ab')], [framePayload('ab')], 4, false, into);
    expect(out.length).toBe(4);
    expect(out.buffer).toBe(into.buffer);
    expect(parse(out, false).map((f) => f.data.toString())).toEqual(['ab']);
  });

  it('writes zero-key frames as masked frames with the payload as it is, over stale bytes of a reused buffer', () => {
    const into = Buffer.alloc(64, 0xee);
    const out = writeFrames([frameOpcode(Uint8Array.of(1, 2))], [Uint8Array.of(1, 2)], headerSize(2, 'zero') + 2, 'zero', into);
    expect([...out]).toEqual([0x82, 0x80 | 2, 0, 0, 0, 0, 1, 2]);
  });

  it('tells loopback hosts from others', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['example.com', '10.0.0.1', '128.0.0.1', '127.0.0.1.example.com', 'localhost.example.com', '[::2]', '0.0.0.0'])
      expect(isLoopbackHost(h)).toBe(false);
  });

  it('gives every masked frame its own key', () => {
    const bytes = write([Buffer.alloc(8), Buffer.alloc(8)], true);
    // Zero payloads: the masked bytes are the key itself, so equal keys would show as equal bytes.
    expect(bytes.subarray(2, 6).equals(bytes.subarray(16, 20))).toBe(false);
  });
});
