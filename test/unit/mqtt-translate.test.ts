/** The pure parts of the MQTT entry: pattern → filter, matchers, payloads, RPC topic layout. */
import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError, InvalidTopicError } from '../../src/errors.js';
import { FilterTable } from '../../src/mqtt/filters.js';
import { rpcTopics, toMqttFilter, validateMqttTopic } from '../../src/mqtt/index.js';
import { mqttFilterMatches, rembusMatcher } from '../../src/mqtt/translate.js';
import { decodeArgs, decodeResponse, encodePublish, encodeRequest, encodeResponse } from '../../src/mqtt/payload.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const S = '*'; // keeps `*` + `/` out of the source as a comment opener

describe('toMqttFilter', () => {
  it.each([
    ['a/b', 'a/b'],
    [`a/${S}/b`, 'a/+/b'],
    [`${S}/alarm`, '+/alarm'],
    ['a/x*y', 'a/+'],
    [`a/x${S}/c`, 'a/+/c'],
    ['a/**', 'a/#'],
    ['**', '#'],
    ['*', '#'],
    [`**/telemetry`, '#'],
    [`a/**/b`, 'a/#'],
    ['a**', '#'],
    [`x/a**/y`, 'x/#'],
    ['a//b', 'a//b'],
    ['/a', '/a'],
    ['$SYS/**', '$SYS/#'],
  ])('translates %s to %s', (pattern, filter) => {
    expect(toMqttFilter(pattern)).toBe(filter);
  });

  it.each(['a/+', 'a/#', 'a+b', '#', `${S}/#`, 'a/***', '', 'a\u0000b', `$share/g/${S}`])('throws InvalidTopicError for %j', (pattern) => {
    expect(() => toMqttFilter(pattern)).toThrow(InvalidTopicError);
  });
});

describe('validateMqttTopic', () => {
  it('returns a topic MQTT can carry', () => {
    expect(validateMqttTopic('plant/7/telemetry')).toBe('plant/7/telemetry');
  });

  it.each(['a/+', 'a/#', 'a/*', '', 42, '$share/g/t'])('throws InvalidTopicError for %j', (topic) => {
    expect(() => validateMqttTopic(topic)).toThrow(InvalidTopicError);
  });
});

describe('rembusMatcher', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/bc', false],
    [`k/${S}/y`, 'k/e/y', true],
    [`k/${S}/y`, 'k//y', false],
    [`k/${S}/y`, 'k/@e/y', false],
    [`k/${S}/y`, 'k/e/f/y', false],
    ['a/**', 'a/b/c', true],
    ['a/**', 'a/', true],
    ['a/**', 'a', false],
    ['**/telemetry', 'x/y/telemetry', true],
    ['**/telemetry', 'telemetry', false],
    ['**', 'foo', true],
    ['**', '@foo', false],
    ['*', 'foo', true],
    ['*', '@a/b', true],
    ['dev*/temp', 'device/temp', true],
    ['dev*/temp', 'dev/temp', false],
  ])('%s matches %s: %s', (pattern, topic, expected) => {
    expect(rembusMatcher(pattern)(topic)).toBe(expected);
  });

  it('never matches less than the MQTT filter it is confirmed against', () => {
    const topics = ['a', 'a/b', 'a/b/c', 'x/a/b', 'a//b', 'a/@b', '$SYS/x', 'dev1/temp'];
    for (const pattern of [`a/${S}`, 'a/**', `${S}/b`, '**', `${S}/**`, 'a/x*', 'dev*/temp', 'a/b']) {
      const filter = toMqttFilter(pattern);
      for (const topic of topics) {
        if (rembusMatcher(pattern)(topic) && !topic.startsWith('$')) expect(mqttFilterMatches(filter, topic)).toBe(true);
      }
    }
  });
});

describe('mqttFilterMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$share/g/a/+', 'a/b', true],
    ['$share/g/a/+', 'b/b', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(mqttFilterMatches(filter, topic)).toBe(expected);
  });
});

describe('encodePublish', () => {
  it.each<[unknown[], string]>([
    [[], '[]'],
    [[{ value: 42 }], '{"value":42}'],
    [[1, 2], '[1,2]'],
    [['text'], '"text"'],
    [[[1, 2]], '[1,2]'],
    [[null], 'null'],
    [[undefined], 'null'],
    [[2n ** 70n], '1180591620717411303424'],
    [[new Uint8Array([1, 2, 255])], '"AQL/"'],
    [[Number.NaN, Infinity], '[null,null]'],
  ])('encodes %s as %s', (args, json) => {
    expect(encodePublish(args)).toBe(json);
  });

  it('throws EncodeError for a CBOR tag, a DataFrame and a cycle', () => {
    const frame = { [Symbol.toStringTag]: 'DataFrame' };
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    for (const value of [new Tag(new Uint8Array(1), 80), frame, cycle]) {
      expect(() => encodePublish([value])).toThrow(EncodeError);
      expect(() => encodeRequest([value])).toThrow(EncodeError);
    }
  });
});

describe('encodeRequest', () => {
  it('always sends the array of arguments', () => {
    expect([encodeRequest([]), encodeRequest([1]), encodeRequest([[1]])]).toEqual(['[]', '[1]', '[[1]]']);
  });
});

describe('decodeArgs', () => {
  it.each<[string, unknown[]]>([
    ['[1,2]', [1, 2]],
    ['[]', []],
    ['{"name":"rembus","value":42}', [{ name: 'rembus', value: 42 }]],
    ['7', [7]],
    ['"x"', ['x']],
    ['null', [null]],
    ['12345678901234567890', [12345678901234567890n]],
    ['[-9007199254740993, 9007199254740991, 1.5]', [-9007199254740993n, 9007199254740991, 1.5]],
  ])('decodes %s', (json, args) => {
    expect(decodeArgs(bytes(json))).toEqual(args);
  });

  it.each(['not json', '', '{', '\uFFFD'])('throws DecodeError for %j', (text) => {
    expect(() => decodeArgs(bytes(text))).toThrow(DecodeError);
  });

  it('throws DecodeError for bytes that are not UTF-8', () => {
    expect(() => decodeArgs(new Uint8Array([0xff, 0xfe]))).toThrow(DecodeError);
  });
});

describe('encodeResponse / decodeResponse', () => {
  it('round-trips status and data, null for undefined', () => {
    expect(encodeResponse(0, 3)).toBe('{"sts":0,"data":3}');
    expect(encodeResponse(0, undefined)).toBe('{"sts":0,"data":null}');
    expect(decodeResponse(bytes(encodeResponse(40, 'boom')))).toEqual({ status: 40, data: 'boom' });
    expect(decodeResponse(bytes('{"sts":0,"data":false}'))).toEqual({ status: 0, data: false });
    expect(decodeResponse(bytes('{"sts":0}'))).toEqual({ status: 0, data: null });
  });

  it('takes any other JSON value as the result of a foreign responder', () => {
    expect(decodeResponse(bytes('[1,2]'))).toEqual({ status: 0, data: [1, 2] });
    expect(decodeResponse(bytes('{"value":1}'))).toEqual({ status: 0, data: { value: 1 } });
  });
});

describe('rpcTopics', () => {
  it('lays out requests, direct requests and replies under the prefix', () => {
    const t = rpcTopics('rembus', 'node-1');
    expect(t.replyTopic).toBe('rembus/reply/node-1');
    expect(t.directFilter).toBe('rembus/direct/node-1/#');
    expect(t.requestTopic('math/add')).toBe('rembus/rpc/math/add');
    expect(t.directTopic('other', 'math/add')).toBe('rembus/direct/other/math/add');
    expect(t.directMethod('rembus/direct/node-1/math/add')).toBe('math/add');
    expect(t.methodFilter('add', 'rembus')).toBe('$share/rembus/rembus/rpc/add');
    expect(t.methodFilter('add', undefined)).toBe('rembus/rpc/add');
  });

  it.each([
    ['rembus/rpc/add', true], ['rembus/reply/x', true], ['rembus/direct/x/m', true],
    ['rembus/#', false], ['rembus/+/x', false], ['rembus', false], ['rembus/rpc', false], ['other/rpc/x', false],
  ])('%s is reserved: %s', (topic, expected) => {
    expect(rpcTopics('rembus', 'c').isReserved(topic)).toBe(expected);
  });
});

describe('FilterTable', () => {
  const none = (): void => undefined;

  it('creates one entry per filter and drops it with the last reference', () => {
    const table = new FilterTable();
    const first = table.acquire('a/+', true, none);
    const second = table.acquire('a/+', true, none);
    expect([first.created, second.created, second.entry]).toEqual([true, false, first.entry]);
    expect(table.release('a/+')).toBe(false);
    expect(table.release('a/+')).toBe(true);
    expect(table.entries()).toEqual([]);
    expect(table.release('a/+')).toBe(false);
  });

  it('routes by subscription identifiers, or by filter when there are none', () => {
    const table = new FilterTable();
    const hash = table.acquire('#', true, none).entry;
    const ab = table.acquire('a/+', true, none).entry;
    expect(hash.id).not.toBe(ab.id);
    expect(table.route('a/b', ab.id)).toEqual([ab]);
    expect(table.route('a/b', [hash.id, ab.id, ab.id])).toEqual([hash, ab]);
    expect(table.route('a/b', 999)).toEqual([]);
    expect(table.route('a/b', undefined)).toEqual([hash, ab]);
    expect(table.route('x', undefined)).toEqual([hash]);
  });
});
