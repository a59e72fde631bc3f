/**
 * Streaming RPC on the wire (README "Streaming RPC on the wire"), byte for byte: a reference
 * caller (no flag) gets one ordinary RESPONSE with the last value; a streaming caller gets
 * RESPONSE|0x20 items and a RESPONSE|0x30 end; a RESPONSE|0x40 from the caller cancels; a
 * reference exposer sees the flagged request and the cancel (which it ignores as a RESPONSE
 * with an unknown id, spec §2.4); the JSON spelling carries `"stream"` keys.
 */
import { describe, expect, it } from 'vitest';
import { finalize, interval, take } from 'rxjs';
import type { Broker } from '../../src/broker/index.js';
import type { Component } from '../../src/index.js';
import { collect, hex, RawClient, roundTrip, textHex, toHex, useScope, waitFor } from './helpers.js';

const scope = useScope();

const ID = '48 88 77 66 55 44 33 22 11';
const id = (n: number): string => `48 ${n.toString(16).padStart(2, '0')} 77 66 55 44 33 22 11`;
const h = (s: string): string => toHex(hex(s));

/** `[type, id, method, null, args]` with the type byte in shortest form (spec §2.1). */
const rpc = (type: string, msgid: string, method: string, args: string): string =>
  `85 ${type} ${msgid} ${textHex(method)} f6 ${args}`;

/** A broker with a TS exposer of `count` (n values) and `ticks` (forever), counting teardowns. */
async function setup(): Promise<{ b: Broker; srv: Component; finalized: () => number }> {
  const b = await scope.broker();
  const srv = await scope.connect(b, 'srv');
  let finalized = 0;
  srv.expose('count', (n: number) => interval(10).pipe(take(n)));
  srv.expose('ticks', () => interval(10).pipe(finalize(() => finalized++)));
  await roundTrip(srv);
  return { b, srv, finalized: () => finalized };
}

describe('streaming RPC wire format', () => {
  it('answers a reference caller (type byte 0x02) once, with the last value', async () => {
    const { b } = await setup();
    const py = await scope.raw(b);
    py.sendBinary(rpc('02', ID, 'count', '81 03'));
    expect(await py.nextHex()).toBe(h(`84 04 ${ID} 00 02`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(py.unread).toEqual([]);
  });

  it('streams items [0x24, id, 0, v] and the end [0x34, id, 0, null] to a caller that sent 0x22', async () => {
    const { b } = await setup();
    const raw = await scope.raw(b);
    raw.sendBinary(rpc('18 22', ID, 'count', '81 03'));
    expect(await raw.nextHex()).toBe(h(`84 18 24 ${ID} 00 00`));
    expect(await raw.nextHex()).toBe(h(`84 18 24 ${ID} 00 01`));
    expect(await raw.nextHex()).toBe(h(`84 18 24 ${ID} 00 02`));
    expect(await raw.nextHex()).toBe(h(`84 18 34 ${ID} 00 f6`));
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('ends a stream with an ordinary [4, id, 40, text] when the handler fails', async () => {
    const { b, srv } = await setup();
    srv.expose('bad', () => { throw new Error('no'); });
    await roundTrip(srv);
    const raw = await scope.raw(b);
    raw.sendBinary(rpc('18 22', ID, 'bad', '80'));
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 18 28 62 6e 6f`));
  });

  it('cancels on [0x44, id, 0, null] from the caller: the exposer unsubscribes the handler', async () => {
    const { b, finalized } = await setup();
    const raw = await scope.raw(b);
    raw.sendBinary(rpc('18 22', id(2), 'ticks', '80'));
    expect(await raw.nextHex()).toBe(h(`84 18 24 ${id(2)} 00 00`));
    raw.sendBinary(`84 18 44 ${id(2)} 00 f6`);
    await waitFor(() => finalized() === 1, { what: 'the handler to be unsubscribed' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('cancels the calls of a caller that disconnects', async () => {
    const { b, finalized } = await setup();
    const raw = await scope.raw(b);
    raw.sendBinary(rpc('18 22', id(3), 'ticks', '80'));
    await raw.nextHex();
    await raw.close();
    await waitFor(() => finalized() === 1, { what: 'the handler to be unsubscribed' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('forwards the flagged request to a reference exposer, whose one answer ends the stream', async () => {
    const b = await scope.broker();
    const py = await scope.raw(b);
    py.sendBinary(`83 00 ${ID} ${textHex('pysrv')}`);
    await py.nextHex();
    py.sendBinary(`84 03 ${id(2)} ${textHex('pym')} a1 63 63 6d 64 66 65 78 70 6f 73 65`);
    await py.nextHex();
    const ts = await scope.connect(b, 'ts');
    const got = collect(ts.rpc$('pym', 1), 1);
    const request = (await py.nextHex()).split(' ');
    // [0x22, id, "pym", null, [1]]: a reference masks the flag nibble (spec §2.3).
    expect(request.slice(0, 4).join(' ')).toBe('85 18 22 48');
    expect(request.slice(12).join(' ')).toBe(h(`${textHex('pym')} f6 81 01`));
    py.sendBinary(`84 04 ${request.slice(3, 12).join(' ')} 00 63 6f 6e 65`);
    expect(await got.done).toEqual(['one']);
    await waitFor(() => got.completed, { what: 'completion' });
  });

  it('sends a reference exposer the cancel as a RESPONSE it will ignore (unknown id, spec §2.4)', async () => {
    const b = await scope.broker();
    const py = await scope.raw(b);
    py.sendBinary(`83 00 ${ID} ${textHex('pysrv')}`);
    await py.nextHex();
    py.sendBinary(`84 03 ${id(2)} ${textHex('pym')} a1 63 63 6d 64 66 65 78 70 6f 73 65`);
    await py.nextHex();
    const ts = await scope.connect(b, 'ts');
    const sub = ts.rpc$('pym').subscribe();
    const requestId = (await py.nextHex()).split(' ').slice(3, 12).join(' ');
    sub.unsubscribe();
    expect(await py.nextHex()).toBe(h(`84 18 44 ${requestId} 00 f6`));
    expect(b.stats().pendingRpcs).toBe(0);
  });
});

describe('streaming RPC in JSON-RPC text frames', () => {
  it('reads a top-level "stream": true and answers with "stream" keys in the result objects', async () => {
    const { b } = await setup();
    const raw: RawClient = await scope.raw(b);
    raw.sendText('{"jsonrpc":"2.0","id":7,"method":"count","params":[2],"stream":true}');
    const item = (v: string, s: string): string =>
      `{"jsonrpc":"2.0","id":7,"result":{"type":4,"__type__":4,"sts":0,"data":${v},"stream":"${s}"}}`;
    expect(await raw.nextText()).toBe(item('0', 'item'));
    expect(await raw.nextText()).toBe(item('1', 'item'));
    expect(await raw.nextText()).toBe(item('null', 'end'));
    raw.sendText('{"jsonrpc":"2.0","id":8,"method":"count","params":[2]}');
    expect(await raw.nextText()).toBe('{"jsonrpc":"2.0","id":8,"result":{"type":4,"__type__":4,"sts":0,"data":1}}');
  });

  it('cancels on a "stream": "cancel" result object from the caller', async () => {
    const { b, finalized } = await setup();
    const raw = await scope.raw(b);
    raw.sendText('{"jsonrpc":"2.0","id":"9","method":"ticks","params":[],"stream":true}');
    expect(JSON.parse(await raw.nextText())).toMatchObject({ id: '9', result: { stream: 'item' } });
    raw.sendText('{"jsonrpc":"2.0","id":"9","result":{"type":4,"sts":0,"data":null,"stream":"cancel"}}');
    await waitFor(() => finalized() === 1, { what: 'the handler to be unsubscribed' });
  });
});
