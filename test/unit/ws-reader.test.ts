/**
 * WsFrameReader against ws's own Receiver: the reader with a Receiver behind it (the way
 * ws-ingress.ts wires them) must report exactly what a lone Receiver reports (messages, pings,
 * pongs, the close, the error and its close code) for any stream of frames, valid or not, split
 * at any points.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import * as ws from 'ws';
import { WsFrameReader } from '../../src/transport/ws-reader.js';
import { frame, pattern } from './ws-frame-builder.js';

interface Receiver {
  write(chunk: Buffer): boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  readonly errored: Error | null;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}
type ReceiverCtor = new (options: { isServer: boolean; maxPayload: number }) => Receiver;
const Receiver = (ws as unknown as { Receiver: ReceiverCtor }).Receiver;

const MAX = 70_000;
/** Short names for payloads in the logs: small ones in hex, others by length and digest. */
const hex = (b: Buffer): string => (b.length <= 16 ? b.toString('hex')
  : `${b.length}#${createHash('sha1').update(b).digest('hex').slice(0, 12)}`);

/** A Receiver whose events are written down in `log`. */
function recorded(server: boolean, log: string[]): Receiver {
  const r = new Receiver({ isServer: server, maxPayload: MAX });
  r.on('message', (data: Buffer, binary: boolean) => log.push(`${binary ? 'bin' : 'text'}:${hex(data)}`));
  r.on('ping', (data: Buffer) => log.push(`ping:${hex(data)}`));
  r.on('pong', (data: Buffer) => log.push(`pong:${hex(data)}`));
  r.on('conclude', (code: number, reason: Buffer) => log.push(`close:${code}:${hex(reason)}`));
  r.on('error', (err: Error & { code: string }) => log.push(`error:${err.code}`));
  return r;
}

const alive = (r: Receiver): boolean => r.errored == null && !r.destroyed && !r.writableEnded;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What a lone Receiver reports for `pieces`. */
async function reference(server: boolean, pieces: Buffer[]): Promise<string[]> {
  const log: string[] = [];
  const r = recorded(server, log);
  for (const piece of pieces) if (alive(r)) r.write(Buffer.from(piece));
  await tick();
  return log;
}

/** What the reader with a Receiver behind it reports, and how many messages it read itself. */
async function ours(server: boolean, pieces: Buffer[]): Promise<{ log: string[]; own: number }> {
  const log: string[] = [];
  const r = recorded(server, log);
  let own = 0;
  const reader = new WsFrameReader(server, MAX, {
    message: (bytes) => { own++; log.push(`bin:${hex(bytes)}`); },
    forward: (bytes) => alive(r) && (r.write(bytes), alive(r)),
  });
  for (const piece of pieces) reader.push(Buffer.from(piece));
  await tick();
  return { log, own };
}

const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 125, 126, 127, 65_535, 65_536, MAX, MAX + 1) },
);
const key = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff_ffff }));

/** A frame, mostly a good one, sometimes what a buggy or hostile peer sends. */
function frames(server: boolean): fc.Arbitrary<Buffer[]> {
  const data = fc.record({ size, seed: fc.nat(255), key, wide: fc.constantFrom(undefined, 'short', 'long') })
    .map(({ size: n, seed, key: k, wide }) => frame({ b0: 0x82, masked: server, key: k, payload: pattern(n, seed),
      ...(wide === undefined || n > 65_535 ? {} : { lengthField: wide as 'short' | 'long' }) }));
  const text = fc.record({ s: fc.string({ maxLength: 40 }), bad: fc.boolean(), k: key })
    .map(({ s, bad, k }) => frame({ b0: 0x81, masked: server, key: k,
      payload: bad ? Buffer.concat([Buffer.from(s), Buffer.of(0xc3, 0x28)]) : Buffer.from(s) }));
  const control = fc.record({ op: fc.constantFrom(0x89, 0x8a), n: fc.integer({ min: 0, max: 125 }), k: key })
    .map(({ op, n, k }) => frame({ b0: op, masked: server, key: k, payload: pattern(n, op) }));
  const close = fc.record({ code: fc.constantFrom(1000, 1001, 4000, 999, 1005), k: key }).map(({ code, k }) => {
    const body = Buffer.alloc(code === 1005 ? 0 : 2);
    if (code !== 1005) body.writeUInt16BE(code);
    return frame({ b0: 0x88, masked: server, key: k, payload: body });
  });
  // A fragmented message (binary or text) with a control frame between its fragments.
  const fragmented = fc.record({ op: fc.constantFrom(1, 2), parts: fc.integer({ min: 2, max: 4 }), k: key })
    .map(({ op, parts, k }) => {
      const out: Buffer[] = [];
      for (let i = 0; i < parts; i++) {
        const last = i === parts - 1;
        out.push(frame({ b0: (last ? 0x80 : 0) | (i === 0 ? op : 0), masked: server, key: k, payload: Buffer.from(`part${i}`) }));
        if (i === 0) out.push(frame({ b0: 0x89, masked: server, key: k, payload: Buffer.from('p') }));
      }
      return Buffer.concat(out);
    });
  const bad = fc.record({ which: fc.integer({ min: 0, max: 6 }), k: key }).map(({ which, k }) => {
    const p = Buffer.from('xyz');
    switch (which) {
      case 0: return frame({ b0: 0x82, masked: !server, key: k, payload: p }); // wrong masking
      case 1: return frame({ b0: 0xc2, masked: server, key: k, payload: p }); // RSV1
      case 2: return frame({ b0: 0x83, masked: server, key: k, payload: p }); // opcode 3
      case 3: return frame({ b0: 0x80, masked: server, key: k, payload: p }); // lone continuation
      case 4: return frame({ b0: 0x09, masked: server, key: k, payload: p }); // ping without FIN
      case 5: return frame({ b0: 0x02, masked: server, key: k, payload: p }); // a fragment, then a new message
      default: return frame({ b0: 0x89, masked: server, key: k, payload: pattern(126, 1) }); // long ping
    }
  });
  return fc.array(fc.oneof({ weight: 8, arbitrary: data }, { weight: 2, arbitrary: text }, { weight: 2, arbitrary: control },
    { weight: 1, arbitrary: close }, { weight: 2, arbitrary: fragmented }, { weight: 1, arbitrary: bad }), { maxLength: 12 });
}

/** `stream` cut at `cuts` (any numbers, taken modulo its length). */
function split(stream: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of at) { pieces.push(stream.subarray(from, c)); from = c; }
  pieces.push(stream.subarray(from));
  return pieces;
}

describe('WsFrameReader', () => {
  for (const server of [true, false]) {
    const side = server ? 'server side (masked client frames)' : 'client side (unmasked server frames)';
    it(`reports what ws's Receiver reports for random frame streams split at random points, ${side}`, async () => {
      await fc.assert(fc.asyncProperty(frames(server), fc.array(fc.nat(), { maxLength: 20 }), async (list, cuts) => {
        const stream = Buffer.concat(list);
        const pieces = split(stream, cuts);
        expect((await ours(server, pieces)).log).toEqual(await reference(server, pieces));
      }), { numRuns: 300 });
    });
  }

  const mixed = (server: boolean, big: boolean): Buffer => Buffer.concat([
    frame({ b0: 0x82, masked: server, key: 0, payload: pattern(0, 0) }),
    frame({ b0: 0x82, masked: server, key: 0x01020304, payload: pattern(125, 1) }),
    frame({ b0: 0x89, masked: server, key: 0xdeadbeef, payload: Buffer.from('ping') }),
    frame({ b0: 0x82, masked: server, key: 0, payload: pattern(126, 2) }),
    frame({ b0: 0x01, masked: server, key: 7, payload: Buffer.from('hé') }),
    frame({ b0: 0x8a, masked: server, key: 7, payload: Buffer.from('pong') }),
    frame({ b0: 0x80, masked: server, key: 9, payload: Buffer.from('llo') }),
    frame({ b0: 0x82, masked: server, key: 0xffffffff, payload: pattern(big ? 65_535 : 300, 3) }),
    ...(big ? [frame({ b0: 0x82, masked: server, key: 0x80000001, payload: pattern(65_536, 4) })] : []),
    frame({ b0: 0x88, masked: server, key: 5, payload: Buffer.of(0x03, 0xe8) }),
    frame({ b0: 0x82, masked: server, key: 0, payload: Buffer.from('after close') }),
  ]);

  it('reads every frame size (0, 125, 126, 65535, 65536) one byte at a time', async () => {
    const stream = mixed(true, true);
    const pieces = [...stream].map((b) => Buffer.of(b));
    const got = await ours(true, pieces);
    expect(got.log).toEqual(await reference(true, [stream]));
    expect(got.own).toBe(5);
    expect(got.log.at(-1)).toBe('close:1000:');
  });

  it('reads a stream split in two at every byte boundary', async () => {
    for (const server of [true, false]) {
      const stream = mixed(server, false);
      const expected = await reference(server, [stream]);
      expect(expected.filter((e) => e.startsWith('bin:'))).toHaveLength(4);
      for (let i = 0; i <= stream.length; i++) {
        expect((await ours(server, [stream.subarray(0, i), stream.subarray(i)])).log).toEqual(expected);
      }
    }
  });

  it('delivers a message whole inside a chunk as a view of that chunk, one that spans chunks as a copy', () => {
    const got: Buffer[] = [];
    const reader = new WsFrameReader(true, MAX, { message: (b) => got.push(b), forward: () => true });
    const chunk = Buffer.concat([frame({ b0: 0x82, masked: true, key: 0, payload: pattern(10, 0) }),
      frame({ b0: 0x82, masked: true, key: 0x11223344, payload: pattern(10, 1) })]);
    reader.push(chunk);
    expect(got.map((b) => b.buffer === chunk.buffer)).toEqual([true, true]);
    expect(got.map(hex)).toEqual([hex(pattern(10, 0)), hex(pattern(10, 1))]);
    const spanning = frame({ b0: 0x82, masked: true, key: 0x11223344, payload: pattern(200, 2) });
    const [a, b] = [Buffer.from(spanning.subarray(0, 50)), Buffer.from(spanning.subarray(50))];
    reader.push(a);
    reader.push(b);
    expect(got).toHaveLength(3);
    a.fill(0);
    b.fill(0);
    expect(got[2]!.equals(pattern(200, 2))).toBe(true);
    // A header that ends a chunk, and a payload whole in the next chunk: a view of that chunk.
    const c = frame({ b0: 0x82, masked: true, key: 0, payload: pattern(30, 3) });
    const payloadChunk = Buffer.from(c.subarray(6));
    reader.push(Buffer.from(c.subarray(0, 6)));
    reader.push(payloadChunk);
    expect(got[3]!.buffer === payloadChunk.buffer && got[3]!.byteOffset === payloadChunk.byteOffset).toBe(true);
  });

  it('stops delivering once the Receiver behind it refused a frame', async () => {
    const log: string[] = [];
    const r = recorded(true, log);
    const reader = new WsFrameReader(true, MAX, {
      message: (bytes) => log.push(`bin:${hex(bytes)}`),
      forward: (bytes) => alive(r) && (r.write(bytes), alive(r)),
    });
    reader.push(Buffer.concat([frame({ b0: 0x81, masked: true, key: 0, payload: Buffer.of(0xff) }),
      frame({ b0: 0x82, masked: true, key: 0, payload: Buffer.of(1) })]));
    reader.push(frame({ b0: 0x82, masked: true, key: 0, payload: Buffer.of(2) }));
    await tick();
    expect(log).toEqual(['error:WS_ERR_INVALID_UTF8']);
  });
});
