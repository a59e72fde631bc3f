/**
 * A refused QoS1/2 publish (README "Refused publishes on the wire"): the component asks for
 * refusal notices in its `reactive` command, fails the publish with UnauthorizedError as soon as
 * the notice arrives (no retries, no AckTimeoutError), and ignores a notice for a publish that
 * is no longer in flight. (A reference broker sends no notice: security-identity.test.ts.)
 */
import { of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import { component } from '../../src/index.js';
import type { AdminMsg, Msg } from '../../src/protocol/messages.js';
import { REFUSALS_KEY } from '../../src/protocol/refusals.js';
import { memoryLinkPair } from '../../src/testing/index.js';
import type { Link } from '../../src/transport/link.js';
import { createScheduler } from '../helpers.js';

/**
 * A scripted broker: answers requests with OK; a QoS1 publish on `closed` gets the refusal
 * notice after `delay` ms (if the component asked for notices), on `open` an ACK then a stray
 * notice for the same id.
 */
class RefusingBroker {
  readonly received: string[] = [];
  asked = false;

  constructor(private readonly scheduler: TestScheduler, private readonly delay: number) {}

  readonly dial = (): Observable<Link> => {
    const [client, server] = memoryLinkPair();
    server.frames$.subscribe((frame) => {
      const msg = decodeCbor(frame as Uint8Array);
      this.received.push(`${this.scheduler.now()}:${msg.type}${'topic' in msg ? `:${msg.topic}` : ''}`);
      if (msg.type === 'admin' && (msg as AdminMsg).cmd['cmd'] === 'reactive') this.asked = msg.cmd[REFUSALS_KEY] === true;
      if (msg.type === 'pub' && msg.id !== undefined) {
        const id = msg.id;
        const notice: Msg = { type: 'response', id, status: 10, data: `unauthorized: ${msg.topic}` };
        if (msg.topic === 'closed' && this.asked) this.scheduler.schedule(() => server.send(encodeCbor(notice)), this.delay);
        if (msg.topic === 'open') {
          server.send(encodeCbor({ type: 'ack', id }));
          this.scheduler.schedule(() => server.send(encodeCbor(notice)), this.delay);
        }
        return;
      }
      if ('id' in msg && msg.type !== 'rpc' && msg.type !== 'pub') server.send(encodeCbor({ type: 'response', id: msg.id, status: 0, data: null }));
    });
    return of(client);
  };
}

describe('refused publishes', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  it('asks for notices and fails a refused QoS1 publish at once with UnauthorizedError', () => {
    const fake = new RefusingBroker(scheduler, 5);
    scheduler.run(({ expectObservable }) => {
      const node = component('ws://broker:8338/me', { dial: fake.dial, ackTimeout: 100, sendRetries: 3 });
      const refused = node.publish$('closed', [1], { qos: 1 });
      expectObservable(refused).toBe('5ms #', undefined,
        { name: 'UnauthorizedError', message: "publish on 'closed' refused by the broker: unauthorized: closed" });
      scheduler.schedule(() => void node.close(), 500);
    });
    expect(fake.asked).toBe(true);
    // Sent once: the notice settled it, so the ACK timer never re-sent it.
    expect(fake.received.filter((r) => r.endsWith(':pub:closed'))).toEqual(['0:pub:closed']);
  });

  it('ignores a notice for a publish already acknowledged', () => {
    const fake = new RefusingBroker(scheduler, 5);
    scheduler.run(({ expectObservable }) => {
      const node = component('ws://broker:8338/me', { dial: fake.dial, ackTimeout: 100, sendRetries: 3 });
      expectObservable(node.publish$('open', [1], { qos: 1 })).toBe('|');
      expectObservable(node.status$).toBe('u 499ms (x|)', { u: { type: 'up', url: 'ws://broker:8338' }, x: { type: 'closed' } });
      scheduler.schedule(() => void node.close(), 500);
    });
  });

  it('drops a notice for a publish its caller withdrew (early unsubscribe)', () => {
    const fake = new RefusingBroker(scheduler, 5);
    scheduler.run(({ expectObservable }) => {
      const node = component('ws://broker:8338/me', { dial: fake.dial, ackTimeout: 100, sendRetries: 3 });
      expectObservable(node.publish$('closed', [1], { qos: 1 }), '^ 2ms !').toBe('');
      expectObservable(node.publish$('open', [2], { qos: 1 })).toBe('|');
      scheduler.schedule(() => void node.close(), 500);
    });
    expect(fake.received.filter((r) => r.includes(':pub:'))).toEqual(['0:pub:closed', '0:pub:open']);
  });
});
