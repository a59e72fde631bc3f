/** LeanSubject as a link's inbound frames: a Subject's hot delivery without its per-value garbage. */
import { describe, expect, it } from 'vitest';
import { config } from 'rxjs';
import { LeanSubject } from '../../src/internal/lean-subject.js';

describe('LeanSubject (frames)', () => {
  it('delivers each value to every subscriber in order, then completes them', () => {
    const ch = new LeanSubject<number>();
    const a: unknown[] = [];
    const b: unknown[] = [];
    ch.subscribe({ next: (v) => a.push(v), complete: () => a.push('end') });
    ch.next(1);
    ch.subscribe({ next: (v) => b.push(v), complete: () => b.push('end') });
    ch.next(2);
    ch.complete();
    ch.complete(); // idempotent
    ch.next(3); // after the end: nobody gets it
    expect(a).toEqual([1, 2, 'end']);
    expect(b).toEqual([2, 'end']);
  });

  it('a subscription after the end completes at once', () => {
    const ch = new LeanSubject<number>();
    ch.complete();
    let done = false;
    ch.subscribe({ complete: () => { done = true; } });
    expect(done).toBe(true);
  });

  it('an early unsubscribe, even during a delivery, stops that subscriber only; the value in flight still reaches the others', () => {
    const ch = new LeanSubject<number>();
    const a: number[] = [];
    const b: number[] = [];
    const subA = ch.subscribe((v) => {
      a.push(v);
      if (v === 2) subA.unsubscribe();
    });
    ch.subscribe((v) => b.push(v));
    ch.next(1);
    ch.next(2);
    ch.next(3);
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([1, 2, 3]);
  });

  it('a subscriber that throws does not keep the value from the others (reported as rxjs reports it)', async () => {
    const ch = new LeanSubject<number>();
    const b: number[] = [];
    const reported: unknown[] = [];
    config.onUnhandledError = (err) => reported.push(err);
    try {
      ch.subscribe(() => { throw new Error('boom'); });
      ch.subscribe((v) => b.push(v));
      expect(() => ch.next(1)).not.toThrow();
      expect(b).toEqual([1]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(reported.map((e) => (e as Error).message)).toEqual(['boom']);
    } finally {
      config.onUnhandledError = null;
    }
  });
});
