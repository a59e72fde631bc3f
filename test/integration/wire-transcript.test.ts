/**
 * Interoperability by wire transcript. The Python reference client (rembus 0.8.x) cannot be
 * installed here, so a raw `ws` client sends exactly the frames it sends (vectors in
 * rembus-vectors.md) and the broker's replies are checked byte for byte where the spec fixes
 * them. JSON-RPC text frames are checked in both the PY spelling (`type`, numeric ids above
 * 2^53) and the JL spelling (`__type__`, string ids).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'lossless-json';
import type { Broker } from '../../src/broker/index.js';
import { collect, hex, RawClient, roundTrip, textHex, toHex, useScope } from './helpers.js';

const scope = useScope();

/** The vectors' msgid 0x1122334455667788 as a CBOR byte string (little-endian). */
const ID = '48 88 77 66 55 44 33 22 11';
/** Further ids, so that every reply is seen to echo its own request's id. */
const id = (n: number): string => `48 ${n.toString(16).padStart(2, '0')} 77 66 55 44 33 22 11`;

const MYTOPIC = '67 6d 79 74 6f 70 69 63';
const MYSERVICE = '69 6d 79 73 65 72 76 69 63 65';
const MYCOMPONENT = '6b 6d 79 63 6f 6d 70 6f 6e 65 6e 74';
const ARGS_A1 = '82 61 61 01';
/** `{"cmd": "subscribe", "msg_from": 0.0}` with the double cbor2 writes. */
const SUBSCRIBE_NOW = 'a2 63 63 6d 64 69 73 75 62 73 63 72 69 62 65 68 6d 73 67 5f 66 72 6f 6d fb 00 00 00 00 00 00 00 00';
/** `{"cmd": "subscribe", "msg_from": +Inf}` with the half float cbor2 writes. */
const SUBSCRIBE_LAST = 'a2 63 63 6d 64 69 73 75 62 73 63 72 69 62 65 68 6d 73 67 5f 66 72 6f 6d f9 7c 00';

/** PY frames (vectors §8, §10, §5, §1, §2, §3). */
const identity = (msgid: string, cid: string): string => `83 00 ${msgid} ${textHex(cid)}`;
const subscribe = (msgid: string, topic: string, cmd = SUBSCRIBE_NOW): string => `84 03 ${msgid} ${textHex(topic)} ${cmd}`;
const reactive = (msgid: string): string =>
  `84 03 ${msgid} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a2 63 63 6d 64 68 72 65 61 63 74 69 76 65 66 73 74 61 74 75 73 f5`;
const expose = (msgid: string, method: string): string => `84 03 ${msgid} ${textHex(method)} a1 63 63 6d 64 66 65 78 70 6f 73 65`;
const ok = (msgid: string): string => `84 04 ${msgid} 00 f6`;
const rid = (msgid: string): string => `85 02 ${msgid} 63 72 69 64 f6 80`;
const ridReply = (msgid: string): string => `84 04 ${msgid} 00 66 62 72 6f 6b 65 72`;

/** `hex` normalised to the form `RawClient.nextHex` returns. */
const h = (s: string): string => toHex(hex(s));

/** Open a raw client and log it in with the PY IDENTITY; checks the OK reply byte for byte. */
async function pyClient(b: Broker, cid: string, msgid = ID): Promise<RawClient> {
  const raw = await scope.raw(b);
  raw.sendBinary(identity(msgid, cid));
  expect(await raw.nextHex()).toBe(h(ok(msgid)));
  return raw;
}

/** A `rid` round trip on a raw link: the next frame must be its reply (nothing came before it). */
async function rawRoundTrip(raw: RawClient, msgid: string): Promise<void> {
  raw.sendBinary(rid(msgid));
  expect(await raw.nextHex()).toBe(h(ridReply(msgid)));
}

describe('PY client transcript (CBOR)', () => {
  it('answers IDENTITY, subscribe (double and half-float msg_from), reactive and expose with [4, id, 0, null]', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    raw.sendBinary(`83 00 ${ID} ${MYCOMPONENT}`); // vectors §8, verbatim
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 00 f6`)); // vectors §6 "identity OK"
    raw.sendBinary(`84 03 ${ID} ${MYTOPIC} ${SUBSCRIBE_NOW}`); // vectors §10, verbatim
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 00 f6`));
    raw.sendBinary(`84 03 ${id(2)} 66 6f 74 68 65 72 73 ${SUBSCRIBE_LAST}`); // "others", LastReceived
    expect(await raw.nextHex()).toBe(h(ok(id(2))));
    raw.sendBinary(`84 03 ${ID} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a2 63 63 6d 64 68 72 65 61 63 74 69 76 65 66 73 74 61 74 75 73 f5`);
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 00 f6`));
    raw.sendBinary(`84 03 ${ID} ${MYSERVICE} a1 63 63 6d 64 66 65 78 70 6f 73 65`); // vectors §10 expose
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 00 f6`));
    expect(raw.unread).toEqual([]);
  });

  it('accepts the JL IDENTITY forms with a meta map', async () => {
    const b = await scope.broker();
    const jl1 = await scope.raw(b);
    jl1.sendBinary(`84 00 ${ID} ${MYCOMPONENT} a0`);
    expect(await jl1.nextHex()).toBe(h(ok(ID)));
    const jl2 = await scope.raw(b);
    jl2.sendBinary(`84 00 ${id(3)} ${textHex('other')} a1 62 77 73 1b 00 00 00 00 00 00 20 92`);
    expect(await jl2.nextHex()).toBe(h(ok(id(3))));
  });

  it('answers unknown admin commands with 47 and a cmd-less admin with 10', async () => {
    const b = await scope.broker();
    const raw = await pyClient(b, 'mycomponent');
    raw.sendBinary(`84 03 ${id(4)} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a1 63 63 6d 64 63 66 6f 6f`); // {"cmd":"foo"}
    expect(await raw.nextHex()).toBe(h(`84 04 ${id(4)} 18 2f f6`));
    raw.sendBinary(`84 03 ${id(5)} 6a 5f 5f 63 6f 6e 66 69 67 5f 5f a0`); // {}
    expect((await raw.nextHex()).startsWith(h(`84 04 ${id(5)} 0a`))).toBe(true);
    raw.sendBinary(`83 00 ${id(6)} 60`); // IDENTITY with an empty cid on an already named link
    expect((await raw.nextHex()).startsWith(h(`84 04 ${id(6)} 0a`))).toBe(true);
  });

  it('answers an IDENTITY with an empty cid with status 10 "empty cid"', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    raw.sendBinary(`83 00 ${ID} 60`);
    expect(await raw.nextHex()).toBe(h(`84 04 ${ID} 0a 69 65 6d 70 74 79 20 63 69 64`));
  });

  it('routes an RPC: 42 before anyone exposes, then forwards the request verbatim and relays the reply', async () => {
    const b = await scope.broker();
    const caller = await pyClient(b, 'caller');
    const rpc = `85 02 ${ID} ${MYSERVICE} f6 82 01 02`; // vectors §5, verbatim
    caller.sendBinary(rpc);
    expect(await caller.nextHex()).toBe(h(`84 04 ${ID} 18 2a ${MYSERVICE}`)); // vectors §7

    const srv = await pyClient(b, 'mycomponent', id(7));
    srv.sendBinary(expose(id(8), 'myservice'));
    expect(await srv.nextHex()).toBe(h(ok(id(8))));
    srv.sendBinary(reactive(id(9)));
    expect(await srv.nextHex()).toBe(h(ok(id(9))));

    caller.sendBinary(rpc);
    expect(await srv.nextHex()).toBe(h(rpc));
    srv.sendBinary(`84 04 ${ID} 00 03`); // vectors §6
    expect(await caller.nextHex()).toBe(h(`84 04 ${ID} 00 03`));

    // JL-form integers arrive at the exposer as sent; a method exception travels back as is.
    const jlRpc = `85 02 ${id(10)} ${MYSERVICE} f6 82 1b 00 00 00 00 00 00 00 01 1b 00 00 00 00 00 00 00 02`;
    caller.sendBinary(jlRpc);
    expect(await srv.nextHex()).toBe(h(jlRpc));
    srv.sendBinary(`84 04 ${id(10)} 18 28 64 62 6f 6f 6d`); // vectors §7 [4, id, 40, "boom"]
    expect(await caller.nextHex()).toBe(h(`84 04 ${id(10)} 18 28 64 62 6f 6f 6d`));

    // A 3-element RESPONSE (data omitted) is relayed too.
    caller.sendBinary(`85 02 ${id(11)} ${MYSERVICE} f6 80`);
    expect(await srv.nextHex()).toBe(h(`85 02 ${id(11)} ${MYSERVICE} f6 80`));
    srv.sendBinary(`83 04 ${id(11)} 00`);
    expect(await caller.nextHex()).toBe(h(`83 04 ${id(11)} 00`));
  });

  it('answers an RPC with 43 when the only exposer is gone, and 44 to the exposer itself', async () => {
    const b = await scope.broker();
    const srv = await pyClient(b, 'mycomponent');
    srv.sendBinary(expose(id(2), 'myservice'));
    expect(await srv.nextHex()).toBe(h(ok(id(2))));
    srv.sendBinary(`85 02 ${id(3)} ${MYSERVICE} f6 80`);
    expect(await srv.nextHex()).toBe(h(`84 04 ${id(3)} 18 2c ${MYSERVICE}`));
    const caller = await pyClient(b, 'caller');
    await srv.close();
    // The broker notices the drop with no event to the caller: poll with RPCs until it answers 43.
    let reply = '';
    for (let n = 4; n < 200 && !reply.startsWith(h(`84 04 ${id(n - 1)} 18 2b`)); n++) {
      caller.sendBinary(`85 02 ${id(n)} ${MYSERVICE} f6 80`);
      reply = await caller.nextHex();
      if (reply.startsWith(h(`84 04 ${id(n)} 18 2b`))) {
        expect(reply).toBe(h(`84 04 ${id(n)} 18 2b ${MYSERVICE}`));
        return;
      }
    }
    throw new Error(`never answered 43; last reply ${reply}`);
  });

  it('forwards a direct RPC to the target, and answers 45 for an unknown target', async () => {
    const b = await scope.broker();
    const srv = await pyClient(b, 'srv');
    const caller = await pyClient(b, 'caller');
    const direct = `85 02 ${ID} ${MYSERVICE} 63 73 72 76 82 01 02`; // vectors §5, verbatim
    caller.sendBinary(direct);
    expect(await srv.nextHex()).toBe(h(direct));
    srv.sendBinary(`84 04 ${ID} 00 03`);
    expect(await caller.nextHex()).toBe(h(`84 04 ${ID} 00 03`));
    caller.sendBinary(`85 02 ${id(2)} ${MYSERVICE} ${textHex('nobody')} 82 01 02`);
    expect(await caller.nextHex()).toBe(h(`84 04 ${id(2)} 18 2d ${textHex('nobody')}`));
    caller.sendBinary(`85 02 ${id(3)} 63 72 69 64 66 62 72 6f 6b 65 72 80`); // rid, target "broker"
    expect(await caller.nextHex()).toBe(h(ridReply(id(3))));
  });

  it('ACKs a QoS1 publish with [5, id] before delivering it verbatim; QoS0 likewise verbatim', async () => {
    const b = await scope.broker();
    const sub = await pyClient(b, 'sub');
    sub.sendBinary(subscribe(id(2), 'mytopic'));
    expect(await sub.nextHex()).toBe(h(ok(id(2))));
    sub.sendBinary(reactive(id(3)));
    expect(await sub.nextHex()).toBe(h(ok(id(3))));
    const pub = await pyClient(b, 'pub');

    const qos1 = `84 11 ${ID} ${MYTOPIC} ${ARGS_A1}`; // vectors §2, verbatim
    pub.sendBinary(qos1);
    expect(await pub.nextHex()).toBe(h(`82 05 ${ID}`));
    expect(await sub.nextHex()).toBe(h(qos1));
    // The broker ACKs once the message is in its log (durable), so delivery may come first.
    sub.sendBinary(`82 05 ${ID}`); // the PY subscriber acks; the broker takes it silently

    const qos0 = `83 01 ${MYTOPIC} ${ARGS_A1}`; // vectors §1, verbatim
    pub.sendBinary(qos0);
    expect(await sub.nextHex()).toBe(h(qos0));
    pub.sendBinary(`83 01 ${MYTOPIC} 80`); // no args
    expect(await sub.nextHex()).toBe(h(`83 01 ${MYTOPIC} 80`));
    // The publisher got nothing but the ACK; the subscriber nothing more.
    await rawRoundTrip(pub, id(4));
    await rawRoundTrip(sub, id(5));
  });

  it('delivers a QoS2 publish once per id until ACK2, ACKing every copy', async () => {
    const b = await scope.broker();
    const sub = await pyClient(b, 'sub');
    sub.sendBinary(subscribe(id(2), 'mytopic'));
    expect(await sub.nextHex()).toBe(h(ok(id(2))));
    const pub = await pyClient(b, 'pub');
    const qos2 = `84 18 31 ${ID} ${MYTOPIC} ${ARGS_A1}`; // vectors §3, verbatim
    pub.sendBinary(qos2);
    expect(await pub.nextHex()).toBe(h(`82 05 ${ID}`));
    expect(await sub.nextHex()).toBe(h(qos2));
    pub.sendBinary(qos2); // a retransmission: ACK again, no second delivery
    expect(await pub.nextHex()).toBe(h(`82 05 ${ID}`));
    await rawRoundTrip(pub, id(3));
    await rawRoundTrip(sub, id(4));
    pub.sendBinary(`82 06 ${ID}`); // ACK2 releases the id (vectors §3)
    await rawRoundTrip(pub, id(5));
    pub.sendBinary(qos2);
    expect(await pub.nextHex()).toBe(h(`82 05 ${ID}`));
    expect(await sub.nextHex()).toBe(h(qos2));
  });

  it('delivers a slotted QoS1 publish verbatim (vectors §4)', async () => {
    const b = await scope.broker();
    const sub = await pyClient(b, 'sub');
    sub.sendBinary(subscribe(id(2), 'mytopic'));
    expect(await sub.nextHex()).toBe(h(ok(id(2))));
    const pub = await pyClient(b, 'pub');
    const slotted = `84 18 51 48 d2 04 00 00 d4 c3 b2 a1 ${MYTOPIC} ${ARGS_A1}`;
    pub.sendBinary(slotted);
    expect(await pub.nextHex()).toBe(h('82 05 48 d2 04 00 00 d4 c3 b2 a1'));
    expect(await sub.nextHex()).toBe(h(slotted));
    // The PY subscriber acks; the broker's ordered outbox waits for it (spec §4.3, JL).
    sub.sendBinary('82 05 48 d2 04 00 00 d4 c3 b2 a1');
    const pyQos0Slot = `84 18 41 48 d2 04 00 00 00 00 00 00 ${MYTOPIC} ${ARGS_A1}`;
    pub.sendBinary(pyQos0Slot);
    expect(await sub.nextHex()).toBe(h(pyQos0Slot));
  });

  it('delivers a wildcard match as [1, pattern, [topic, ...args]] QoS0, and the catch-all verbatim', async () => {
    const b = await scope.broker();
    const wild = await pyClient(b, 'wild');
    wild.sendBinary(subscribe(id(2), 'k/*/y'));
    expect(await wild.nextHex()).toBe(h(ok(id(2))));
    const all = await pyClient(b, 'all');
    all.sendBinary(subscribe(id(3), '*'));
    expect(await all.nextHex()).toBe(h(ok(id(3))));
    const pub = await pyClient(b, 'pub');

    const qos1 = `84 11 ${ID} ${textHex('k/e/y')} ${ARGS_A1}`;
    pub.sendBinary(qos1);
    expect(await pub.nextHex()).toBe(h(`82 05 ${ID}`));
    expect(await wild.nextHex()).toBe(h(`83 01 ${textHex('k/*/y')} 83 ${textHex('k/e/y')} 61 61 01`));
    expect(await all.nextHex()).toBe(h(qos1));
    all.sendBinary(`82 05 ${ID}`); // acked, as a PY subscriber does: the outbox moves on

    pub.sendBinary(`83 01 ${textHex('k/@e/y')} 80`); // verbatim chunk: no wildcard match
    expect(await all.nextHex()).toBe(h(`83 01 ${textHex('k/@e/y')} 80`));
    await rawRoundTrip(pub, id(4));
    await rawRoundTrip(wild, id(5));
  });

  it('delivers a TS component publish to a PY subscriber as the PY bytes, and a PY publish to TS', async () => {
    const b = await scope.broker();
    const sub = await pyClient(b, 'sub');
    sub.sendBinary(subscribe(id(2), 'mytopic'));
    expect(await sub.nextHex()).toBe(h(ok(id(2))));
    const ts = await scope.connect(b, 'ts');
    ts.publish('mytopic', 'a', 1);
    expect(await sub.nextHex()).toBe(h(`83 01 ${MYTOPIC} ${ARGS_A1}`)); // vectors §1
    ts.publish('mytopic');
    expect(await sub.nextHex()).toBe(h(`83 01 ${MYTOPIC} 80`));

    const got = collect(ts.subscribe$('mytopic'), 1);
    await roundTrip(ts);
    sub.sendBinary(`84 11 ${ID} ${MYTOPIC} ${ARGS_A1}`);
    expect(await sub.nextHex()).toBe(h(`82 05 ${ID}`));
    expect(await got.done).toEqual([{ topic: 'mytopic', pattern: 'mytopic', args: ['a', 1], qos: 1 }]);
  });

  it('lets a TS component serve a PY caller and call a PY exposer', async () => {
    const b = await scope.broker();
    const ts = await scope.connect(b, 'ts');
    ts.expose('myservice', (a: number, c: number) => a + c);
    await roundTrip(ts);
    const py = await pyClient(b, 'mycomponent');
    py.sendBinary(`85 02 ${ID} ${MYSERVICE} f6 82 01 02`);
    expect(await py.nextHex()).toBe(h(`84 04 ${ID} 00 03`)); // vectors §6

    py.sendBinary(expose(id(2), 'pyservice'));
    expect(await py.nextHex()).toBe(h(ok(id(2))));
    const result = ts.rpc('pyservice', 1, 2);
    // [2, <8-byte id>, "pyservice", null, [1, 2]]
    const request = (await py.nextHex()).split(' ');
    expect(request.slice(0, 3).join(' ')).toBe('85 02 48');
    expect(request.slice(11).join(' ')).toBe(h(`${textHex('pyservice')} f6 82 01 02`));
    const requestId = request.slice(2, 11).join(' ');
    py.sendBinary(`84 04 ${requestId} 00 03`);
    expect(await result).toBe(3);
  });
});

// ---- JSON-RPC text frames ----------------------------------------------------------------

/** A reply's id exactly as written in the text (digits, quoted or not). */
function rawId(text: string): string {
  const m = /"id":("?[0-9]+"?)/.exec(text);
  if (m === null) throw new Error(`no id in ${text}`);
  return m[1]!;
}

/** Parse a text frame for field checks: integers beyond 2^53 become bigint, never rounded. */
function fields(text: string): Record<string, any> {
  return parse(text, null, (n) => /^-?\d+$/.test(n) && !Number.isSafeInteger(Number(n)) ? BigInt(n) : Number(n)) as
    Record<string, any>;
}

describe('JSON-RPC client transcript, PY spelling', () => {
  const BIG = '1234605616436508552'; // the vectors' id, above 2^53
  const EDGE = '9007199254740993'; // 2^53 + 1: JSON.parse would make it ...992
  const MAX = '18446744073709551615'; // 2^64 - 1

  it('logs in, publishes, subscribes and calls with ids echoed digit for digit', async () => {
    const b = await scope.broker();
    const ts = await scope.connect(b, 'ts');
    ts.expose('myservice', (a: number, c: number) => a + c);
    const got = collect(ts.subscribe$('mytopic'), 2);
    await roundTrip(ts);
    const py = await scope.raw(b);

    py.sendText(`{"jsonrpc":"2.0","id":${BIG},"method":"__identity__","params":{"type":0,"cid":"mycomponent"}}`);
    let reply = await py.nextText();
    expect(rawId(reply)).toBe(BIG);
    expect(fields(reply)).toMatchObject({ jsonrpc: '2.0', result: { type: 4, sts: 0, data: null } });
    expect(fields(reply)['error']).toBeUndefined();

    py.sendText('{"jsonrpc":"2.0","method":"mytopic","params":["a",1]}'); // vectors §13 QoS0
    py.sendText(`{"jsonrpc":"2.0","id":${EDGE},"method":"mytopic","params":{"type":16,"data":["b",2]}}`);
    reply = await py.nextText();
    expect(rawId(reply)).toBe(EDGE);
    expect(fields(reply)).toMatchObject({ jsonrpc: '2.0', result: { type: 5 } });
    expect((await got.done).map((m) => [m.args, m.qos])).toEqual([[['a', 1], 0], [['b', 2], 1]]);

    py.sendText(`{"jsonrpc":"2.0","id":${MAX},"method":"myservice","params":[1,2]}`); // vectors §13 RPC
    reply = await py.nextText();
    expect(rawId(reply)).toBe(MAX);
    expect(fields(reply)).toMatchObject({ jsonrpc: '2.0', result: { type: 4, sts: 0, data: 3 } });

    py.sendText(`{"jsonrpc":"2.0","id":${BIG},"method":"nomethod","params":[]}`);
    reply = await py.nextText();
    expect(rawId(reply)).toBe(BIG);
    expect(fields(reply)).toMatchObject({ jsonrpc: '2.0', error: { type: 4, sts: 42, data: 'nomethod' } });
    expect(fields(reply)['result']).toBeUndefined();
  });

  it('receives subscriptions as text frames in the PY spelling', async () => {
    const b = await scope.broker();
    const py = await scope.raw(b);
    py.sendText(`{"jsonrpc":"2.0","id":${BIG},"method":"__identity__","params":{"type":0,"cid":"mycomponent"}}`);
    await py.nextText();
    py.sendText(`{"jsonrpc":"2.0","id":${EDGE},"method":"jtopic","params":{"type":3,"data":{"cmd":"subscribe","msg_from":0.0}}}`);
    const reply = await py.nextText();
    expect(rawId(reply)).toBe(EDGE);
    expect(fields(reply)).toMatchObject({ result: { type: 4, sts: 0, data: null } });
    const ts = await scope.connect(b, 'ts');
    ts.publish('jtopic', 'b', 2);
    expect(await py.nextText()).toBe('{"jsonrpc":"2.0","method":"jtopic","params":["b",2]}');
  });

  it('serves a CBOR caller from a JSON exposer', async () => {
    const b = await scope.broker();
    const py = await scope.raw(b);
    py.sendText(`{"jsonrpc":"2.0","id":${BIG},"method":"__identity__","params":{"type":0,"cid":"jsonsrv"}}`);
    await py.nextText();
    py.sendText(`{"jsonrpc":"2.0","id":${EDGE},"method":"jm","params":{"type":3,"data":{"cmd":"expose"}}}`);
    expect(fields(await py.nextText())).toMatchObject({ result: { sts: 0 } });
    const ts = await scope.connect(b, 'ts');
    const result = ts.rpc('jm', 'x', 2);
    const request = await py.nextText();
    const req = fields(request);
    expect(req).toMatchObject({ jsonrpc: '2.0', method: 'jm', params: ['x', 2] });
    expect(rawId(request)).toMatch(/^[0-9]+$/); // numeric, as this peer writes ids
    py.sendText(`{"jsonrpc":"2.0","id":${rawId(request)},"result":{"type":4,"sts":0,"data":"done"}}`);
    expect(await result).toBe('done');
  });
});

describe('JSON-RPC client transcript, JL spelling', () => {
  it('gets string ids back for __type__ messages with string ids', async () => {
    const b = await scope.broker();
    const ts = await scope.connect(b, 'ts');
    ts.expose('myservice', (a: number, c: number) => a * c);
    const got = collect(ts.subscribe$('jltopic'), 1);
    await roundTrip(ts);
    const jl = await scope.raw(b);

    jl.sendText('{"jsonrpc":"2.0","id":"1234605616436508552","method":"__identity__","params":{"__type__":0,"cid":"jlclient","meta":{}}}');
    let reply = await jl.nextText();
    expect(rawId(reply)).toBe('"1234605616436508552"');
    expect(fields(reply)).toMatchObject({ result: { __type__: 4, sts: 0 } });

    jl.sendText('{"jsonrpc":"2.0","id":"9007199254740993","method":"myservice","params":[6,7]}');
    reply = await jl.nextText();
    expect(rawId(reply)).toBe('"9007199254740993"');
    expect(fields(reply)).toMatchObject({ result: { __type__: 4, sts: 0, data: 42 } });

    jl.sendText('{"jsonrpc":"2.0","id":"18446744073709551615","method":"jltopic","params":{"__type__":16,"data":["c",3]}}');
    reply = await jl.nextText();
    expect(rawId(reply)).toBe('"18446744073709551615"');
    expect(fields(reply)).toMatchObject({ result: { __type__: 5 } });
    expect((await got.done)[0]).toMatchObject({ topic: 'jltopic', args: ['c', 3], qos: 1 });

    jl.sendText('{"jsonrpc":"2.0","id":"42","method":"nomethod","params":[]}');
    reply = await jl.nextText();
    expect(rawId(reply)).toBe('"42"');
    expect(fields(reply)).toMatchObject({ error: { __type__: 4, sts: 42, data: 'nomethod' } });
  });
});

describe('frame kind', () => {
  it('answers each peer in the kind it last sent', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    raw.sendText('{"jsonrpc":"2.0","id":7,"method":"rid","params":[]}');
    expect(fields(await raw.nextText())).toMatchObject({ id: 7, result: { data: 'broker' } });
    raw.sendBinary(rid(ID));
    expect(await raw.nextHex()).toBe(h(ridReply(ID)));
    raw.sendText('{"jsonrpc":"2.0","id":8,"method":"rid","params":[]}');
    expect(fields(await raw.nextText())).toMatchObject({ id: 8, result: { data: 'broker' } });
  });
});
