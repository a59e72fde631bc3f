/**
 * QoS flows through a real broker and real components in virtual time (rembus/testing's
 * virtualNetwork): lost ACKs, dropped links, reconnect backoff, early unsubscribe, a hang.
 */
import { map, switchMap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeFrame, virtualNetwork, type Direction, type Frame } from '../../src/testing/index.js';
import type { Status } from '../../src/types.js';
import { createScheduler } from '../helpers.js';

const typeOf = (frame: Frame): string => decodeFrame(frame as Uint8Array).type;
/** A loss script hook: true for the first `n` frames of `type` going `direction`. */
function firstOf(type: string, direction: Direction, n = 1): (frame: Frame, dir: Direction) => boolean {
  let seen = 0;
  return (frame, dir) => dir === direction && typeOf(frame) === type && ++seen <= n;
}
const letter: Record<Status['type'], string> = { connecting: 'c', up: 'u', down: 'd', reconnecting: 'r', closed: 'x' };

describe('QoS pipelines through broker and components, in virtual time', () => {
  it('QoS1: the ACK is lost, the publisher re-sends after ackTimeout, the subscriber gets it again (at least once)', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub');
      const pub = net.component('pub', { ackTimeout: 100, loss: { drop: firstOf('ack', 'in') } });
      expectObservable(sub.subscribe$('t').pipe(map((m) => m.args[0]))).toBe('10ms a 99ms a', { a: 1 });
      expectObservable(timer(10).pipe(switchMap(() => pub.publish$('t', [1], { qos: 1 })))).toBe('110ms |');
    });
  });

  it('QoS2: the ACK is lost with the link; re-sent on the new link, delivered exactly once', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub');
      const pub = net.component('pub', { ackTimeout: 100, reconnect: { initialDelay: 50, jitter: 0 },
        loss: { drop: firstOf('ack', 'in') } });
      net.scheduler.schedule(() => net.drop('pub'), 20);
      expectObservable(sub.subscribe$('t').pipe(map((m) => m.args[0]))).toBe('10ms a', { a: 2 });
      // Sent at 10, ACK lost; link dropped at 20, back at 70; re-sent when its ackTimeout runs out
      // (110, not at the reconnect): the broker knows the id, acknowledges it and delivers nothing.
      expectObservable(timer(10).pipe(switchMap(() => pub.publish$('t', [2], { qos: 2 })))).toBe('110ms |');
      expectObservable(pub.status$.pipe(map((s) => letter[s.type]))).toBe('u 19ms (dr) 46ms u');
    });
  });

  it('QoS2: the subscriber\'s ACK is lost; the broker re-sends and the component delivers once', async () => {
    const net = virtualNetwork({ scheduler: createScheduler(), broker: { ackTimeout: 30 } });
    const acksSent: number[] = [];
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub', { loss: { drop: (frame, dir) => {
        if (dir === 'out' && typeOf(frame) === 'ack') acksSent.push(net.scheduler.now());
        return firstOf('ack', 'out')(frame, dir) && acksSent.length === 1;
      } } });
      const pub = net.component('pub');
      expectObservable(sub.subscribe$('t').pipe(map((m) => m.args[0]))).toBe('5ms a', { a: 3 });
      expectObservable(timer(5).pipe(switchMap(() => pub.publish$('t', [3], { qos: 2 })))).toBe('5ms |');
    });
    // The first ACK (at 5) was lost: the broker re-sent at 35 and the component acknowledged again.
    expect(acksSent).toEqual([5, 35]);
  });

  it('reconnect backoff against the broker: refused twice, then up, subscriptions declared again', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub', { reconnect: { initialDelay: 10, maxDelay: 40, jitter: 0 } });
      const pub = net.component('pub');
      net.scheduler.schedule(() => { net.refuse('sub', 2); net.drop('sub'); }, 20);
      net.scheduler.schedule(() => pub.publish('a/b', 'lost'), 60);
      net.scheduler.schedule(() => pub.publish('a/b', 'seen'), 100);
      // Dropped at 20: 10 ms (refused at 30), 20 ms (refused at 50), 40 ms (up at 90).
      expectObservable(sub.status$.pipe(map((s) => letter[s.type]))).toBe('u 19ms (dr) 6ms r 19ms r 39ms u');
      expectObservable(sub.subscribe$('a/*').pipe(map((m) => m.args[0]))).toBe('100ms s', { s: 'seen' });
    });
  });

  it('unsubscribing a QoS1 publish mid-retry withdraws it: nothing more is sent, no timer is left', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    const sends: number[] = [];
    await net.run(async ({ expectObservable, sleep, timers }) => {
      const pub = net.component('pub', { ackTimeout: 10, sendRetries: 100, loss: { drop: (frame, dir) => {
        if (dir === 'in' && typeOf(frame) === 'ack') return true;
        if (dir === 'out' && typeOf(frame) === 'pub') sends.push(net.scheduler.now());
        return false;
      } } });
      expectObservable(pub.publish$('t', [1], { qos: 1 }), '^ 25ms !').toBe('');
      await sleep(100);
      expect(timers()).toBe(0);
    });
    expect(sends).toEqual([0, 10, 20]);
  });

  it('the run closes every component and the broker at its end, cancelling every timer (retries, backoff, sweeps)', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(async ({ expectObservable, sleep, timers }) => {
      const pub = net.component('pub', { ackTimeout: 50, loss: { drop: (f, d) => d === 'in' && typeOf(f) === 'ack' } });
      const sub = net.component('sub', { reconnect: { initialDelay: 1_000, jitter: 0 } });
      net.scheduler.schedule(() => net.drop('sub'), 10);
      expectObservable(pub.publish$('t', [1], { qos: 1 }), '^ 20ms !').toBe('');
      expectObservable(sub.status$.pipe(map((s) => letter[s.type]))).toBe('u 9ms (dr) 16ms (x|)');
      pub.publish$('t', [2], { qos: 1 }).subscribe({ error: () => undefined });
      await sleep(30);
      // Still re-sending (the second publish) and still reconnecting (sub): close cancels both.
      expect(timers()).toBeGreaterThan(0);
      await net.close();
      expect(timers()).toBe(0);
    });
    expect((net.scheduler as unknown as { actions: unknown[] }).actions).toHaveLength(0);
  });

  it('a flow that would never end fails with VirtualTimeHangError instead of hanging', async () => {
    const net = virtualNetwork({ scheduler: createScheduler(), timeLimit: 5_000 });
    const run = net.run(() => {
      const pub = net.component('pub', { ackTimeout: 100, sendRetries: Infinity, loss: { drop: (f, d) => d === 'in' && typeOf(f) === 'ack' } });
      pub.publish$('t', [1], { qos: 1 }).subscribe({ error: () => undefined });
    });
    await expect(run).rejects.toThrow(/did not end within timeLimit 5000 ms \(virtual\)/);
  });

  it('an async body awaiting a promise nothing settles fails with VirtualTimeHangError', async () => {
    const net = virtualNetwork({ scheduler: createScheduler(), timeLimit: 5_000 });
    await expect(net.run(async () => { await new Promise(() => undefined); })).rejects.toThrow(/still awaiting/);
  });
});
