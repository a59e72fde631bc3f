/**
 * `close()` while there is no link (README "Concepts": "close() is idempotent"; STYLE: close
 * releases every timer, socket and listener): a component that never reached its broker, or
 * lost it and is retrying, is closed with work pending — acknowledged publishes held offline,
 * a call waiting for a link, subscriptions, `status$`, `invalid$`, `presence$`. Everything
 * settles at once (errors with ConnectionClosedError, streams complete), and the scope's leak
 * check finds no timer or socket left: no reconnect attempt survives the close.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { component, ConnectionClosedError, type Component } from '../../src/index.js';
import { freePort } from './broker-process.js';
import { collect, rejection, roundTrip, useScope } from './helpers.js';

const scope = useScope();

async function closeWithWorkPending(node: Component): Promise<void> {
  const statuses = collect(node.status$, 1);
  const topic = collect(node.subscribe$('t'), 1);
  const invalid = collect(node.invalid$, 1);
  const presence = collect(node.presence$(), 1);
  const acked = rejection(node.publishAsync('t', [1], { qos: 1 }), ConnectionClosedError);
  const call = rejection(node.rpc('anything'), ConnectionClosedError);
  node.publish('t', 'held'); // QoS0, held offline
  await Promise.all([node.close(), node.close()]);
  await node.close();
  await acked;
  await call;
  expect(statuses.completed).toBe(true);
  expect(statuses.values.at(-1)).toEqual({ type: 'closed' });
  expect([topic.completed, topic.error]).toEqual([true, undefined]);
  expect(invalid.completed).toBe(true);
  expect([presence.completed, presence.error, invalid.error]).toEqual([true, undefined, undefined]);
  expect(() => node.publish('t', 2)).toThrow(ConnectionClosedError);
}

describe('close() without a link', () => {
  it('settles everything of a component that never reached its broker, and leaves no reconnect timer', async () => {
    const port = await freePort(); // nothing listens there
    const node = scope.track(component(`ws://127.0.0.1:${port}/never`, { reconnect: { initialDelay: 10, maxDelay: 20 } }));
    await firstValueFrom(node.status$.pipe(filter((s) => s.type !== 'up')));
    await closeWithWorkPending(node);
  });

  it('settles everything of a component whose broker went away while it retries', async () => {
    const b = await scope.broker();
    const node = scope.track(component(`${b.url!}/left`, { reconnect: { initialDelay: 10, maxDelay: 20 } }));
    await node.ready();
    await roundTrip(node);
    const retrying = firstValueFrom(node.status$.pipe(filter((s) => s.type === 'reconnecting')));
    await b.close();
    await retrying;
    await closeWithWorkPending(node);
  });
});
