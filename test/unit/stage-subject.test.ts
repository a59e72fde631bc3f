/**
 * LeanSubject (the broker's `messages$`) replaces Subject.next with a loop that allocates
 * nothing: it must keep Subject's contract at the edges — observers that subscribe or
 * unsubscribe during a `next`, an observer that throws, completion, and `next` after
 * `unsubscribe()` — since schema tables, bridges and the cluster all listen there.
 */
import { ObjectUnsubscribedError, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LeanSubject } from '../../src/internal/lean-subject.js';

/** Run the same script against a Subject and a LeanSubject: the logs must be equal. */
function both(script: (s: Subject<number>, log: string[]) => void): void {
  const logs = [new Subject<number>(), new LeanSubject<number>()].map((s) => {
    const log: string[] = [];
    try { script(s, log); } catch (err) { log.push(`threw ${(err as Error).name}`); }
    return log;
  });
  expect(logs[1]).toEqual(logs[0]);
  expect(logs[0]!.length).toBeGreaterThan(0);
}

describe('LeanSubject', () => {
  it('delivers to one, many and no observers, in subscription order', () => {
    both((s, log) => {
      s.next(0);
      s.subscribe((v) => log.push(`a${v}`));
      s.next(1);
      s.subscribe((v) => log.push(`b${v}`));
      s.subscribe((v) => log.push(`c${v}`));
      s.next(2);
    });
  });

  it('an observer subscribed during next gets the next value, not this one', () => {
    both((s, log) => {
      s.subscribe((v) => { log.push(`a${v}`); if (v === 1) s.subscribe((w) => log.push(`late${w}`)); });
      s.next(1);
      s.next(2);
    });
    both((s, log) => {
      s.subscribe((v) => log.push(`a${v}`));
      s.subscribe((v) => { log.push(`b${v}`); if (v === 1) s.subscribe((w) => log.push(`late${w}`)); });
      s.next(1);
      s.next(2);
    });
  });

  it('an observer unsubscribing itself or another during next', () => {
    both((s, log) => {
      const a = s.subscribe((v) => { log.push(`a${v}`); a.unsubscribe(); });
      const b = s.subscribe((v) => log.push(`b${v}`));
      s.subscribe((v) => { log.push(`c${v}`); b.unsubscribe(); });
      s.next(1);
      s.next(2);
    });
  });

  it('stops after complete and error, and throws after unsubscribe()', () => {
    both((s, log) => {
      s.subscribe({ next: (v) => log.push(`a${v}`), complete: () => log.push('done') });
      s.next(1);
      s.complete();
      s.next(2);
    });
    both((s, log) => {
      s.subscribe({ next: (v) => log.push(`a${v}`), error: () => log.push('error') });
      s.error(new Error('x'));
      s.next(2);
    });
    both((s, log) => {
      s.subscribe((v) => log.push(`a${v}`));
      s.unsubscribe();
      s.next(1);
    });
    expect(() => { const s = new LeanSubject<number>(); s.unsubscribe(); s.next(1); }).toThrow(ObjectUnsubscribedError);
  });

  it('an observer that throws does not stop the others (rxjs reports it asynchronously)', async () => {
    const s = new LeanSubject<number>();
    const got: number[] = [];
    const reported = new Promise<unknown>((resolve) => {
      const prev = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (err) => { for (const l of prev) process.on('uncaughtException', l); resolve(err); });
    });
    s.subscribe(() => { throw new Error('boom'); });
    s.subscribe((v) => got.push(v));
    s.next(1);
    expect(got).toEqual([1]);
    expect(String(await reported)).toContain('boom');
  });
});
