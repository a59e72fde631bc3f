/**
 * The broker routes a call and its answer by their heads and forwards the bytes it was sent
 * (src/codec/lazy-rpc.ts): checked here against what a buggy or foreign peer sends — answers
 * that are truncated, carry trailing bytes or a status of the wrong type, data the caller
 * cannot decode — and against JL's 9-byte integers, which must reach the other side as written.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { DecodeError } from '../../src/errors.js';
import { hex, roundTrip, textHex, toHex, useScope, waitFor, type RawClient } from './helpers.js';
import type { Broker } from '../../src/broker/index.js';

const scope = useScope();
const h = (s: string): string => toHex(hex(s));

/** A reference (raw) component named `name` exposing `method`. */
async function rawExposer(b: Broker, name: string, method: string): Promise<RawClient> {
  const py = await scope.raw(b);
  py.sendBinary(`83 00 48 01 77 66 55 44 33 22 11 ${textHex(name)}`);
  await py.nextHex();
  py.sendBinary(`84 03 48 02 77 66 55 44 33 22 11 ${textHex(method)} a1 63 63 6d 64 66 65 78 70 6f 73 65`);
  await py.nextHex();
  return py;
}

/** The 9 bytes `48 …` of the id of a request frame received as hex (type byte `02` or `18 22`). */
const idOf = (request: string): string => {
  const bytes = request.split(' ');
  const at = bytes[1] === '18' ? 3 : 2;
  return bytes.slice(at, at + 9).join(' ');
};

describe('RPC routed by its head, bytes forwarded', () => {
  it('drops malformed answers of a buggy exposer and delivers the well-formed one that follows', async () => {
    const b = await scope.broker();
    const py = await rawExposer(b, 'buggy', 'm');
    const ts = await scope.connect(b, 'ts');
    const answer = firstValueFrom(ts.rpc$('m', 1));
    const id = idOf(await py.nextHex());
    py.sendBinary(`84 04 ${id} 00 82 01`);        // truncated data
    py.sendBinary(`84 04 ${id} 00 01 02`);        // a trailing byte
    py.sendBinary(`84 04 ${id} 61 30 01`);        // a text status
    py.sendBinary(`84 04 ${id} 00 1c`);           // a reserved head
    py.sendBinary(`84 04 48 99 99 99 99 99 99 99 99 00 05`); // an id nobody waits for
    py.sendBinary(`84 04 ${id} 00 63 6f 6e 65`);  // "one"
    expect(await answer).toBe('one');
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('forwards data the caller cannot decode: the call fails with DecodeError at once and the broker holds nothing', async () => {
    const b = await scope.broker();
    const py = await rawExposer(b, 'buggy', 'm');
    const ts = await scope.connect(b, 'ts');
    const answer = firstValueFrom(ts.call$('m', [], { timeout: 30_000 })).catch((err: unknown) => err);
    py.sendBinary(`84 04 ${idOf(await py.nextHex())} 00 d8 1d 00`); // tag 29 around 0: well formed, refused by cbor-x
    // The answer's head is read in place and its data when the call reads it (src/codec/lazy-rpc.ts):
    // the call ends with the typed error instead of waiting for its timeout.
    const err = await answer;
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).code).toBe('DECODE');
    expect(b.stats().pendingRpcs).toBe(0);
    expect(await ts.rpc('rid')).toBeTypeOf('string'); // the link still works
  });

  it('a TS exposer answers 40 to args it cannot decode, and serves the next call', async () => {
    const b = await scope.broker();
    const srv = await scope.connect(b, 'srv');
    srv.expose('add', (x: number, y: number) => x + y);
    await roundTrip(srv);
    const jl = await scope.raw(b);
    jl.sendBinary(`85 02 48 c1 77 66 55 44 33 22 11 ${textHex('add')} f6 81 d8 1d 00`); // refused by cbor-x
    expect((await jl.nextHex()).startsWith(h('84 04 48 c1 77 66 55 44 33 22 11 18 28'))).toBe(true); // status 40
    jl.sendBinary(`85 02 48 c2 77 66 55 44 33 22 11 ${textHex('add')} f6 82 01 02`);
    expect(await jl.nextHex()).toBe(h('84 04 48 c2 77 66 55 44 33 22 11 00 03'));
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('ignores an answer with undecodable data for an id nobody waits for, and delivers the right one', async () => {
    const b = await scope.broker();
    const py = await rawExposer(b, 'buggy', 'm');
    const ts = await scope.connect(b, 'ts');
    const answer = firstValueFrom(ts.rpc$('m', 1));
    const id = idOf(await py.nextHex());
    py.sendBinary('84 04 48 99 99 99 99 99 99 99 99 00 d8 1d 00'); // unknown id, refused data
    py.sendBinary(`84 04 ${id} 00 63 6f 6e 65`); // "one"
    expect(await answer).toBe('one');
  });

  it('hands byte strings of args and results to both ends as plain Uint8Arrays, plain values or not', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const seen: unknown[] = [];
    srv.expose('echo', (...args: unknown[]) => {
      seen.push((args[0] as Uint8Array).constructor);
      return args;
    });
    await roundTrip(srv);
    const bytes = new Uint8Array([1, 2, 3]);
    // Plain args (read in place), then args with a bignum tag (cbor-x's path).
    for (const extra of [7, 2n ** 70n]) {
      const [back, more] = await cli.rpc('echo', bytes, extra) as [Uint8Array, unknown];
      expect(back.constructor).toBe(Uint8Array);
      expect([...back]).toEqual([1, 2, 3]);
      expect(more).toBe(extra);
    }
    expect(seen).toEqual([Uint8Array, Uint8Array]);
  });

  it('carries JL 9-byte integers from caller to exposer and back byte for byte', async () => {
    const b = await scope.broker();
    const py = await rawExposer(b, 'jlsrv', 'add');
    const jl = await scope.raw(b);
    const request = `85 02 48 aa 77 66 55 44 33 22 11 ${textHex('add')} f6 82 1b 00 00 00 00 00 00 00 01 1b 00 00 00 00 00 00 00 02`;
    jl.sendBinary(request);
    expect(await py.nextHex()).toBe(h(request));
    const response = '84 04 48 aa 77 66 55 44 33 22 11 00 1b 00 00 00 00 00 00 00 03';
    py.sendBinary(response);
    expect(await jl.nextHex()).toBe(h(response));
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('decodes the args of a broker-local method, and survives args cbor-x refuses', async () => {
    const b = await scope.broker();
    b.expose('sum', (x: number, y: number) => x + y);
    const jl = await scope.raw(b);
    jl.sendBinary(`85 02 48 bb 77 66 55 44 33 22 11 ${textHex('sum')} f6 81 d8 1d 00`); // refused args: dropped
    jl.sendBinary(`85 02 48 bc 77 66 55 44 33 22 11 ${textHex('sum')} f6 82 1b 00 00 00 00 00 00 00 01 02`);
    expect(await jl.nextHex()).toBe(h('84 04 48 bc 77 66 55 44 33 22 11 00 03'));
    const ts = await scope.connect(b, 'ts');
    await roundTrip(ts);
    expect(await ts.rpc('sum', 2, 3)).toBe(5);
    await waitFor(() => jl.unread.length === 0, { what: 'no answer to the refused call' });
  });
});
