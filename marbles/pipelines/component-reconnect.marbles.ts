import { map, of, throwError, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import { ConnectionError } from '../../src/errors.js';
import { component } from '../../src/index.js';
import type { Msg } from '../../src/protocol/messages.js';
import { memoryLinkPair } from '../../src/testing/index.js';
import type { Link } from '../../src/transport/link.js';
import type { Status } from '../../src/types.js';
import { createScheduler } from '../helpers.js';

const letter: Record<Status['type'], string> = { connecting: 'c', up: 'u', down: 'd', reconnecting: 'r', closed: 'x' };

/**
 * A scripted broker on the far side of an in-memory link: answers every request with OK and
 * records what it received as `frame:type:topic`.
 */
class FakeBroker {
  readonly received: string[] = [];
  readonly links: Link[] = [];
  refuse = 0;

  constructor(private readonly scheduler: TestScheduler) {}

  readonly dial = (): Observable<Link> => {
    if (this.refuse > 0) {
      this.refuse--;
      return throwError(() => new ConnectionError('broker down'));
    }
    const [client, server] = memoryLinkPair();
    this.links.push(server);
    server.frames$.subscribe((frame) => {
      const msg = decodeCbor(frame as Uint8Array);
      const topic = 'topic' in msg ? msg.topic : 'cid' in msg ? msg.cid : '';
      this.received.push(`${this.scheduler.now()}:${msg.type}:${topic}`);
      if ('id' in msg && msg.type !== 'pub' && msg.type !== 'rpc') server.send(encodeCbor({ type: 'response', id: msg.id, status: 0, data: null }));
    });
    return of(client);
  };

  publish(msg: Msg): void {
    this.links.at(-1)!.send(encodeCbor(msg));
  }
}

describe('component reconnect pipeline', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('reconnects with backoff and declares its subscriptions and methods again', () => {
    scheduler.run(({ expectObservable }) => {
      const fake = new FakeBroker(scheduler);
      const node = component('ws://broker:8338/me', { dial: fake.dial, reconnect: { initialDelay: 10, maxDelay: 40, jitter: 0 } });
      const topic = node.subscribe$('a/*');
      node.expose('m', () => 1);
      scheduler.schedule(() => { fake.refuse = 2; fake.links[0]!.close(); }, 20);
      scheduler.schedule(() => fake.publish({ type: 'pub', flags: 0, topic: 'a/*', args: ['a/b', 7] }), 100);
      scheduler.schedule(() => void node.close(), 200);

      // Backoff after the drop at 20: 10 ms (refused at 30), 20 ms (refused at 50), 40 ms (up at 90).
      expectObservable(node.status$.pipe(map((s) => letter[s.type])))
        .toBe('u 19ms (dr) 6ms r 19ms r 39ms u 109ms (x|)');
      // The app's stream survives the reconnect: no error, no completion until close().
      expectObservable(topic.pipe(map((m) => `${m.topic}=${String(m.args[0])}`)), '^ 150ms !')
        .toBe('100ms a', { a: 'a/b=7' });
    });
  });

  it('sends identity, its declarations and reactive, in that order, on every connect', () => {
    const fake = new FakeBroker(scheduler);
    scheduler.run(() => {
      const node = component('ws://broker:8338/me', { dial: fake.dial, reconnect: { initialDelay: 10, jitter: 0 } });
      node.subscribe$('a/*').subscribe();
      node.expose('m', () => 1);
      scheduler.schedule(() => fake.links[0]!.close(), 20);
      scheduler.schedule(() => void node.close(), 50);
    });
    expect(fake.received).toEqual([
      '0:identity:me', '0:admin:__config__', '0:admin:a/*', '0:admin:m',
      '30:identity:me', '30:admin:a/*', '30:admin:m', '30:admin:__config__',
    ]);
    expect(fake.links).toHaveLength(2);
  });

  it('holds QoS0 publishes while down and flushes them in order on reconnect', () => {
    const fake = new FakeBroker(scheduler);
    scheduler.run(() => {
      const node = component('ws://broker:8338/me', { dial: fake.dial, reconnect: { initialDelay: 10, jitter: 0 } });
      scheduler.schedule(() => fake.links[0]!.close(), 5);
      scheduler.schedule(() => { node.publish('t1', 1); node.publish('t2', 2); }, 7);
      scheduler.schedule(() => void node.close(), 40);
    });
    expect(fake.received.filter((r) => r.includes(':pub:'))).toEqual(['15:pub:t1', '15:pub:t2']);
  });

  it('fails pending calls with ConnectionClosedError when the link drops', () => {
    scheduler.run(({ expectObservable }) => {
      const fake = new FakeBroker(scheduler);
      const node = component('ws://broker:8338/me', { dial: fake.dial, reconnect: { initialDelay: 10, jitter: 0 } });
      // The fake never answers RPCs, so the call is still pending when the link drops.
      scheduler.schedule(() => fake.links[0]!.close(), 30);
      scheduler.schedule(() => void node.close(), 60);
      expectObservable(node.rpc$('never')).toBe('30ms #', undefined, { name: 'ConnectionClosedError', message: 'connection down' });
    });
  });
});
