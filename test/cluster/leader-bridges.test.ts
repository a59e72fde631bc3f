/**
 * leaderBridges (src/cluster/leader-bridges.ts) without NATS: the bridges follow leader$ —
 * opened on true, closed on false, in order even when the role flips while one is opening — and
 * closing the broker mid-open leaves nothing running.
 */
import { BehaviorSubject, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { LinkState } from '../../src/bridge/link-state.js';
import type { Bridges } from '../../src/broker/bridges.js';
import { leaderBridges } from '../../src/cluster/leader-bridges.js';
import { silentLogger } from '../../src/internal/logger.js';

const LINK: LinkState = { kind: 'join', url: 'ws://x', status: { type: 'up', url: 'ws://x' } };

/** Fake bridges whose opening waits for `release()`; records what happens in order. */
function fake(): { open: () => Promise<Bridges>; release: () => void; log: string[]; running: () => number } {
  const log: string[] = [];
  let running = 0;
  let n = 0;
  let gate: (() => void) | undefined;
  return {
    log,
    running: () => running,
    release: () => { gate?.(); gate = undefined; },
    open: async () => {
      const id = ++n;
      log.push(`opening ${id}`);
      await new Promise<void>((r) => { gate = r; });
      running++;
      log.push(`open ${id}`);
      return { links$: of([LINK]), close: async () => { running--; log.push(`close ${id}`); } };
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const links = (b: Bridges): readonly LinkState[] => {
  let v: readonly LinkState[] = [];
  b.links$.subscribe((x) => { v = x; }).unsubscribe();
  return v;
};

describe('leaderBridges', () => {
  it('opens on leading, closes on stepping down, in order when the role flips mid-open', async () => {
    const leader$ = new BehaviorSubject(false);
    const f = fake();
    const bridges = leaderBridges(f.open, leader$, silentLogger);
    expect(links(bridges)).toEqual([]);
    leader$.next(true);
    await tick();
    leader$.next(false); // while opening
    leader$.next(true);
    f.release();
    await tick();
    await tick();
    expect(f.log.slice(0, 3)).toEqual(['opening 1', 'open 1', 'close 1']);
    f.release();
    await tick();
    expect(f.log).toEqual(['opening 1', 'open 1', 'close 1', 'opening 2', 'open 2']);
    expect(f.running()).toBe(1);
    expect(links(bridges)).toEqual([LINK]);
    leader$.next(false);
    await tick();
    expect(f.running()).toBe(0);
    expect(links(bridges)).toEqual([]);
    await bridges.close();
    await bridges.close();
  });

  it('closing while the bridges open leaves none running, and ignores a later leader$', async () => {
    const leader$ = new BehaviorSubject(true);
    const f = fake();
    const bridges = leaderBridges(f.open, leader$, silentLogger);
    await tick();
    const closing = bridges.close();
    f.release();
    await closing;
    expect(f.running()).toBe(0);
    expect(f.log).toEqual(['opening 1', 'open 1', 'close 1']);
    leader$.next(false);
    leader$.next(true);
    await tick();
    expect(f.log).toHaveLength(3);
  });
});
