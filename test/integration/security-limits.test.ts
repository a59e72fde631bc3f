/**
 * The broker's resource limits over real sockets: a slow consumer that never reads is cut off
 * instead of buffered for without bound (more in flow-control.test.ts); oversized frames close
 * their link; frames that used to crash the broker (deep nesting, a CBOR tag for a JSON subscriber) cost only themselves.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeCbor } from '../../src/codec/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import type { Logger } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** A logger that keeps the messages of its warn lines (children share them). */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger & { warnings: string[] } = {
    warnings,
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (_obj: unknown, msg?: string) => { warnings.push(msg ?? ''); },
    child: () => log,
  };
  return log;
}

/** A bare socket (not RawClient: the test needs its TCP socket to stop reading). */
async function openSocket(url: string): Promise<WebSocket & { _socket: { pause(): void; resume(): void } }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  scope.track({ close: () => ws.terminate() });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  return ws as WebSocket & { _socket: { pause(): void; resume(): void } };
}

describe('slow consumer', () => {
  it('is cut (no handshake: 1006) once it leaves more than maxBufferedBytes unread, counted, and others keep flowing', async () => {
    const logger = recordingLogger();
    // A long stall deadline: the byte limit is what cuts it here.
    const b = await scope.broker({ maxBufferedBytes: 1024 * 1024, logger, flowControl: { highWater: 256 * 1024, stallTimeout: 60_000 } });
    const slow = await openSocket(b.url!);
    const answered = new Promise((resolve) => slow.once('message', resolve));
    slow.send(encodeCbor({ type: 'admin', id: newMsgId(), topic: 'flood', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    await answered;
    let received = 0;
    slow.on('message', () => { received++; });
    const closed = new Promise<[number, string]>((resolve) => slow.once('close', (code, reason) => resolve([code, reason.toString()])));
    slow._socket.pause(); // reads nothing from now on
    const [pub, fast] = await scope.connectAll(b, 'pub', 'fast');
    let fastCount = 0;
    fast.subscribe$('flood').subscribe(() => { fastCount++; });
    await roundTrip(fast);
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // Kernel buffers absorb a few MiB before the broker has to hold anything: publish until it gives up.
    const cutMessage = `slow consumer cut: more than ${1024 * 1024} bytes unread`;
    while (!logger.warnings.includes(cutMessage) && sent < 4_000) {
      for (let i = 0; i < 50; i++) pub.publish('flood', chunk);
      sent += 50;
      await roundTrip(pub);
    }
    expect(logger.warnings).toContain(cutMessage);
    expect(b.stats().slowConsumers).toBe(1);
    await waitFor(() => fastCount === sent, { timeout: 10_000, what: 'the fast subscriber to get everything' });
    slow._socket.resume();
    const [code] = await closed;
    expect(code).toBe(1006); // dropped: a close frame would have waited behind the unread bytes
    expect(received).toBeLessThan(sent);
    await waitFor(() => b.stats().connections === 2, { what: 'the slow link to be released' });
  }, 30_000);
});

describe('hostile frames', () => {
  it('closes the link of a frame above maxPayload (1009) and keeps serving', async () => {
    const b = await scope.broker({ maxPayload: 4096 });
    const big = await openSocket(b.url!);
    const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.send(new Uint8Array(8192));
    expect(await closed).toBe(1009);
    const node = await scope.connect(b, 'after');
    expect(await node.rpc('rid')).toBe('broker');
  });

  it('drops a frame nested 2,000 deep (it used to crash the broker) and delivers one nested 400 deep', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$('deep'), 1);
    await roundTrip(sub);
    const raw = await scope.raw(b);
    const nested = (depth: number): Uint8Array => Uint8Array.from([
      0x83, 0x01, 0x64, ...Buffer.from('deep'), ...new Array<number>(depth).fill(0x81), 0xf6]);
    raw.sendBinary(nested(2_000));
    raw.sendBinary(nested(400));
    let value: unknown = (await got.done)[0]!.args;
    let depth = 0;
    while (Array.isArray(value)) { value = value[0]; depth++; }
    expect(depth).toBe(400);
    await roundTrip(pub, sub);
    expect(got.values).toHaveLength(1);
  });

  it('skips a JSON subscriber for a value JSON cannot carry (it used to crash the broker)', async () => {
    const b = await scope.broker();
    const jsonSub = await scope.raw(b);
    jsonSub.sendText('{"jsonrpc":"2.0","id":1,"method":"tagged","params":{"type":3,"data":{"cmd":"subscribe","msg_from":0}}}');
    expect(JSON.parse(await jsonSub.nextText())).toMatchObject({ id: 1, result: { sts: 0 } });
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$('tagged'), 1);
    await roundTrip(sub);
    const raw = await scope.raw(b);
    // [1, "tagged", [tag 99 (1)]]
    raw.sendBinary(Uint8Array.from([0x83, 0x01, 0x66, ...Buffer.from('tagged'), 0x81, 0xd8, 0x63, 0x01]));
    expect((await got.done)[0]!.args).toHaveLength(1);
    expect(await sub.rpc('rid')).toBe('broker');
    expect(jsonSub.unread).toEqual([]);
  });
});
