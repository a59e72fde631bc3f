import { describe, expect, it } from 'vitest';
import { MarkLedger, MAX_CHECKPOINTS } from '../../src/broker/mark-ledger.js';

describe('MarkLedger', () => {
  it('gives the mark of the last frame within the bytes taken, the floor before the first', () => {
    const ledger = new MarkLedger(5n, () => 0);
    ledger.record(100, 10n);
    ledger.record(250, 11n);
    ledger.record(250, 12n); // the same offset: one checkpoint, the newer mark
    ledger.record(400, 13n);
    expect(ledger.size).toBe(3);
    expect(ledger.markAt(99)).toBe(5n);
    expect(ledger.markAt(100)).toBe(10n);
    expect(ledger.markAt(399)).toBe(12n);
    expect(ledger.markAt(1_000)).toBe(13n);
  });

  it('forgets what the OS took when it fills, and keeps the answer', () => {
    let taken = 0;
    const ledger = new MarkLedger(0n, () => taken);
    for (let i = 1; i <= 10_000; i++) {
      taken = (i - 10) * 100; // all but the last 10 frames taken
      ledger.record(i * 100, BigInt(i));
    }
    expect(ledger.size).toBeLessThan(200);
    expect(ledger.markAt(9_995 * 100)).toBe(9_995n);
    expect(ledger.markAt(0)).toBeLessThanOrEqual(9_990n); // the floor: a mark already taken
  });

  it('past its capacity coarsens (may repeat, never skips) instead of growing', () => {
    const ledger = new MarkLedger(0n, () => 0); // a reader that reads nothing
    const n = MAX_CHECKPOINTS + 1_000;
    for (let i = 1; i <= n; i++) ledger.record(i, BigInt(i));
    expect(ledger.size).toBe(MAX_CHECKPOINTS);
    expect(ledger.markAt(MAX_CHECKPOINTS - 1)).toBe(BigInt(MAX_CHECKPOINTS - 1));
    // The last checkpoint moved forward with its mark: never a mark beyond what was taken.
    expect(ledger.markAt(n - 1)).toBe(BigInt(MAX_CHECKPOINTS - 1));
    expect(ledger.markAt(n)).toBe(BigInt(MAX_CHECKPOINTS));
  });
});
