import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame, encodeFrame, lossyLink, memoryLinkPair, runInVirtualTime, virtualNetwork, VirtualTimeHangError,
} from '../../src/testing/index.js';

const scheduler = (): TestScheduler => new TestScheduler((a, e) => expect(a).toEqual(e));

describe('rembus/testing kit: misuse fails with a message', () => {
  it('refuses a component made outside run (its timers would be real)', () => {
    const net = virtualNetwork({ scheduler: scheduler() });
    expect(() => net.component('x')).toThrow(/inside net.run/);
  });

  it('runs a network once, and runs do not nest', async () => {
    const net = virtualNetwork({ scheduler: scheduler() });
    await net.run(async () => {
      await expect(runInVirtualTime(scheduler(), () => undefined)).rejects.toThrow(/do not nest/);
    });
    await expect(net.run(() => undefined)).rejects.toThrow(/runs once/);
  });

  it('drop() of a name that never connected says so', async () => {
    const net = virtualNetwork({ scheduler: scheduler() });
    await net.run(() => { expect(() => net.drop('ghost')).toThrow(/never connected/); });
  });

  it('reports a hang with a stable code', async () => {
    const err = await runInVirtualTime(scheduler(), () => new Promise<void>(() => undefined)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VirtualTimeHangError);
    expect((err as VirtualTimeHangError).code).toBe('VIRTUAL_TIME_HANG');
    expect((err as Error).message).toMatch(/no timer is left at 0 ms/);
  });

  it('a marble mismatch fails the run with both logs (default scheduler)', async () => {
    const net = virtualNetwork();
    await expect(net.run(({ cold, expectObservable }) => { expectObservable(cold('a')).toBe('b'); }))
      .rejects.toThrow(/marble mismatch/);
  });
});

describe('rembus/testing kit: codec and lossyLink', () => {
  it('encodeFrame/decodeFrame round-trip a message', () => {
    const msg = decodeFrame(encodeFrame({ type: 'pub', flags: 0, topic: 't', args: [1, 'a'] }));
    expect(msg).toMatchObject({ type: 'pub', topic: 't', args: [1, 'a'] });
  });

  it('delays outgoing frames on the active scheduler, so in virtual time', () => {
    const s = scheduler();
    s.run(({ expectObservable }) => {
      const [a, b] = memoryLinkPair();
      const lossy = lossyLink(a, { delay: (_f, dir) => (dir === 'out' ? 5 : 0) });
      expectObservable(b.frames$).toBe('5ms x', { x: 'x' });
      lossy.send('x');
    });
  });
});
