/**
 * fast-check arbitraries of hostile frames for the broker fuzz test: valid messages of every
 * type with random fields, byte-level mutations of them, CBOR heads claiming huge lengths,
 * deep nesting, random text frames and frames above the broker's max payload.
 */
import { Tag } from 'cbor-x';
import fc from 'fast-check';
import { encodeCbor, encodeJson } from '../../src/codec/index.js';
import type { Msg } from '../../src/protocol/messages.js';

/** One frame to send: bytes go as a binary frame, a string as a text frame. */
export type FuzzFrame = Uint8Array | string;

/** The names, topics, PINs and keys the fuzz frames draw from (some of them mean something to the broker). */
export interface FuzzVocabulary {
  names: string[];
  topics: string[];
  pins: string[];
  publicKeys: string[];
  /** The broker's max payload: oversized frames are a little above it. */
  maxPayload: number;
}

const ADMIN_CMDS = [
  'subscribe', 'unsubscribe', 'expose', 'unexpose', 'reactive', 'setup', 'private_topic', 'public_topic',
  'authorize', 'unauthorize', 'private_topics_config', 'broker_config', 'load_config', 'save_config',
  'enable_debug', 'disable_debug', 'bogus', '',
];

const id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

/** Any CBOR value the component API could carry, nested a few levels. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.integer(), fc.double(), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 64 }), fc.boolean(),
    fc.constant(null), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  ),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    // Tagged values: DataFrames (80), JL objects (27), shared refs (28, 29), typed arrays, unknown tags.
    fc.tuple(fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 21, 25, 27, 28, 29, 32, 64, 70, 80, 256, 258), fc.nat(100_000)), tie('leaf'))
      .map(([tag, v]) => new Tag(v, tag)),
    fc.array(tie('node'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 })),
})).node;

function messages(v: FuzzVocabulary): fc.Arbitrary<Msg> {
  const name = fc.oneof(fc.constantFrom(...v.names), fc.string({ maxLength: 20 }));
  const topic = fc.oneof({ arbitrary: fc.constantFrom(...v.topics), weight: 4 }, { arbitrary: fc.string({ maxLength: 30 }), weight: 1 });
  const args = fc.array(value, { maxLength: 5 });
  const flags = fc.oneof(fc.constantFrom(0x10, 0x30, 0x40, 0x50, 0x70), fc.integer({ min: 0, max: 0xf0 }).map((f) => f & 0xf0));
  const cmd = fc.record({
    cmd: fc.oneof({ arbitrary: fc.constantFrom(...ADMIN_CMDS), weight: 6 }, { arbitrary: value, weight: 1 }),
    msg_from: fc.oneof(fc.constant(Infinity), fc.double(), fc.constant(0), fc.constant(1e9)),
    status: fc.oneof(fc.boolean(), value),
    cid: name,
    exposers: fc.array(topic, { maxLength: 4 }),
    subscribers: fc.array(topic, { maxLength: 4 }),
  }, { requiredKeys: ['cmd'] });
  const w = <T>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });
  return fc.oneof(
    w(fc.record({ type: fc.constant('identity' as const), id, cid: name }), 50),
    w(fc.record({ type: fc.constant('pub' as const), flags: fc.constant(0), topic, args }), 200),
    w(fc.record({ type: fc.constant('pub' as const), flags, id, topic, args }), 100),
    w(fc.record({ type: fc.constant('rpc' as const), id, topic, target: fc.option(name), args }), 100),
    w(fc.record({ type: fc.constant('admin' as const), id, topic, cmd }), 200),
    w(fc.record({ type: fc.constant('response' as const), id, status: fc.nat(255), data: value }), 50),
    w(fc.record({ type: fc.constantFrom('ack' as const, 'ack2' as const, 'unregister' as const), id }), 50),
    w(fc.record({
      type: fc.constant('register' as const), id, cid: name, pin: fc.oneof(fc.constantFrom(...v.pins), fc.string()),
      pubkey: fc.oneof(fc.constantFrom(...v.publicKeys).map((k) => new TextEncoder().encode(k)), fc.uint8Array({ maxLength: 300 })),
      keyType: fc.nat(3),
    }), 50),
    w(fc.record({ type: fc.constant('attestation' as const), id, cid: name, signature: fc.uint8Array({ maxLength: 80 }) }), 50),
    w(fc.record({ type: fc.constant('ping' as const), id, cid: name }), 50),
    // CLOSE ends the link: rare, or the fuzzer would mostly reconnect.
    w(fc.constant({ type: 'close' as const }), 1),
  ) as fc.Arbitrary<Msg>;
}

/** A valid message as a CBOR frame, or (a quarter of the time) as a JSON-RPC text frame. */
function validFrames(v: FuzzVocabulary): fc.Arbitrary<FuzzFrame> {
  return fc.tuple(messages(v), fc.nat(3)).map(([msg, pick]) => {
    if (pick === 0) {
      try {
        return encodeJson(msg);
      } catch { /* no JSON form: send CBOR */ }
    }
    return encodeCbor(msg);
  });
}

type Mutation =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(frame: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = frame;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    switch (m.op) {
      case 'flip': out = Uint8Array.from(out); if (out.length > 0) out[at]! ^= m.mask; break;
      case 'truncate': out = out.subarray(0, at); break;
      case 'insert': out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]); break;
      case 'delete': out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + m.n)]); break;
    }
  }
  return out;
}

/** Byte-level mutations (flips, truncations, insertions, deletions) of valid CBOR frames. */
function mutatedFrames(v: FuzzVocabulary): fc.Arbitrary<FuzzFrame> {
  return fc.tuple(messages(v), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([msg, ms]) => mutate(encodeCbor(msg), ms));
}

/** A CBOR head of major type `major` claiming `length` (4- or 8-byte argument). */
function head(major: number, length: bigint): number[] {
  if (length < 2n ** 32n) return [(major << 5) | 26, ...u(length, 4)];
  return [(major << 5) | 27, ...u(length, 8)];
}

function u(n: bigint, size: number): number[] {
  return Array.from({ length: size }, (_, i) => Number((n >> BigInt(8 * (size - 1 - i))) & 0xffn));
}

/** Heads claiming huge arrays, maps, byte and text strings: alone, as a PUB argument, or as its args. */
const hugeHeads: fc.Arbitrary<FuzzFrame> = fc.tuple(
  fc.constantFrom(2, 3, 4, 5), fc.bigInt({ min: 1n << 20n, max: 2n ** 64n - 1n }), fc.constantFrom('bare', 'arg', 'args', 'topic'),
  fc.uint8Array({ maxLength: 16 }),
).map(([major, length, where, tail]) => {
  const h = head(major, length);
  const topic = [0x61, 0x74];
  switch (where) {
    case 'bare': return Uint8Array.from([...h, ...tail]);
    case 'arg': return Uint8Array.from([0x83, 0x01, ...topic, 0x81, ...h, ...tail]);
    case 'args': return Uint8Array.from([0x83, 0x01, ...topic, ...h, ...tail]);
    default: return Uint8Array.from([0x83, 0x01, ...h, ...tail]);
  }
});

/** Arrays, maps, tags or indefinite arrays nested up to 12,000 deep, bare or as a PUB argument; and deep JSON. */
const deepNesting: fc.Arbitrary<FuzzFrame> = fc.tuple(
  fc.oneof(fc.constant(10_000), fc.integer({ min: 300, max: 12_000 })),
  fc.constantFrom('array', 'map', 'tag', 'indefinite', 'json'), fc.boolean(),
).map(([depth, kind, inPub]) => {
  if (kind === 'json') {
    const open = inPub ? '{"jsonrpc":"2.0","method":"t","params":' : '';
    return `${open}${'['.repeat(depth)}${']'.repeat(depth)}${inPub ? '}' : ''}`;
  }
  const unit = kind === 'array' ? [0x81] : kind === 'map' ? [0xa1, 0x61, 0x6b] : kind === 'tag' ? [0xd8, 0x50] : [0x9f];
  const body: number[] = [];
  for (let i = 0; i < depth; i++) body.push(...unit);
  body.push(0xf6);
  if (kind === 'indefinite') for (let i = 0; i < depth; i++) body.push(0xff);
  return Uint8Array.from(inPub ? [0x83, 0x01, 0x61, 0x74, ...body] : body);
});

/** Random text: any string, any JSON, and JSON-RPC-shaped objects with random fields. */
function textFrames(v: FuzzVocabulary): fc.Arbitrary<FuzzFrame> {
  const rpcLike = fc.record({
    jsonrpc: fc.constantFrom('2.0', '1.0'),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 25 }), fc.constant(null), fc.double()),
    method: fc.oneof(fc.constantFrom(...v.topics, '__identity__', '__unregister__'), fc.string({ maxLength: 12 })),
    params: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({
      type: fc.oneof(fc.constantFrom(0, 3, 9, 10, 11, 0x10, 0x30, 0x40, 0x50), fc.integer()),
      cid: fc.oneof(fc.constantFrom(...v.names), fc.string()), data: fc.jsonValue({ maxDepth: 2 }),
      signature: fc.base64String({ maxLength: 60 }), pin: fc.constantFrom(...v.pins), key_val: fc.base64String({ maxLength: 80 }),
    }, { requiredKeys: ['type'] })),
    result: fc.jsonValue({ maxDepth: 2 }),
  }, { requiredKeys: ['jsonrpc'] }).map((o) => JSON.stringify(o));
  return fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 }), { arbitrary: rpcLike, weight: 3 });
}

/** Frames a little above the broker's max payload (the link is closed with 1009). */
function oversized(v: FuzzVocabulary): fc.Arbitrary<FuzzFrame> {
  return fc.integer({ min: 1, max: 4096 }).map((extra) => new Uint8Array(v.maxPayload + extra));
}

/** Every kind of hostile frame, weighted so that cheap, varied frames dominate. */
export function hostileFrames(v: FuzzVocabulary): fc.Arbitrary<FuzzFrame> {
  return fc.oneof(
    { arbitrary: validFrames(v), weight: 400 },
    { arbitrary: mutatedFrames(v), weight: 300 },
    { arbitrary: textFrames(v), weight: 150 },
    { arbitrary: hugeHeads, weight: 80 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 50 },
    { arbitrary: deepNesting, weight: 10 },
    { arbitrary: oversized(v), weight: 1 },
  );
}
