/** Rembus topics ↔ NATS subjects (src/cluster/subject.ts): round trips and what NATS refuses. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isToken, subjectToTopic, topicToSubject } from '../../src/cluster/subject.js';

const P = 'rembus.c.m0';

describe('topicToSubject', () => {
  it('maps chunks to tokens and leaves ordinary topics readable', () => {
    expect(topicToSubject(P, 'plant/7/telemetry')).toBe('rembus.c.m0.plant.7.telemetry');
    expect(topicToSubject(P, 'héllo')).toBe('rembus.c.m0.héllo');
  });

  it('escapes what a NATS token cannot carry, and empty chunks', () => {
    expect(topicToSubject(P, 'a.b/*/>/%/x y')).toBe('rembus.c.m0.a%2Eb.%2A.%3E.%25.x%20y');
    expect(topicToSubject(P, '/a//')).toBe('rembus.c.m0.%.a.%.%');
    expect(topicToSubject(P, 'tab\there\u3000')).toBe('rembus.c.m0.tab%09here%u3000');
  });

  it('round-trips any string, and never yields a wildcard token, an empty token or whitespace', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (topic) => {
      const subject = topicToSubject(P, topic);
      expect(subjectToTopic(P, subject)).toBe(topic);
      const tokens = subject.split('.');
      for (const t of tokens) {
        expect(t).not.toBe('');
        expect(t).not.toBe('*');
        expect(t).not.toBe('>');
      }
      expect(/\s/u.test(subject)).toBe(false);
    }), { numRuns: 300 });
  });

  it('refuses a subject of another prefix', () => {
    expect(subjectToTopic(P, 'rembus.c.m1.x')).toBeUndefined();
    expect(subjectToTopic(P, 'rembus.c.m0x.y')).toBeUndefined();
  });
});

describe('isToken', () => {
  it('accepts names usable as one token, stream name and bucket name', () => {
    expect(isToken('prod-1_a')).toBe(true);
    for (const bad of ['', 'a.b', 'a b', 'a*', 'é']) expect(isToken(bad)).toBe(false);
  });
});
