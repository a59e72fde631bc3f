/** The request tables' map (src/internal/in-flight.ts): a Map for every use, its resident entry never shows. */
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/internal/in-flight.js';

describe('InFlight', () => {
  it('sets, gets and deletes like a Map, and counts only the ids set', () => {
    const t = new InFlight<bigint, string>();
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
    for (let i = 0n; i < 1000n; i++) {
      t.set(i, `v${i}`);
      expect(t.get(i)).toBe(`v${i}`);
      expect(t.size).toBe(1);
      expect(t.delete(i)).toBe(true);
      expect(t.delete(i)).toBe(false);
      expect(t.has(i)).toBe(false);
    }
    expect(t.size).toBe(0);
  });

  it('iterates ids in insertion order without the resident entry, deleting as it goes', () => {
    const t = new InFlight<bigint, number>();
    for (let i = 0n; i < 10n; i++) t.set(i, Number(i));
    t.delete(3n);
    const seen: bigint[] = [];
    for (const [id] of t) {
      seen.push(id);
      t.delete(id); // what sessionDown and detach do
    }
    expect(seen).toEqual([0n, 1n, 2n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
  });

  it('is empty after clear, and usable again', () => {
    const t = new InFlight<bigint, number>();
    t.set(1n, 1).set(2n, 2);
    t.clear();
    expect([t.size, [...t]]).toEqual([0, []]);
    t.set(5n, 5);
    expect([...t]).toEqual([[5n, 5]]);
  });
});
