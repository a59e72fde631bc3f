/**
 * The offline publish buffer after a link drop (README "Concepts", publish: "held in one bounded
 * buffer while disconnected (offlineCapacity, offlineOverflow: error → QueueFullError,
 * dropOldest, dropNewest)"). delivery.test.ts fills it before the first connection; here a
 * component that was up loses its broker (dials refused, so it stays down), is flooded past
 * the capacity, and comes back: exactly what the policy keeps arrives, in order, and an
 * acknowledged publish is never dropped silently.
 */
import { createServer, connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { connect, QueueFullError, type Component, type ComponentOptions } from '../../src/index.js';
import type { Broker } from '../../src/broker/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** A TCP relay to a broker that can cut its connections and refuse new ones (a broker gone). */
interface Gate { url: string; shut(): void; open(): void; close(): Promise<void> }

async function gate(port: number): Promise<Gate> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((inbound) => {
    if (refusing) return void inbound.destroy();
    const outbound = connectTcp(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = (): void => { for (const s of [...sockets]) s.destroy(); };
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    shut: () => { refusing = true; cutAll(); },
    open: () => { refusing = false; },
    close: () => new Promise<void>((resolve) => { cutAll(); server.close(() => resolve()); }),
  };
}

/** A publisher behind a gate, up, then cut off with its dials refused. */
async function offlinePublisher(b: Broker, options: ComponentOptions): Promise<{ pub: Component; g: Gate }> {
  const g = scope.track(await gate(b.port!));
  const pub = scope.track(await connect(`${g.url}/pub`, { reconnect: { initialDelay: 5, maxDelay: 20, jitter: 0 }, ...options }));
  await roundTrip(pub);
  const down = firstValueFrom(pub.status$.pipe(filter((s) => s.type !== 'up')));
  g.shut();
  await down;
  return { pub, g };
}

async function backUp(pub: Component, g: Gate): Promise<void> {
  g.open();
  await firstValueFrom(pub.status$.pipe(filter((s) => s.type === 'up')));
}

describe('offline publishing after a drop', () => {
  const cases = [
    { overflow: 'error' as const, kept: [1, 2, 3, 4, 5], refused: 7 },
    { overflow: 'dropOldest' as const, kept: [8, 9, 10, 11, 12], refused: 0 },
    { overflow: 'dropNewest' as const, kept: [1, 2, 3, 4, 5], refused: 0 },
  ];
  for (const { overflow, kept, refused } of cases) {
    it(`keeps ${kept.join(',')} of 12 QoS0 publishes with capacity 5 and ${overflow}, in order, once back`, async () => {
      const b = await scope.broker();
      const sub = await scope.connect(b, 'sub');
      const got = collect(sub.subscribe$<[number]>('t'), kept.length);
      await roundTrip(sub);
      const { pub, g } = await offlinePublisher(b, { offlineCapacity: 5, offlineOverflow: overflow });
      let errors = 0;
      for (let i = 1; i <= 12; i++) {
        try {
          pub.publish('t', i);
        } catch (err) {
          expect(err).toBeInstanceOf(QueueFullError);
          errors++;
        }
      }
      expect(errors).toBe(refused);
      await backUp(pub, g);
      expect((await got.done).map((m) => m.args[0])).toEqual(kept);
      await roundTrip(pub, sub);
      expect(got.values.map((m) => m.args[0])).toEqual(kept);
    });
  }

  it('counts held QoS1 publishes against the same capacity, never drops one silently, and never holds more than the capacity', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$<[string]>('t'), 2);
    await roundTrip(sub);
    const { pub, g } = await offlinePublisher(b, { offlineCapacity: 2, offlineOverflow: 'dropOldest' });
    const acked = [pub.publishAsync('t', ['q1'], { qos: 1 }), pub.publishAsync('t', ['q2'], { qos: 1 })];
    // Full of acknowledged publishes: a third one fails at once rather than waiting unbounded…
    await expect(pub.publishAsync('t', ['q3'], { qos: 1 })).rejects.toBeInstanceOf(QueueFullError);
    // …and a QoS0 one has nothing older it may drop: it is the one dropped.
    pub.publish('t', 'zero-a');
    pub.publish('t', 'zero-b');
    await backUp(pub, g);
    await Promise.all(acked);
    await got.done;
    await roundTrip(pub, sub);
    expect(got.values.map((m) => m.args[0])).toEqual(['q1', 'q2']);
  });
});

describe('offline publishing under a flood', () => {
  it('holds at most the capacity while 100,000 publishes are made offline, and the component still works after', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'sub');
    const got = collect(sub.subscribe$<[number]>('t'), 100);
    await roundTrip(sub);
    const { pub, g } = await offlinePublisher(b, { offlineCapacity: 100, offlineOverflow: 'dropOldest' });
    for (let i = 0; i < 100_000; i++) pub.publish('t', i);
    await backUp(pub, g);
    const values = (await got.done).map((m) => m.args[0]);
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => 99_900 + i));
    pub.publish('t', -1);
    await waitFor(() => got.values.length === 101, { what: 'a live publish after the flush' });
    expect(got.values.at(-1)!.args[0]).toBe(-1);
  });
});
