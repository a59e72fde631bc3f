/**
 * The pure parts of typed contracts: pattern parameters (example tables), the broker's ingest
 * check, and refusal notices turned into errors.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compilePattern, paramsOf, topicOf } from '../../src/contracts/params.js';
import { ContractIngest } from '../../src/contracts/ingest.js';
import { refusalError } from '../../src/contracts/errors.js';
import { ContractParamsError, ContractRefusedError, InvalidTopicError, method, topic, UnauthorizedError } from '../../src/index.js';

describe('compilePattern', () => {
  it.each([
    ['plant/:site/:dn/telemetry', 'plant/*/*/telemetry', ['site', 'dn']],
    [':a', '*', ['a']],
    ['a/b', 'a/b', []],
  ])('%s subscribes as %s with params %j', (pattern, subscription, params) => {
    const c = compilePattern(pattern);
    expect(c.subscription).toBe(subscription);
    expect(c.params).toEqual(params);
  });

  it.each(['', 'a//b', 'a/*', 'a/**', 'a/:1x', 'a/:', ':x/:x', 'a/:x-y'])('refuses %j', (pattern) => {
    expect(() => compilePattern(pattern)).toThrow(InvalidTopicError);
  });
});

describe('paramsOf / topicOf', () => {
  const c = compilePattern('plant/:site/:dn/telemetry');
  it.each([
    ['plant/a/x/telemetry', { site: 'a', dn: 'x' }],
    ['plant/a/telemetry', undefined],
    ['plant/a/x/y/telemetry', undefined],
    ['factory/a/x/telemetry', undefined],
    ['plant//x/telemetry', undefined],
    ['plant/a/x/telemetry/', undefined],
  ])('%s → %j', (t, params) => {
    expect(paramsOf(c, t)).toEqual(params);
  });

  it('builds topics and refuses params that are not one segment', () => {
    expect(topicOf(c, { site: 'a', dn: 'x' })).toBe('plant/a/x/telemetry');
    for (const bad of [{ site: 'a/b', dn: 'x' }, { site: '', dn: 'x' }, { site: '*', dn: 'x' }, { site: 'a' }, { site: 1, dn: 'x' }]) {
      expect(() => topicOf(c, bad)).toThrow(ContractParamsError);
    }
  });
});

describe('topic / method', () => {
  it('refuse a value that is not a Standard Schema', () => {
    expect(() => topic('a', {} as never)).toThrow(TypeError);
    expect(() => method('m', [z.number(), {} as never], z.number())).toThrow(TypeError);
    expect(() => method('m/*', z.number(), z.number())).toThrow(InvalidTopicError);
  });
});

describe('ContractIngest', () => {
  const ingest = new ContractIngest([
    topic('plant/:site/telemetry', z.object({ temp: z.number() })),
    topic('async/:x', z.object({ v: z.number() }).refine(async () => true)),
  ]);

  it('passes topics without a contract and values that fit; refuses or drops the rest, counted', () => {
    expect(ingest.check('other/topic', () => [1], 0)).toBeUndefined();
    expect(ingest.check('plant/a/telemetry', () => [{ temp: 1 }], 0x10)).toBeUndefined();
    expect(ingest.check('plant/a/telemetry', () => [{ temp: 'x' }], 0x10)).toMatch(/^invalid \(temp: /);
    expect(ingest.check('plant/a/telemetry', () => [], 0)).toMatch(/^invalid /);
    expect(ingest.stats()).toEqual({ checked: 3, refused: 1, dropped: 1 });
  });

  it('refuses what an async schema would have to decide', () => {
    expect(ingest.check('async/a', () => [{ v: 1 }], 0x10)).toMatch(/asynchronously/);
  });

  it('does not read the args of a topic without a contract', () => {
    expect(ingest.check('plant/a/b/telemetry', () => { throw new Error('read'); }, 0)).toBeUndefined();
  });
});

describe('refusalError', () => {
  it('tells a contract refusal from an authorization one', () => {
    expect(refusalError('t', 'invalid (temp: bad): t')).toBeInstanceOf(ContractRefusedError);
    expect(refusalError('t', 'unauthorized: t')).toBeInstanceOf(UnauthorizedError);
    expect(refusalError('t', 'invalidated: t')).toBeInstanceOf(UnauthorizedError);
  });
});
