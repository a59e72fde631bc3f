/**
 * Frames a buggy Python or Julia peer sends (README "Security": "wrong shapes and unknown types
 * (logged and dropped)"): every message type of spec §2, with each field after the type byte
 * replaced in turn by every CBOR type that does not belong there — null, booleans, negative,
 * fractional and 64-bit numbers, NaN, text, bytes, arrays, maps, tags — and each message cut
 * short. Deterministic, unlike the property-based fuzz test: every position gets every type. The
 * broker must stay up, answer each peer that still talks sense, log no internal error (a
 * TypeError is a bug, not a refusal), and serve normal traffic afterwards.
 */
import { Encoder, Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor, type RawClient } from './helpers.js';

const scope = useScope();
const cbor = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false } as ConstructorParameters<typeof Encoder>[0]);
const id8 = (n: number): Uint8Array => { const b = new Uint8Array(8); b[7] = n & 0xff; b[6] = n >> 8; return b; };

const BAD: unknown[] = [
  null, undefined, true, false, -1, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 64n - 1n, -(2n ** 63n),
  '', 'x', 'a'.repeat(300), new Uint8Array(0), new Uint8Array(3), id8(1), [], [[[]]], { a: 1 }, new Map([[1, 2]]),
  new Tag(new Uint8Array(4), 80), new Tag('x', 27), new Tag(1, 55799),
];

/** One valid message of each kind (spec §2), as plain arrays. */
const TEMPLATES: [string, unknown[]][] = [
  ['IDENTITY', [0, id8(1), 'victim']],
  ['IDENTITY JL', [0, id8(1), 'victim', { x: 1 }]],
  ['PUB QoS0', [1, 't', [1]]],
  ['PUB QoS0 + meta', [1, 't', [1], { retain: true }]],
  ['PUB QoS1', [0x11, id8(2), 't', [1]]],
  ['PUB QoS2', [0x31, id8(3), 't', [1]]],
  ['PUB QoS1 + meta', [0x11, id8(4), 't', [1], { ttl: 1000 }]],
  ['RPC', [2, id8(5), 'rid', null, []]],
  ['RPC streaming', [0x22, id8(6), 'rid', null, []]],
  ['ADMIN subscribe', [3, id8(7), 't', { cmd: 'subscribe', msg_from: 0 }]],
  ['ADMIN reactive', [3, id8(8), '__config__', { cmd: 'reactive', status: true, msg_from: 1e9 }]],
  ['ADMIN expose', [3, id8(9), 'm', { cmd: 'expose' }]],
  ['RESPONSE', [4, id8(10), 0, null]],
  ['RESPONSE cancel', [0x44, id8(11), 0, null]],
  ['ACK', [5, id8(12)]],
  ['ACK2', [6, id8(13)]],
  ['UNREGISTER', [9, id8(14)]],
  ['REGISTER', [10, id8(15), 'victim', '11223344', new Uint8Array(32), 'rsa']],
  ['ATTESTATION', [11, id8(16), 'victim', new Uint8Array(64)]],
  ['PING', [12, id8(17), 'victim']],
  ['CLOSE', [15]],
];

function* variants(): Generator<[string, Uint8Array]> {
  for (const [name, template] of TEMPLATES) {
    for (let pos = 1; pos < template.length; pos++) {
      for (const bad of BAD) {
        const frame = [...template];
        frame[pos] = bad;
        yield [`${name} [${pos}] = ${String(bad)}`, cbor.encode(frame)];
      }
    }
    // Cut short: fewer elements, and the encoded bytes truncated.
    for (let n = 0; n < template.length; n++) yield [`${name} with ${n} elements`, cbor.encode(template.slice(0, n))];
    const whole = cbor.encode(template);
    for (let n = 1; n < whole.length; n++) yield [`${name} truncated to ${n} bytes`, whole.subarray(0, n)];
  }
}

/** A logger keeping error lines (children share them). */
function errorRecorder(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const log: Logger & { errors: string[] } = {
    errors,
    debug: () => undefined, info: () => undefined, warn: () => undefined,
    error: (obj: unknown, msg?: string) => { errors.push(`${msg ?? ''} ${JSON.stringify(obj)}`); },
    child: () => log,
  };
  return log;
}

/** A `rid` RPC on `raw`, answered: the broker has handled everything sent before on this link. */
async function rid(raw: RawClient, n: number): Promise<void> {
  const id = id8(0xf000 + (n & 0xfff));
  raw.sendBinary(cbor.encode([2, id, 'rid', null, []]));
  // The RESPONSE `84 04 48 <id>`: matched on the id's bytes as sent.
  const head = Buffer.concat([Buffer.of(0x84, 0x04, 0x48), id]);
  for (;;) {
    const frame = await raw.next(10_000);
    if (typeof frame !== 'string' && frame.subarray(0, 11).equals(head)) return;
  }
}

describe('frames with a wrong type in every field', () => {
  it('drops each one, keeps serving, and logs no internal error', async () => {
    const logger = errorRecorder();
    const b = await scope.broker({ logger });
    let raw = await scope.raw(b);
    let n = 0;
    for (const [, frame] of variants()) {
      if (!raw.isOpen) raw = await scope.raw(b);
      raw.sendBinary(frame);
      // Every 50 frames, and after the last, the link (or a fresh one) must still answer.
      if (++n % 50 === 0) {
        if (raw.isOpen) await rid(raw, n).catch(() => undefined);
        if (!raw.isOpen) raw = await scope.raw(b);
        await rid(raw, n);
      }
    }
    expect(logger.errors).toEqual([]);
    raw.close();
    await waitFor(() => b.stats().connections === 0, { what: 'the raw links to close' });
    // Normal service afterwards: the name the frames tried to take is free, pub/sub works.
    const [pub, victim] = await scope.connectAll(b, 'pub', 'victim');
    const got = collect(victim.subscribe$('after'), 1);
    await roundTrip(victim);
    pub.publish('after', 'ok');
    expect((await got.done)[0]!.args).toEqual(['ok']);
  }, 60_000);
});

/**
 * The other way: an exposer (a raw peer standing for a buggy PY/JL one) answers a TS caller's
 * calls with RESPONSEs of wrong types, short, or flagged as a stream item to a plain call.
 */
describe('answers with a wrong type in every field, relayed to a TS caller', () => {
  it('fails or answers each call, never throws out of the component, and the next good call works', async () => {
    const b = await scope.broker();
    const exposer = await scope.raw(b);
    exposer.sendBinary(cbor.encode([0, id8(1), 'buggy-exposer']));
    exposer.sendBinary(cbor.encode([3, id8(2), 'm', { cmd: 'expose' }]));
    await rid(exposer, 1);
    const caller = await scope.connect(b, 'caller');
    const answers: unknown[][] = [
      ...BAD.map((bad) => [4, null, bad, null]), ...BAD.map((bad) => [4, null, 0, bad]), ...BAD.map((bad) => [4, null, 40, bad]),
      ...BAD.map((bad) => [0x34, null, bad, null]), [4, null], [0x24, null, 0, 1], [4, null, 0, 'good'],
    ];
    // All calls at once (a dropped answer costs its caller the timeout, not the test); the broker
    // forwards them in order, each answered under its id with the next malformed answer.
    const calls = answers.map(() => caller.call('m', [], { timeout: 5_000 })
      .then((v) => `value ${String(v)}`, (e: unknown) => `error ${(e as { code?: string }).code}`));
    for (const answer of answers) {
      let id: Buffer | undefined;
      while (id === undefined) {
        const frame = await exposer.next(10_000);
        if (typeof frame === 'string') continue;
        const at = frame[1] === 0x18 ? 3 : 2;
        if ((frame[at - 1] === 0x02 || frame[at - 1] === 0x22) && frame[at] === 0x48) id = frame.subarray(at + 1, at + 9);
      }
      exposer.sendBinary(cbor.encode(answer.map((v, i) => (i === 1 ? id : v))));
    }
    const outcomes = await Promise.all(calls);
    expect(outcomes.at(-1)).toBe('value good');
    // A stream item to a call that accepts none is not its answer: the call times out, it does not hang.
    expect(outcomes.at(-2)).toBe('error RPC_TIMEOUT');
    expect(outcomes.filter((o) => !/^(value|error [A-Z_]+$)/.test(o))).toEqual([]);
    expect(outcomes.filter((o) => o === 'error CONNECTION_CLOSED')).toEqual([]);
    // The broker forgets every call: answered, dropped or withdrawn at the caller's timeout.
    await waitFor(() => b.stats().pendingRpcs === 0, { timeout: 10_000, what: 'the broker to forget every call' });
    expect(await caller.rpc('rid')).toBe('broker');
  }, 60_000);
});
