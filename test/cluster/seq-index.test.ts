/** Stream sequence ↔ local recv (src/cluster/seq-index.ts): pure, no NATS. */
import { describe, expect, it } from 'vitest';
import { SeqIndex } from '../../src/cluster/seq-index.js';

describe('SeqIndex', () => {
  it('translates both ways from the join point on, and knows nothing before it', () => {
    const ix = new SeqIndex();
    ix.add(10, 100n); // joined when the stream held 10 messages, log head 100
    ix.add(11, 105n);
    ix.add(12, 107n);
    ix.add(14, 120n); // 13 was not a message for this log (undecodable): the mark skips it
    expect(ix.first).toBe(10);
    expect(ix.last).toBe(14);
    expect(ix.seqAt(99n)).toBeUndefined();
    expect(ix.seqAt(100n)).toBe(10);
    expect(ix.seqAt(106n)).toBe(11); // a QoS0 message logged in between: still 11
    expect(ix.seqAt(1_000n)).toBe(14);
    expect(ix.recvAt(9)).toBeUndefined();
    expect(ix.recvAt(10)).toBe(100n);
    expect(ix.recvAt(13)).toBe(107n);
    expect(ix.recvAt(99)).toBe(120n);
  });

  it('ignores entries that do not increase and stays bounded', () => {
    const ix = new SeqIndex(4);
    ix.add(1, 10n);
    ix.add(1, 11n);
    ix.add(2, 9n);
    expect(ix.last).toBe(1);
    for (let i = 2; i <= 9; i++) ix.add(i, BigInt(i * 10));
    expect(ix.last).toBe(9);
    expect(ix.first).toBeGreaterThan(1);
    expect(ix.seqAt(10n)).toBeUndefined(); // forgotten: older than the index
    expect(ix.recvAt(9)).toBe(90n);
  });
});
