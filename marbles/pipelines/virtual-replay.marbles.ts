/**
 * Replay pipelines (spec §4.7) through a real broker and real components in virtual time: a
 * named component gets what it missed while away, in order, before live messages; replay by
 * period uses the broker's receive times, which follow the virtual clock.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LastReceived, period } from '../../src/index.js';
import { virtualNetwork } from '../../src/testing/index.js';
import { createScheduler } from '../helpers.js';

describe('replay pipelines through broker and components, in virtual time', () => {
  it('the README example: a message published while the link was down is replayed on its return', async () => {
    const net = virtualNetwork({ scheduler: createScheduler(), broker: { ackTimeout: 100 } });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub', { reconnect: { initialDelay: 50, jitter: 0 } });
      const pub = net.component('pub', { ackTimeout: 100 });
      net.scheduler.schedule(() => net.drop('sub'), 20);
      net.scheduler.schedule(() => pub.publish('t', 'missed'), 30);
      expectObservable(sub.subscribe$('t', { msgfrom: LastReceived }).pipe(map((m) => m.args[0])))
        .toBe('70ms m', { m: 'missed' });
    });
  });

  it('replays a named component\'s missed messages on reconnect, then live ones, no gap, no duplicate', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub', { reconnect: { initialDelay: 50, jitter: 0 } });
      const pub = net.component('pub');
      // Dropped at 20; refused at 70; up at 170 (backoff 50, then 100): b and c came meanwhile.
      net.scheduler.schedule(() => { net.refuse('sub', 1); net.drop('sub'); }, 20);
      net.scheduler.schedule(() => pub.publish('t', 'a'), 10);
      net.scheduler.schedule(() => pub.publish('t', 'b'), 30);
      net.scheduler.schedule(() => pub.publish('t', 'c'), 60);
      net.scheduler.schedule(() => pub.publish('t', 'd'), 200);
      expectObservable(sub.subscribe$('t', { msgfrom: LastReceived }).pipe(map((m) => m.args[0])))
        .toBe('10ms a 159ms (bc) 26ms d');
    });
  });

  it('replays only what is younger than the period: receive times come from the virtual clock', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const pub = net.component('pub');
      net.scheduler.schedule(() => pub.publish('t', 'old'), 100);
      net.scheduler.schedule(() => pub.publish('t', 'young'), 900);
      // Subscribed at 1000 for the last 500 ms: 'old' (900 ms ago) is out, 'young' (100 ms ago) in.
      net.scheduler.schedule(() => {
        const late = net.component('late');
        expectObservable(late.subscribe$('t', { msgfrom: period({ ms: 500 }) }).pipe(map((m) => m.args[0])))
          .toBe('1000ms y', { y: 'young' });
      }, 1_000);
    });
  });

  it('a named component\'s marks survive the link: a second drop replays only what it has not seen', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    const seen: string[] = [];
    await net.run(() => {
      const sub = net.component('sub', { reconnect: { initialDelay: 10, jitter: 0 } });
      const pub = net.component('pub');
      sub.subscribe$('t', { msgfrom: LastReceived }).subscribe((m) => seen.push(`${net.scheduler.now()}:${String(m.args[0])}`));
      for (const [at, v] of [[5, 'a'], [25, 'b'], [45, 'c']] as const) net.scheduler.schedule(() => pub.publish('t', v), at);
      net.scheduler.schedule(() => net.drop('sub'), 20);
      net.scheduler.schedule(() => net.drop('sub'), 40);
    });
    // Down 20–30 and 40–50: b and c arrive with each reconnect, a is not sent again.
    expect(seen).toEqual(['5:a', '30:b', '50:c']);
  });
});
