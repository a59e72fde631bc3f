import { describe, expect, it } from 'vitest';
import { msgFromOf, validMsgFrom } from '../../src/broker/msg-from.js';

describe('msgFromOf', () => {
  it.each([
    [undefined, 0], [null, 0], [0, 0], [Infinity, Infinity], [9e8, 9e8], [5n, 5], [0.5, 0.5],
  ])('accepts %s as %s', (value, expected) => {
    expect(msgFromOf(value)).toBe(expected);
  });

  it.each([[NaN], [-Infinity], [-1], [-1n], ['0'], [true], [{}], [[1]]])('refuses %s with a reason', (value) => {
    const result = msgFromOf(value);
    expect(typeof result).toBe('object');
    expect((result as { refused: string }).refused).toMatch(/^invalid msg_from/);
  });
});

describe('validMsgFrom', () => {
  it('is true for Now, periods and LastReceived only', () => {
    expect([0, 1, 1e18, Infinity].every(validMsgFrom)).toBe(true);
    expect([NaN, -Infinity, -0.5].some(validMsgFrom)).toBe(false);
  });
});
