/**
 * RPC through a real broker in virtual time: a Promise handler answers at its virtual instant,
 * a handler that never answers times out at `requestTimeout`, and the exposer's drop fails the call.
 */
import { defer, timer } from 'rxjs';
import { describe, it } from 'vitest';
import { virtualNetwork } from '../../src/testing/index.js';
import { createScheduler } from '../helpers.js';

describe('RPC pipelines through broker and components, in virtual time', () => {
  it('answers from an async handler after its virtual delay; a silent handler times out at requestTimeout', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const server = net.component('server');
      const client = net.component('client', { requestTimeout: 100 });
      server.expose('add', (a: number, b: number) => new Promise((resolve) => { net.scheduler.schedule(() => resolve(a + b), 30); }));
      server.expose('silent', () => new Promise(() => undefined));
      expectObservable(defer(() => client.rpc$('add', 1, 2))).toBe('30ms (s|)', { s: 3 });
      expectObservable(defer(() => client.rpc$('silent')))
        .toBe('100ms #', undefined, { name: 'RpcTimeoutError', message: "rpc 'silent' timed out after 100 ms" });
    });
  });

  it('a call in flight when the exposer\'s link drops fails at once, not at its timeout', async () => {
    const net = virtualNetwork({ scheduler: createScheduler() });
    await net.run(({ expectObservable }) => {
      const server = net.component('server', { reconnect: { initialDelay: 1_000, jitter: 0 } });
      const client = net.component('client', { requestTimeout: 500 });
      server.expose('slow', () => timer(100));
      net.scheduler.schedule(() => net.drop('server'), 40);
      expectObservable(defer(() => client.rpc$('slow')))
        .toBe('40ms #', undefined, { name: 'RpcError', message: "rpc 'slow' failed: METHOD_UNAVAILABLE: slow" });
    });
  });
});
