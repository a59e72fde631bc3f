import { describe, expect, it } from 'vitest';
import { InvalidTopicError } from '../../src/errors.js';
import { GroupPub, shareOf, shareTopic, validateGroup } from '../../src/protocol/share.js';

describe('shareOf', () => {
  it.each([
    ['jobs', { group: 'w' }, { group: 'w', pattern: 'jobs' }],
    ['plant/*/alarm', { group: 'ops' }, { group: 'ops', pattern: 'plant/*/alarm' }],
    ['$share/w/jobs', {}, { group: 'w', pattern: 'jobs' }],
    ['$share/w/a/**', {}, { group: 'w', pattern: 'a/**' }],
    ['$share/w/*', {}, { group: 'w', pattern: '*' }],
    ['jobs', {}, undefined],
    ['jobs', { group: null }, undefined],
    ['$shared/w/jobs', {}, undefined],
  ])('reads %s with %o as %o', (topic, cmd, expected) => {
    expect(shareOf(topic, cmd)).toEqual(expected);
  });

  it.each([
    ['$share/w', {}], ['$share//jobs', {}], ['$share/w/', {}], ['$share/a*b/jobs', {}],
    ['jobs', { group: '' }], ['jobs', { group: 'a/b' }], ['jobs', { group: 7 }], ['jobs', { group: '#' }],
    ['jobs', { group: 'w\u0000' }], ['$share/w/a***', {}],
  ])('refuses %s with %o', (topic, cmd) => {
    expect(() => shareOf(topic, cmd)).toThrow(InvalidTopicError);
  });
});

describe('shareTopic', () => {
  it('spells a group subscription as MQTT 5 does', () => {
    expect(shareTopic(validateGroup('w'), 'a/*')).toBe('$share/w/a/*');
  });
});

describe('GroupPub', () => {
  const source = { type: 'pub' as const, flags: 0x30, id: 7n, topic: 'plant/3/alarm', args: [1, 'x'] };

  it('carries the group spelling, the flags and id of the publish, and the topic first for a wildcard', () => {
    const out = GroupPub.of('$share/ops/plant/*/alarm', 'plant/*/alarm', source);
    expect({ topic: out.topic, flags: out.flags, id: out.id, args: out.args })
      .toEqual({ topic: '$share/ops/plant/*/alarm', flags: 0x30, id: 7n, args: ['plant/3/alarm', 1, 'x'] });
  });

  it('keeps the args as they are for an exact pattern', () => {
    expect(GroupPub.of('$share/w/plant/3/alarm', 'plant/3/alarm', source).args).toEqual([1, 'x']);
  });
});
