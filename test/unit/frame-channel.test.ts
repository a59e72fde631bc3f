/** FrameChannel: a Subject's hot delivery without its per-value garbage. */
import { describe, expect, it } from 'vitest';
import { config } from 'rxjs';
import { FrameChannel } from '../../src/transport/frame-channel.js';

describe('FrameChannel', () => {
  it('delivers each value to every subscriber in order, then completes them', () => {
    const ch = new FrameChannel<number>();
    const a: unknown[] = [];
    const b: unknown[] = [];
    ch.frames$.subscribe({ next: (v) => a.push(v), complete: () => a.push('end') });
    ch.next(1);
    ch.frames$.subscribe({ next: (v) => b.push(v), complete: () => b.push('end') });
    ch.next(2);
    ch.complete();
    ch.complete(); // idempotent
    ch.next(3); // after the end: nobody gets it
    expect(a).toEqual([1, 2, 'end']);
    expect(b).toEqual([2, 'end']);
  });

  it('a subscription after the end completes at once', () => {
    const ch = new FrameChannel<number>();
    ch.complete();
    let done = false;
    ch.frames$.subscribe({ complete: () => { done = true; } });
    expect(done).toBe(true);
  });

  it('an early unsubscribe, even during a delivery, stops that subscriber only; the value in flight still reaches the others', () => {
    const ch = new FrameChannel<number>();
    const a: number[] = [];
    const b: number[] = [];
    const subA = ch.frames$.subscribe((v) => {
      a.push(v);
      if (v === 2) subA.unsubscribe();
    });
    ch.frames$.subscribe((v) => b.push(v));
    ch.next(1);
    ch.next(2);
    ch.next(3);
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([1, 2, 3]);
  });

  it('a subscriber that throws does not keep the value from the others (reported as rxjs reports it)', async () => {
    const ch = new FrameChannel<number>();
    const b: number[] = [];
    const reported: unknown[] = [];
    config.onUnhandledError = (err) => reported.push(err);
    try {
      ch.frames$.subscribe(() => { throw new Error('boom'); });
      ch.frames$.subscribe((v) => b.push(v));
      expect(() => ch.next(1)).not.toThrow();
      expect(b).toEqual([1]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(reported.map((e) => (e as Error).message)).toEqual(['boom']);
    } finally {
      config.onUnhandledError = null;
    }
  });
});
