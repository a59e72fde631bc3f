import { describe, it, expect } from 'vitest';
import { InvalidTopicError } from '../../src/errors.js';
import { MATCH_MEMO_CAPACITY } from '../../src/topic/pattern-index.js';
import {
  compilePattern, isPattern, matches, PatternIndex, validatePattern, validateTopic,
} from '../../src/topic/index.js';

/** mulberry32: a tiny deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPath(random: () => number, alphabet: readonly string[], maxSegments: number): string {
  const n = 1 + Math.floor(random() * maxSegments);
  return Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]!).join('/');
}

function collect<V>(index: PatternIndex<V>, topic: string): string[] {
  const found: string[] = [];
  index.match(topic, (pattern) => { found.push(pattern); });
  return found.sort();
}

describe('matches', () => {
  // Spec 4.6 example table, PY column.
  it.each([
    ['k/*/y', 'k/e/y', true],
    ['k/*/y', 'k/@e/y', false],
    ['k/*/y', 'k/e/f/y', false],
    ['k/*/y', 'k//y', false],
    ['veneto/*/cencenighe/*', 'veneto/belluno/cencenighe/temperature', true],
    ['veneto/*/cencenighe/*', 'veneto/@agordo/cencenighe/temperature', false],
    ['*/alarm', 'home/alarm', true],
    ['myspace/*/metric', 'myspace/a/metric', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'a/', true],
    ['a/**', 'a', false],
    ['**/telemetry', 'x/y/telemetry', true],
    ['**', 'foo', true],
    ['*', 'foo', false],
  ])('matches %j against %j → %s (spec 4.6 table)', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  // PY regex for 'a/**/b' is ^a/(.*)/b$: both slashes are literal, so 'a/b' cannot match.
  it.each([
    ['a/**/b', 'a/b', false],
    ['a/**/b', 'ab', false],
    ['a/**/b', 'a/x/b', true],
    ['a/**/b', 'a//b', true],
    ['a/**/b', 'a/x/y/b', true],
  ])('keeps both slashes of /**/ : %j against %j → %s', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  it.each([
    ['a.b/*', 'axb/c', false],
    ['a.b/*', 'a.b/c', true],
    ['a+/(x)/*', 'aa/x/c', false],
    ['a+/(x)/*', 'a+/(x)/c', true],
    ['[ab]/^$|?/*', '[ab]/^$|?/c', true],
    ['a\\d/*', 'a\\d/c', true],
    ['a\\d/*', 'a1/c', false],
  ])('treats regex metacharacters literally: %j against %j → %s', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  it.each([
    ['a/**', 'a/b/@c', false],
    ['**/t', 'x/@y/t', false],
    ['**', '@foo', false],
    ['**', 'a/b', true],
    ['k/@e/*', 'k/@e/y', true],
    ['a*/b', 'a@/b', false],
  ])('rejects a match whose capture holds @: %j against %j → %s', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  it('never matches a topic without / unless the pattern is exactly **', () => {
    expect(matches('foo*', 'foox')).toBe(false);
    expect(matches('foo', 'foo')).toBe(false);
    expect(matches('**', 'foo')).toBe(true);
  });

  it('keeps working when more patterns are used than the cache holds', () => {
    for (let i = 0; i < 1500; i++) expect(matches(`p${i}/*`, `p${i}/x`)).toBe(true);
    expect(matches('p0/*', 'p0/x')).toBe(true);
    expect(matches('p0/*', 'p1/x')).toBe(false);
  });
});

describe('compilePattern', () => {
  it('returns a matcher that never matches when the pattern is the catch-all *', () => {
    const m = compilePattern('*');
    expect(['foo', 'a/b', '*', ''].map(m)).toEqual([false, false, false, false]);
  });

  it('returns a reusable matcher when called once for many topics', () => {
    const m = compilePattern('*/alarm');
    expect(['home/alarm', 'office/alarm', 'home/x/alarm', 'alarm'].map(m)).toEqual([true, true, false, false]);
  });
});

describe('validateTopic', () => {
  it('returns the topic when it is a concrete topic', () => {
    expect(validateTopic('plant/7/telemetry')).toBe('plant/7/telemetry');
    expect(validateTopic('@k/x')).toBe('@k/x');
  });

  it.each<[string, unknown]>([
    ['empty string', ''],
    ['number', 123],
    ['null', null],
    ['undefined', undefined],
    ['object', {}],
    ['bigint', 10n],
    ['cyclic object', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()],
    ['single star', 'a/*'],
    ['double star', '**'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['DEL', 'a\u007fb'],
  ])('throws InvalidTopicError when given %s', (_what, topic) => {
    expect(() => validateTopic(topic)).toThrow(InvalidTopicError);
    expect(() => validateTopic(topic)).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
  });

  it('says why in the same order as before its checks shared one pass: a control character before a star', () => {
    expect(() => validateTopic('a*\u0001')).toThrow(/control character U\+0001 at index 2/);
    expect(() => validateTopic('a\u0001*')).toThrow(/control character U\+0001 at index 1/);
    expect(() => validateTopic('a/*/b')).toThrow(/only allowed in subscription patterns/);
    expect(validatePattern('a/*/b')).toBe('a/*/b');
  });
});

describe('validatePattern', () => {
  it.each(['a/*', '**', '*', 'a/**/b', 'plain/topic'])('returns %j when it is a valid pattern', (p) => {
    expect(validatePattern(p)).toBe(p);
  });

  it.each<[string, unknown]>([['an empty string', ''], ['a number', 42], ['three stars', 'a/***'],
    ['four stars', '****'], ['a tab', 'a\tb/*']])(
    'throws InvalidTopicError when given %s', (_what, pattern) => {
      expect(() => validatePattern(pattern)).toThrow(InvalidTopicError);
      expect(() => validatePattern(pattern)).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
    },
  );
});

describe('isPattern', () => {
  it.each([['a/*', true], ['**', true], ['a/b', false], ['', false]])('isPattern(%j) → %s', (s, expected) => {
    expect(isPattern(s)).toBe(expected);
  });
});

describe('PatternIndex', () => {
  it('visits each matching pattern once with its values', () => {
    const index = new PatternIndex<string>();
    index.add('k/*/y', 'a');
    index.add('*/y', 'b');
    index.add('**', 'c');
    index.add('k/**', 'd');
    index.add('*/*/*', 'e');
    index.add('x/*', 'f');
    const seen = new Map<string, string[]>();
    index.match('k/e/y', (pattern, values) => { seen.set(pattern, [...values]); });
    expect([...seen.keys()].sort()).toEqual(['*/*/*', '**', 'k/*/y', 'k/**'].sort());
    expect(seen.get('k/*/y')).toEqual(['a']);
  });

  it('stores many values under one pattern', () => {
    const index = new PatternIndex<number>();
    expect(index.add('a/*', 1)).toBe(true);
    expect(index.add('a/*', 2)).toBe(true);
    expect(index.add('a/*', 1)).toBe(false);
    expect(index.size).toBe(1);
    let values: number[] = [];
    index.match('a/b', (_p, v) => { values = [...v]; });
    expect(values).toEqual([1, 2]);
    expect(index.remove('a/*', 1)).toBe(true);
    expect(index.remove('a/*', 1)).toBe(false);
    expect(index.has('a/*')).toBe(true);
    expect(index.remove('a/*', 2)).toBe(true);
    expect(index.has('a/*')).toBe(false);
    expect(index.size).toBe(0);
  });

  it('removes a value from every pattern when removeValue is called', () => {
    const index = new PatternIndex<string>();
    for (const p of ['a/*', '*/b', '**', 'x/y/*']) index.add(p, 'tw');
    index.add('a/*', 'other');
    expect(index.removeValue('tw').sort()).toEqual(['**', '*/b', 'a/*', 'x/y/*']);
    expect(index.removeValue('tw')).toEqual([]);
    expect([...index.patterns()]).toEqual(['a/*']);
    expect(collect(index, 'a/b')).toEqual(['a/*']);
    index.removeValue('other');
    expect(index.size).toBe(0);
    expect(collect(index, 'a/b')).toEqual([]);
  });

  it('never matches the catch-all * and matches ** on topics without /', () => {
    const index = new PatternIndex<number>();
    index.add('*', 1);
    index.add('**', 2);
    expect(collect(index, 'foo')).toEqual(['**']);
    expect(collect(index, 'a/b')).toEqual(['**']);
  });

  it('stays correct when visit removes patterns during a match', () => {
    const index = new PatternIndex<number>();
    for (let i = 0; i < 5; i++) index.add('a/*', i);
    for (const p of ['*/b', '**', 'a/b', '*/*']) index.add(p, 9);
    const visited: string[] = [];
    index.match('a/b', (pattern, values) => { visited.push(pattern); for (const v of [...values]) index.removeValue(v); });
    expect(new Set(visited).size).toBe(visited.length);
    expect(index.size).toBe(0);
  });

  it('answers a topic seen before as a new one, across pattern changes and past its memo capacity', () => {
    const index = new PatternIndex<number>();
    index.add('*/*/*/telemetry', 1);
    const topics = Array.from({ length: MATCH_MEMO_CAPACITY + 10 }, (_, i) => `site${i % 10}/t/dn${i}/telemetry`);
    const all = (): string[][] => topics.map((t) => collect(index, t));
    expect(all().every((f) => f.length === 1)).toBe(true);
    expect(collect(index, topics[0]!)).toEqual(['*/*/*/telemetry']); // remembered, then forgotten at capacity: same answer
    index.add('site0/**', 2); // a new pattern: remembered answers are not reused
    expect(collect(index, 'site0/t/dn0/telemetry')).toEqual(['*/*/*/telemetry', 'site0/**']);
    expect(collect(index, 'site0/t/dn0/telemetry')).toEqual(['*/*/*/telemetry', 'site0/**']);
    index.add('site0/**', 3); // a value more on a known pattern: its live set is visited
    let values: number[] = [];
    index.match('site0/t/dn0/telemetry', (p, v) => { if (p === 'site0/**') values = [...v]; });
    expect(values).toEqual([2, 3]);
    index.removeValue(1); // a pattern gone
    expect(collect(index, 'site0/t/dn0/telemetry')).toEqual(['site0/**']);
    expect(collect(index, 'site1/t/dn1/telemetry')).toEqual([]);
    const long = `a/${'x'.repeat(300)}/telemetry`; // not remembered, still matched
    index.add('a/*/telemetry', 4);
    expect(collect(index, long)).toEqual(['a/*/telemetry']);
    index.remove('a/*/telemetry', 4);
    expect(collect(index, long)).toEqual([]);
  });

  it('matching: lists of values replaced, never changed in place, when values come and go mid-loop', () => {
    const index = new PatternIndex<number>();
    index.add('s/*', 1);
    index.add('s/*', 2);
    index.add('s/**', 3);
    const found = index.matching('s/x');
    expect(found.map((m) => [m.pattern, [...m.list]])).toEqual([['s/*', [1, 2]], ['s/**', [3]]]);
    const list = found[0]!.list;
    const seen: number[] = [];
    for (const v of list) {
      seen.push(v);
      index.remove('s/*', 2); // a subscriber leaving during the fan-out
      index.add('s/*', 4);    // one arriving: served from the next publish
    }
    expect(seen).toEqual([1, 2]);
    expect(list).toEqual([1, 2]);
    expect(index.matching('s/x').map((m) => [...m.list])).toEqual([[1, 4], [3]]);
    index.removeValue(1);
    index.removeValue(4);
    expect(index.matching('s/x').map((m) => [m.pattern, [...m.list], [...m.values]])).toEqual([['s/**', [3], [3]]]);
  });

  it('agrees with a brute-force scan when given random patterns and topics', () => {
    const random = prng(20240611);
    const patternAlphabet = ['a', 'b', 'c', '@a', '', '*', '*', '**', '**', 'a*', '*b', 'a.c'];
    const topicAlphabet = ['a', 'b', 'c', '@a', '', 'ab', 'cb', 'a.c', 'abc', 'x'];
    const index = new PatternIndex<number>();
    const patterns = new Set<string>(['*', '**', '*/*', '**/a', 'a/**']);
    while (patterns.size < 200) {
      const p = randomPath(random, patternAlphabet, 4);
      if (!p.includes('***')) patterns.add(p);
    }
    let id = 0;
    for (const p of patterns) index.add(p, id++);
    expect(index.size).toBe(patterns.size);

    const topics = Array.from({ length: 2000 }, () => randomPath(random, topicAlphabet, 5));
    topics.push('foo', '@a', '', '/', '//');
    const check = (): number => {
      let hits = 0;
      for (const topic of topics) {
        const expected = [...index.patterns()].filter((p) => matches(p, topic)).sort();
        const found = collect(index, topic);
        expect(found, topic).toEqual(expected);
        hits += found.length;
      }
      return hits;
    };
    expect(check()).toBeGreaterThan(500);
    check(); // the same topics again, answered from the memo

    // Remove half the patterns, then all of them: results still agree and every node is pruned.
    let i = 0;
    for (const p of patterns) if (i++ % 2 === 0) index.remove(p, [...patterns].indexOf(p));
    expect(index.size).toBe(patterns.size / 2);
    check();
    check();
    for (let v = 0; v < id; v++) index.removeValue(v);
    expect(index.size).toBe(0);
    expect(collect(index, 'a/b')).toEqual([]);
  });
});
