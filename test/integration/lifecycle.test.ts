/**
 * Connection lifecycle over a real broker (spec §3, STYLE §8): duplicate names, anonymous
 * components, reconnect after a broker restart, close semantics, `await using`, and a broker
 * that keeps serving when one peer sends malformed frames.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, NEVER } from 'rxjs';
import { broker, type Broker } from '../../src/broker/index.js';
import {
  AuthError, NameTakenError, ConnectionClosedError, connect, type Component, type Message, type Status,
} from '../../src/index.js';
import {
  collect, decoded, hex, RawClient, relay, roundTrip, tappedDial, textHex, toHex, useScope, waitFor, type Tap,
} from './helpers.js';

const scope = useScope();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const value = await p;
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (err) {
    return err;
  }
}

describe('connect', () => {
  it('refuses a second connection with an already-connected name and keeps the first working', async () => {
    const b = await scope.broker();
    const [first, peer] = await scope.connectAll(b, 'dup', 'peer');
    const got = collect(first.subscribe$('still'), 1);
    await roundTrip(first);
    const err = await rejection(scope.connect(b, 'dup'));
    expect(err).toBeInstanceOf(NameTakenError);
    expect(err).not.toBeInstanceOf(AuthError);
    expect((err as NameTakenError).code).toBe('NAME_TAKEN');
    expect((err as NameTakenError).message).toContain("'dup' is already connected");
    expect(await first.rpc('rid')).toBe('broker');
    peer.publish('still', 'here');
    expect((await got.done)[0]!.args).toEqual(['here']);
    first.expose('m', () => 'first');
    await roundTrip(first);
    expect(await peer.rpc('m')).toBe('first');
  });

  it('lets an anonymous component (no path) call rid', async () => {
    const b = await scope.broker();
    const anon = await scope.connect(b);
    expect(anon.name).toBeUndefined();
    expect(await anon.rpc('rid')).toBe('broker');
    const other = await scope.connect(b);
    expect(await other.rpc('uptime')).toMatch(/^up for/);
  });

  it('lets anonymous components publish, subscribe and expose', async () => {
    const b = await scope.broker();
    const [a1, a2] = [await scope.connect(b), await scope.connect(b)];
    const got = collect(a1.subscribe$('anon/topic'), 1);
    a1.expose('anon_m', (x: number) => x + 1);
    await roundTrip(a1);
    a2.publish('anon/topic', 1);
    expect((await got.done)[0]!.args).toEqual([1]);
    expect(await a2.rpc('anon_m', 1)).toBe(2);
  });
});

describe('reconnect', () => {
  it('comes back by itself after a broker restart and re-declares subscriptions and methods', async () => {
    const b1 = await scope.broker();
    const port = b1.port!;
    const node = await scope.connect(b1, 'node', { reconnect: { initialDelay: 20, maxDelay: 100 } });
    const statuses = collect(node.status$, 1, { what: 'status' });
    const news = collect(node.subscribe$<[string]>('news'), 2, { what: 'news' });
    const wild = collect(node.subscribe$('alerts/**'), 2, { what: 'alerts' });
    node.expose('ping', () => 'pong');
    await roundTrip(node);
    {
      const before = await scope.connect(b1, 'before');
      before.publish('news', 'first');
      before.publish('alerts/x', 1);
      expect(await before.rpc('ping')).toBe('pong');
      await before.close();
    }
    await waitFor(() => news.values.length === 1 && wild.values.length === 1, { what: 'the first messages' });

    await b1.close();
    await waitFor(() => statuses.values.some((s) => s.type === 'reconnecting'), { what: "status 'reconnecting'" });
    const b2 = await scope.broker({ port });
    await waitFor(() => statuses.values.at(-1)?.type === 'up', { what: "status 'up' again" });

    const types = statuses.values.map((s: Status) => s.type);
    const down = types.indexOf('reconnecting');
    expect(types[0]).toBe('up');
    expect(down).toBeGreaterThan(0);
    expect(types.indexOf('up', down)).toBeGreaterThan(down);
    expect(types).not.toContain('closed');

    // 'up' comes after the declarations were answered: the new broker knows them.
    const other = await scope.connect(b2, 'other');
    other.publish('news', 'second');
    other.publish('alerts/y', 2);
    expect((await news.done).map((m: Message) => m.args)).toEqual([['first'], ['second']]);
    expect((await wild.done).map((m) => [m.topic, m.args])).toEqual([['alerts/x', [1]], ['alerts/y', [2]]]);
    expect(await other.rpc('ping')).toBe('pong');
    expect(await node.rpc('rid')).toBe('broker');
    // The application's streams went on through the outage.
    expect([news.completed, news.error, wild.completed, wild.error]).toEqual([false, undefined, false, undefined]);
    expect(statuses.completed).toBe(false);
  });

  it('withdraws at the same broker what was unsubscribed or unexposed while the link was down', async () => {
    const b = await scope.broker();
    const cut = scope.track(await relay(b.port!));
    const tap: Tap = { sent: [], received: [] };
    const node = scope.track(await connect(`${cut.url}/node`,
      { dial: tappedDial(tap), reconnect: { initialDelay: 50, maxDelay: 100 } }));
    const [other, cli] = await scope.connectAll(b, 'other', 'cli');
    const kept = collect(node.subscribe$('kept'), 1, { what: 'kept' });
    const gone = collect(node.subscribe$('gone'), 1, { what: 'gone' });
    const unexpose = node.expose('ping', () => 'node');
    other.expose('ping', () => 'other');
    await roundTrip(node, other);

    // The broker keeps a named component's declarations across a dropped link (spec §3.6),
    // so what the application withdraws meanwhile must reach it after the reconnect.
    const down = firstValueFrom(node.status$.pipe(filter((s) => s.type === 'down')));
    cut.cut();
    await down; // the next attempt is at least initialDelay away
    gone.unsubscribe();
    unexpose();
    await firstValueFrom(node.status$.pipe(filter((s) => s.type === 'up')));

    const answers: unknown[] = [];
    for (let i = 0; i < 4; i++) answers.push(await cli.rpc('ping').catch((e: unknown) => e));
    expect(answers).toEqual(['other', 'other', 'other', 'other']);
    other.publish('gone', 1);
    other.publish('kept', 2);
    expect((await kept.done)[0]!.args).toEqual([2]);
    await roundTrip(other, node);
    expect(decoded(tap.received).filter((m) => m.type === 'pub' && m.topic === 'gone')).toEqual([]);
  });
});

describe('dropped link', () => {
  /** `name` connected to `b` through a relay that the test can cut. */
  async function behindRelay(b: Broker, name: string): Promise<{ node: Component; cut: () => void }> {
    const r = scope.track(await relay(b.port!));
    const node = scope.track(await connect(`${r.url}/${name}`, { reconnect: { initialDelay: 50, maxDelay: 100 } }));
    return { node, cut: () => r.cut() };
  }

  it('fails a pending call with ConnectionClosedError when the link drops, and serves again once up', async () => {
    const b = await scope.broker();
    const srv = await scope.connect(b, 'srv');
    let calls = 0;
    srv.expose('hang', () => { calls++; return NEVER; });
    srv.expose('ok', () => 'ok');
    await roundTrip(srv);
    const { node, cut } = await behindRelay(b, 'node');
    const pending = rejection(node.rpc('hang'));
    await waitFor(() => calls === 1, { what: 'the handler to run' });
    cut();
    const err = await pending;
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as Error).message).toBe('connection down');
    // A call made while down waits for the link (within its timeout).
    expect(await node.rpc('ok')).toBe('ok');
  });

  it('declares a subscription made while down once the link is back', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b, 'pub');
    const { node, cut } = await behindRelay(b, 'node');
    const down = firstValueFrom(node.status$.pipe(filter((s) => s.type === 'down')));
    cut();
    await down;
    const got = collect(node.subscribe$('late/**'), 1);
    await firstValueFrom(node.status$.pipe(filter((s) => s.type === 'up')));
    pub.publish('late/topic', 'x');
    expect((await got.done)[0]).toMatchObject({ topic: 'late/topic', pattern: 'late/**', args: ['x'] });
  });
});

describe('close', () => {
  it('is idempotent, completes status$ and topic streams, and fails pending calls', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    let calls = 0;
    srv.expose('hang', () => { calls++; return NEVER; });
    await roundTrip(srv);
    const statuses = collect(cli.status$, 1);
    const topic = collect(cli.subscribe$('t'), 1);
    const wild = collect(cli.subscribe$('t/**'), 1);
    const pending = rejection(cli.rpc('hang'));
    const cold = cli.rpc$('rid'); // created now, subscribed after close
    await waitFor(() => calls === 1, { what: 'the handler to run' });

    await Promise.all([cli.close(), cli.close()]);
    await cli.close();

    const err = await pending;
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(err).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(statuses.completed).toBe(true);
    expect(statuses.values.at(-1)).toEqual({ type: 'closed' });
    expect(statuses.values.filter((s) => s.type === 'closed')).toHaveLength(1);
    expect([topic.completed, topic.error, wild.completed, wild.error]).toEqual([true, undefined, true, undefined]);
    expect(await rejection(collect(cold, 1).done)).toMatchObject({ cause: expect.any(ConnectionClosedError) });
    expect(await rejection(cli.rpc('rid'))).toBeInstanceOf(ConnectionClosedError);
    expect(() => cli.publish('t', 1)).toThrow(ConnectionClosedError);
    const late = collect(cli.subscribe$('t'), 1);
    expect(await rejection(late.done)).toMatchObject({ cause: expect.any(ConnectionClosedError) });
    expect(srv.name).toBe('srv');
    expect(await srv.rpc('rid')).toBe('broker');
  });

  it('closes on leaving an await using block', async () => {
    const b = await scope.broker();
    let statuses: ReturnType<typeof collect<Status>> | undefined;
    {
      await using c = await connect(`${b.url!}/scoped`);
      statuses = collect(c.status$, 1);
      expect(await c.rpc('rid')).toBe('broker');
    }
    expect(statuses.completed).toBe(true);
    expect(statuses.values.at(-1)).toEqual({ type: 'closed' });
  });

  it('closes a broker on leaving an await using block', async () => {
    let url: string;
    {
      await using b = await broker({ port: 0, host: '127.0.0.1' });
      url = b.url!;
      const c = await scope.connect(b, 'c', { reconnect: { maxRetries: 0 } });
      expect(await c.rpc('rid')).toBe('broker');
    }
    await expect(RawClient.open(url)).rejects.toThrow();
  });
});

describe('malformed frames', () => {
  const ID = '48 88 77 66 55 44 33 22 11';
  it.each([
    ['garbage bytes', (r: RawClient) => r.sendBinary('ff fe fd 00 13 37')],
    ['a CBOR [999]', (r: RawClient) => r.sendBinary('81 19 03 e7')],
    ['truncated CBOR', (r: RawClient) => r.sendBinary('85 02 48 88 77 66')],
    ['a PUB with truncated args', (r: RawClient) => r.sendBinary('83 01 65 61 66 74 65 72 82 01')],
    ['a PUB with bytes after its args', (r: RawClient) => r.sendBinary('83 01 65 61 66 74 65 72 81 01 01')],
    ['a PUB with a reserved head in its args', (r: RawClient) => r.sendBinary('83 01 65 61 66 74 65 72 81 1c')],
    ['an empty binary frame', (r: RawClient) => r.sendBinary(new Uint8Array(0))],
    ['a CBOR non-array', (r: RawClient) => r.sendBinary('a1 61 61 01')],
    ['an RPC with a 7-byte id', (r: RawClient) => r.sendBinary('85 02 47 01 02 03 04 05 06 07 61 6d f6 80')],
    ['a non-JSON text frame', (r: RawClient) => r.sendText('hello {not json')],
    ['a JSON text frame that is no message', (r: RawClient) => r.sendText('{"foo":1}')],
  ])('keeps serving everyone after %s', async (_what, sendBad) => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.expose('add', (a: number, c: number) => a + c);
    const got = collect(cli.subscribe$('after'), 1);
    await roundTrip(srv, cli);
    const raw = await scope.raw(b);
    sendBad(raw);
    // The raw peer's next frame is handled after the bad one (one ordered link): IDENTITY → OK.
    raw.sendBinary(`83 00 ${ID} 6b 6d 79 63 6f 6d 70 6f 6e 65 6e 74`);
    expect(await raw.nextHex()).toBe(toHex(hex(`84 04 ${ID} 00 f6`)));
    expect(raw.isOpen).toBe(true);
    expect(await cli.rpc('add', 2, 3)).toBe(5);
    srv.publish('after', 'ok');
    expect((await got.done)[0]!.args).toEqual(['ok']);
  });
});

describe('publish args the broker does not decode', () => {
  it('forwards well-formed args cbor-x cannot read to CBOR subscribers and skips JSON ones', async () => {
    const b = await scope.broker();
    const cborSub = await scope.raw(b);
    const jsonSub = await scope.raw(b);
    // {"cmd": "subscribe"} on topic t, in CBOR and in JSON-RPC (PY spelling).
    cborSub.sendBinary(`84 03 48 01 00 00 00 00 00 00 00 ${textHex('t')} a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65`);
    expect(await cborSub.nextHex()).toBe(toHex(hex('84 04 48 01 00 00 00 00 00 00 00 00 f6')));
    jsonSub.sendText('{"jsonrpc":"2.0","id":1,"method":"t","params":{"type":3,"data":{"cmd":"subscribe"}}}');
    await jsonSub.nextText();
    const pub = await scope.raw(b);
    // [1, "t", [simple(0)]]: well formed, but cbor-x reads simple values as packed-value references.
    pub.sendBinary(`83 01 ${textHex('t')} 81 e0`);
    pub.sendBinary(`83 01 ${textHex('t')} 81 01`);
    expect(await cborSub.nextHex()).toBe(toHex(hex(`83 01 ${textHex('t')} 81 e0`)));
    expect(await cborSub.nextHex()).toBe(toHex(hex(`83 01 ${textHex('t')} 81 01`)));
    // The JSON peer cannot be given the first: it gets the second only.
    expect(await jsonSub.nextText()).toBe('{"jsonrpc":"2.0","method":"t","params":[1]}');
  });
});
