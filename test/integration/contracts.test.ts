/**
 * Typed contracts through a real broker (README "Typed contracts"): values checked on both
 * ends, wrong types from a plain (reference-like) peer and from raw frames never delivered,
 * parameters read from topics, typed RPC both ways, and the broker's own check at ingest.
 */
import * as v from 'valibot';
import { z } from 'zod';
import { firstValueFrom, lastValueFrom, toArray, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/codec/index.js';
import {
  ContractParamsError, ContractRefusedError, ContractValidationError, method, topic, type InvalidValue, RpcError,
} from '../../src/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import { broker } from '../../src/broker/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const Reading = z.object({ temp: z.number(), ok: z.boolean().optional() });
const telemetry = topic('plant/:site/:dn/telemetry', Reading);
const alarms = topic('alarms/:level', v.object({ text: v.string() }));
const add = method('add', [z.number(), z.number()], z.number());
const greet = method('greet', v.object({ name: v.string() }), v.string());

describe('topic contracts between components', () => {
  const scope = useScope();

  it('delivers params and the checked value; a pattern with params does not match other shapes', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const got = collect(sub.subscribe$(telemetry), 2);
    await roundTrip(sub);
    pub.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 21.5 });
    pub.publish('plant/a/telemetry', { temp: 1 });            // one segment short: not the pattern
    pub.publish('plant/a/x/y/telemetry', { temp: 2 });        // one too many
    pub.publish('factory/a/x/telemetry', { temp: 3 });        // another literal
    await pub.publishAsync(telemetry, { site: 'b', dn: 'y' }, { temp: 7, ok: true }, { qos: 1 });
    const [m1, m2] = await got.done;
    expect(m1).toMatchObject({ params: { site: 'a', dn: 'x' }, value: { temp: 21.5 }, topic: 'plant/a/x/telemetry',
      pattern: 'plant/:site/:dn/telemetry', qos: 0 });
    expect(m2).toMatchObject({ params: { site: 'b', dn: 'y' }, value: { temp: 7, ok: true } });
    await roundTrip(pub, sub);
    expect(got.values).toHaveLength(2);
    got.unsubscribe();
  });

  it('refuses to send a value or params that do not fit, and sends nothing', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const raw = collect(sub.subscribe$('**'), 1);
    await roundTrip(sub);
    expect(() => pub.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 'hot' } as never)).toThrow(ContractValidationError);
    expect(() => pub.publish(telemetry, { site: 'a/b', dn: 'x' }, { temp: 1 })).toThrow(ContractParamsError);
    expect(() => pub.publish(telemetry, { site: 'a' } as never, { temp: 1 })).toThrow(ContractParamsError);
    const err = await pub.publishAsync(telemetry, { site: 'a', dn: 'x' }, { temp: null } as never, { qos: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractValidationError);
    expect(err).toMatchObject({ code: 'CONTRACT_INVALID', stage: 'publish', contract: 'plant/:site/:dn/telemetry' });
    pub.publish('sentinel', 1);
    expect((await raw.done)[0]!.topic).toBe('sentinel'); // the first thing that reached the broker
    raw.unsubscribe();
  });

  it('never delivers wrong types from a plain or raw peer: counted and reported on invalid$', async () => {
    const b = await scope.broker();
    const [plain, sub] = await scope.connectAll(b, 'plain', 'sub');
    const invalid: InvalidValue[] = [];
    sub.invalid$.subscribe((x) => invalid.push(x));
    const got = collect(sub.subscribe$(telemetry), 1);
    const gotAlarm = collect(sub.subscribe$(alarms), 1);
    await roundTrip(sub);
    plain.publish('plant/a/x/telemetry', { temp: '21' });   // a string where a number belongs (a PY peer's mistake)
    plain.publish('plant/a/x/telemetry', 21, 22);             // positional: the args list is the value
    plain.publish('plant/a/x/telemetry');                     // no value at all
    plain.publish('alarms/high', { text: 5 });
    const raw = await scope.raw(b);
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'plant/r/z/telemetry', args: [[1, 2, 3]] }));
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0, topic: 'plant/r/z/telemetry', args: [{ temp: 5 }] }));
    expect((await got.done)[0]).toMatchObject({ params: { site: 'r', dn: 'z' }, value: { temp: 5 } });
    plain.publish('alarms/high', { text: 'fire' });
    expect((await gotAlarm.done)[0]).toMatchObject({ params: { level: 'high' }, value: { text: 'fire' } });
    expect(invalid.map((x) => [x.topic, x.stage, x.count])).toEqual([
      ['plant/a/x/telemetry', 'receive', 1], ['plant/a/x/telemetry', 'receive', 2], ['plant/a/x/telemetry', 'receive', 3],
      ['alarms/high', 'receive', 4], ['plant/r/z/telemetry', 'receive', 5],
    ]);
    expect(invalid[0]!.issues[0]!.path).toEqual(['temp']);
    expect(got.values).toHaveLength(1);
    got.unsubscribe();
    gotAlarm.unsubscribe();
  });

  it('shares one checked stream per contract: an invalid value is counted once for two subscribers', async () => {
    const b = await scope.broker();
    const [pub, sub] = await scope.connectAll(b, 'pub', 'sub');
    const invalid: InvalidValue[] = [];
    sub.invalid$.subscribe((x) => invalid.push(x));
    const one = collect(sub.subscribe$(telemetry), 1);
    const two = collect(sub.subscribe$(telemetry), 1);
    await roundTrip(sub);
    pub.publish('plant/a/x/telemetry', { temp: 'x' });
    pub.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 3 });
    await Promise.all([one.done, two.done]);
    expect(invalid).toHaveLength(1);
    one.unsubscribe();
    two.unsubscribe();
  });
});

describe('method contracts', () => {
  const scope = useScope();

  it('types and checks calls on both ends, positional and single-object arguments', async () => {
    const b = await scope.broker();
    const [server, client] = await scope.connectAll(b, 'server', 'client');
    server.expose(add, (a, c) => a + c);
    server.expose(greet, ({ name }) => `hello ${name}`);
    await roundTrip(server);
    expect(await client.rpc(add, 1, 2)).toBe(3);
    expect(await client.call(add, [4, 5], { timeout: 5_000 })).toBe(9);
    expect(await firstValueFrom(client.rpc$(greet, { name: 'ada' }))).toBe('hello ada');
    // The caller refuses bad arguments before sending anything.
    await expect(client.rpc(add, 1, 'two' as never)).rejects.toMatchObject({ code: 'CONTRACT_INVALID', stage: 'args' });
    await expect(lastValueFrom(client.call$(add, [1] as never))).rejects.toBeInstanceOf(ContractValidationError);
  });

  it('the exposer refuses arguments from a plain peer and a result that does not fit', async () => {
    const b = await scope.broker();
    const [server, plain] = await scope.connectAll(b, 'server', 'plain');
    const invalid: InvalidValue[] = [];
    server.invalid$.subscribe((x) => invalid.push(x));
    let calls = 0;
    server.expose(add, (a, c) => { calls++; return a + c; });
    const half = method('half', [z.number()], z.number().int());
    server.expose(half, (n) => n / 2);
    await roundTrip(server);
    const err = await plain.rpc('add', 1, '2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).remoteCode).toBe(40);
    expect(String((err as RpcError).details)).toContain("contract 'add'");
    expect(calls).toBe(0);
    expect(invalid[0]).toMatchObject({ stage: 'args', topic: 'add', count: 1 });
    await expect(plain.rpc(half, 3)).rejects.toMatchObject({ remoteCode: 40 });
    expect(await plain.rpc(half, 4)).toBe(2);
  });

  it('the caller refuses an answer of the wrong type from a plain exposer', async () => {
    const b = await scope.broker();
    const [plain, client] = await scope.connectAll(b, 'plain', 'client');
    plain.expose('add', (a: number, c: number) => `${a + c}`);
    await roundTrip(plain);
    const invalid: InvalidValue[] = [];
    client.invalid$.subscribe((x) => invalid.push(x));
    await expect(client.rpc(add, 1, 2)).rejects.toMatchObject({ code: 'CONTRACT_INVALID', stage: 'result', value: '3' });
    expect(invalid).toHaveLength(1);
  });

  it('streams an Observable handler, each value checked', async () => {
    const b = await scope.broker();
    const [server, client] = await scope.connectAll(b, 'server', 'client');
    const count = method('count', [z.number().int().min(0)], z.number());
    const { range } = await import('rxjs');
    server.expose(count, (n) => range(0, n));
    await roundTrip(server);
    expect(await lastValueFrom(client.rpc$(count, 3).pipe(take(3), toArray()))).toEqual([0, 1, 2]);
  });
});

describe('broker contracts at ingest', () => {
  const scope = useScope();

  it('checks publishes over HTTP too (REST and JSON-RPC notifications): no way around the contract', async () => {
    const b = await scope.broker({ contracts: [telemetry] });
    const sub = await scope.connect(b, 'sub');
    const all = collect(sub.subscribe$('plant/*/*/telemetry'), 1);
    await roundTrip(sub);
    const post = (path: string, body: unknown): Promise<Response> => fetch(`http://127.0.0.1:${String(b.port)}${path}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    await post('/plant/a/x/telemetry', { temp: 'hot' });
    await post('/', { jsonrpc: '2.0', method: 'plant/a/x/telemetry', params: [{ temp: 'cold' }] });
    await post('/plant/a/x/telemetry', { temp: 21 });
    const [m] = await all.done;
    expect(m!.args).toEqual([{ temp: 21 }]);
    await roundTrip(sub);
    expect(all.values).toHaveLength(1);
    expect(b.stats().contracts).toEqual({ checked: 3, refused: 0, dropped: 2 });
  });

  it('refuses a QoS1/2 publish that does not fit with ContractRefusedError, drops QoS0 ones, counts both', async () => {
    const b = await scope.broker({ contracts: [telemetry, alarms] });
    const [plain, sub] = await scope.connectAll(b, 'plain', 'sub');
    const all = collect(sub.subscribe$('**'), 2);
    await roundTrip(sub);
    for (const qos of [1, 2] as const) {
      const err = await plain.publishAsync('plant/a/x/telemetry', [{ temp: 'hot' }], { qos }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContractRefusedError);
      expect(err).toMatchObject({ code: 'CONTRACT_REFUSED', topic: 'plant/a/x/telemetry' });
      expect((err as Error).message).toContain('temp');
    }
    plain.publish('plant/a/x/telemetry', { temp: 'hot' });
    plain.publish('alarms/low', 'not an object');
    plain.publish('plant/a/telemetry', { temp: 'anything' });   // no contract for this shape: passes
    await plain.publishAsync('plant/a/x/telemetry', [{ temp: 4 }], { qos: 1 });
    const values = await all.done;
    expect(values.map((m) => m.topic)).toEqual(['plant/a/telemetry', 'plant/a/x/telemetry']);
    await roundTrip(plain, sub);
    expect(all.values).toHaveLength(2);
    expect(b.stats().contracts).toEqual({ checked: 5, refused: 2, dropped: 2 });
    all.unsubscribe();
  });

  it('republishes what it refused or dropped on its dead-letter topic', async () => {
    const b = await scope.broker({ contracts: [telemetry], deadLetter: 'rembus/invalid' });
    const [plain, ops] = await scope.connectAll(b, 'plain', 'ops');
    const dead = collect(ops.subscribe$('rembus/invalid'), 2);
    await roundTrip(ops);
    plain.publish('plant/a/x/telemetry', { temp: 'hot' });
    await plain.publishAsync('plant/a/x/telemetry', [{ temp: 1 }], { qos: 1 });
    await plain.publishAsync('plant/b/x/telemetry', [], { qos: 1 }).catch(() => undefined);
    const [d1, d2] = (await dead.done).map((m) => m.args[0] as { topic: string; reason: string; args: unknown[] });
    expect(d1).toMatchObject({ topic: 'plant/a/x/telemetry', args: [{ temp: 'hot' }] });
    expect(d1!.reason).toMatch(/^invalid \(temp: /);
    expect(d2).toMatchObject({ topic: 'plant/b/x/telemetry', args: [] });
    dead.unsubscribe();
    await expect(broker({ port: null, contracts: [telemetry], deadLetter: 'dead/*' })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
  });

  it('a refused publish from a peer that did not ask for notices gets no answer (it times out as for spec §4.2)', async () => {
    const b = await scope.broker({ contracts: [telemetry] });
    const raw = await scope.raw(b);
    const id = newMsgId();
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0x10, id, topic: 'plant/a/x/telemetry', args: [{ temp: 'x' }] }));
    const ok = newMsgId();
    raw.sendBinary(encodeCbor({ type: 'pub', flags: 0x10, id: ok, topic: 'plant/a/x/telemetry', args: [{ temp: 1 }] }));
    await waitFor(() => raw.unread.length >= 1, { what: 'the ACK of the valid publish' });
    expect(raw.unread).toHaveLength(1); // that ACK only: nothing for the refused one
    expect(b.stats().contracts).toEqual({ checked: 2, refused: 1, dropped: 0 });
  });
});
