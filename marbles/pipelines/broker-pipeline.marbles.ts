import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { BrokerImpl } from '../../src/broker/broker-impl.js';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import type { Msg } from '../../src/protocol/messages.js';
import { memoryLinkPair } from '../../src/testing/index.js';
import type { Frame, Link } from '../../src/transport/link.js';
import { createScheduler } from '../helpers.js';

/** A one-line summary of an outbound frame: `type topic args` or `type id status`. */
function summary(frame: Frame): string {
  const msg = decodeCbor(frame as Uint8Array);
  switch (msg.type) {
    case 'pub': return `pub${msg.flags ? `/${msg.flags.toString(16)}` : ''} ${msg.topic} ${JSON.stringify(msg.args)}`;
    case 'response': return `response ${msg.id} ${msg.status}`;
    case 'ack': return `ack ${msg.id}`;
    case 'ack2': return `ack2 ${msg.id}`;
    default: return msg.type;
  }
}

describe('broker pipeline: link → decode → route → fan-out', () => {
  let scheduler: TestScheduler;
  let broker: BrokerImpl;
  beforeEach(() => {
    scheduler = createScheduler();
    broker = new BrokerImpl({});
  });
  afterEach(() => broker.close());

  /** Connect a client whose outgoing frames come from a marble; returns what it receives. */
  function client(inbound: Observable<Msg | Uint8Array>): { received: Observable<string>; link: Link } {
    const [link, server] = memoryLinkPair();
    broker.handle(server);
    inbound.subscribe((m) => link.send(m instanceof Uint8Array ? m : encodeCbor(m)));
    return { received: link.frames$.pipe(map(summary)), link };
  }

  it('fans a publish out to subscribers, never back to the publisher, and drops bad frames', () => {
    scheduler.run(({ hot, expectObservable }) => {
      // Anonymous twins: a named twin's declarations are confirmed after an (async) store write.
      const sub = client(hot<Msg>('--b------', {
        b: { type: 'admin', id: 2n, topic: 'x/*', cmd: { cmd: 'subscribe', msg_from: 0 } },
      }));
      const pub = client(hot<Msg | Uint8Array>('----a-g-q', {
        a: { type: 'admin', id: 3n, topic: 'x/y', cmd: { cmd: 'subscribe', msg_from: 0 } },
        g: Uint8Array.of(0xff, 0x00, 0x13),
        q: { type: 'pub', flags: 0, topic: 'x/y', args: [1, 'a'] },
      }));
      expectObservable(sub.received).toBe('--b-----c', { b: 'response 2 0', c: 'pub x/* ["x/y",1,"a"]' });
      expectObservable(pub.received).toBe('----a----', { a: 'response 3 0' });
    });
  });

  it('forwards the publisher\'s own bytes to exact subscribers (encode once)', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const frame = encodeCbor({ type: 'pub', flags: 0, topic: 't', args: [{ k: [1, 2] }] });
      const subscribe: Msg = { type: 'admin', id: 1n, topic: 't', cmd: { cmd: 'subscribe' } };
      const s1 = client(hot<Msg>('a', { a: subscribe }));
      const s2 = client(hot<Msg>('a', { a: subscribe }));
      client(hot<Uint8Array>('--p', { p: frame }));
      const hex = (f: Frame): string => Buffer.from(f as Uint8Array).toString('hex');
      const ok = encodeCbor({ type: 'response', id: 1n, status: 0, data: null });
      expectObservable(s1.link.frames$.pipe(map(hex))).toBe('a-p', { a: hex(ok), p: hex(frame) });
      expectObservable(s2.received).toBe('a-p', { a: 'response 1 0', p: 'pub t [{"k":[1,2]}]' });
    });
  });

  it('re-sends an unacknowledged QoS1 delivery every ackTimeout, sendRetries times, then moves on', () => {
    void broker.close();
    broker = new BrokerImpl({ ackTimeout: 10, sendRetries: 2, maxInflight: 1 });
    scheduler.run(({ hot, expectObservable }) => {
      const sub = client(hot<Msg>('a', { a: { type: 'admin', id: 1n, topic: 't', cmd: { cmd: 'subscribe' } } }));
      client(hot<Msg>('--p-------------------------q', {
        p: { type: 'pub', flags: 0x10, id: 7n, topic: 't', args: [1] },
        q: { type: 'pub', flags: 0, topic: 't', args: [2] },
      }));
      // Sent at 2, re-sent at 12 and 22, given up at 32; the QoS0 message behind it waited.
      expectObservable(sub.received).toBe('a-p 9ms p 9ms p 9ms q', {
        a: 'response 1 0', p: 'pub/10 t [1]', q: 'pub t [2]',
      });
    });
  });

  it('waits for the ACK before the next message and answers a QoS2 ACK with ACK2', () => {
    void broker.close();
    broker = new BrokerImpl({ ackTimeout: 10, sendRetries: 2, maxInflight: 1 });
    scheduler.run(({ hot, expectObservable }) => {
      const sub = client(hot<Msg>('a----k-', {
        a: { type: 'admin', id: 1n, topic: 't', cmd: { cmd: 'subscribe' } },
        k: { type: 'ack', id: 7n },
      }));
      client(hot<Msg>('--pq---', {
        p: { type: 'pub', flags: 0x30, id: 7n, topic: 't', args: [1] },
        q: { type: 'pub', flags: 0, topic: 't', args: [2] },
      }));
      expectObservable(sub.received).toBe('a-p--(xq)', {
        a: 'response 1 0', p: 'pub/30 t [1]', x: 'ack2 7', q: 'pub t [2]',
      });
    });
  });

  it('keeps up to maxInflight messages awaiting their ACKs, in sending order', () => {
    void broker.close();
    broker = new BrokerImpl({ ackTimeout: 50, sendRetries: 2, maxInflight: 2 });
    scheduler.run(({ hot, expectObservable }) => {
      const sub = client(hot<Msg>('a-------k', {
        a: { type: 'admin', id: 1n, topic: 't', cmd: { cmd: 'subscribe' } },
        k: { type: 'ack', id: 2n },
      }));
      client(hot<Msg>('--(xyz)-', {
        x: { type: 'pub', flags: 0x10, id: 1n, topic: 't', args: [1] },
        y: { type: 'pub', flags: 0x10, id: 2n, topic: 't', args: [2] },
        z: { type: 'pub', flags: 0x10, id: 3n, topic: 't', args: [3] },
      }));
      // 1 and 2 leave at once; 3 waits until an ACK frees a place in the window (the ACK of 2).
      expectObservable(sub.received, '^ 20ms !').toBe('a-(xy)--z', {
        a: 'response 1 0', x: 'pub/10 t [1]', y: 'pub/10 t [2]', z: 'pub/10 t [3]',
      });
    });
  });

  it('stops delivering to a subscriber that unsubscribed, and to one whose link closed', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const subscribe: Msg = { type: 'admin', id: 1n, topic: 't', cmd: { cmd: 'subscribe' } };
      const s1 = client(hot<Msg>('a---u', { a: subscribe, u: { type: 'admin', id: 2n, topic: 't', cmd: { cmd: 'unsubscribe' } } }));
      const s2 = client(hot<Msg>('a', { a: subscribe }));
      scheduler.schedule(() => s2.link.close(), 5);
      client(hot<Msg>('--p---p', { p: { type: 'pub', flags: 0, topic: 't', args: [] } }));
      expectObservable(s1.received).toBe('a-p-u', { a: 'response 1 0', p: 'pub t []', u: 'response 2 0' });
      expectObservable(s2.received).toBe('a-p--|', { a: 'response 1 0', p: 'pub t []' });
    });
  });
});
