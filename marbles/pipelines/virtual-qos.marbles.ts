import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeFrame, virtualNetwork, type Frame } from '../../src/testing/index.js';
import { createScheduler } from '../helpers.js';

describe('probe', () => {
  it('publish → broker → subscriber in virtual time', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const sub = net.component('sub');
      const pub = net.component('pub');
      expectObservable(sub.subscribe$('t').pipe(map((m) => m.args[0]))).toBe('10ms a', { a: 1 });
      net.scheduler.schedule(() => pub.publish('t', 1), 10);
    });
  });
});
