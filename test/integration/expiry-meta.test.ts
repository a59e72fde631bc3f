/**
 * Publish expiry (`ttl`) and message metadata end to end through a real broker: an expired
 * message is neither replayed nor retained (live and on a restart); `metadata: true` gives every
 * message the broker's id and receive time and the publisher's name, which the broker's policy
 * hides for anonymous publishers and when `publisherNames` is false.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { InvalidOptionError, LastReceived, type Message } from '../../src/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import type { PubMsg } from '../../src/protocol/messages.js';
import { collect, rawRequest, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** Resolves once `ms` have passed on the wall clock the broker reads (expiry is wall-clock time). */
async function past(deadline: number): Promise<void> {
  await waitFor(() => Date.now() > deadline, { timeout: 5_000, what: 'the ttl to pass' });
}

describe('expiry (ttl)', () => {
  it('delivers a message with a ttl live, but does not replay it once expired; others are replayed', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'away');
    const live = collect(sub.subscribe$('news', { msgfrom: LastReceived }), 1);
    await roundTrip(sub);
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('news', ['brief'], { ttl: 50, qos: 1 });
    expect((await live.done)[0]!.args).toEqual(['brief']);
    await sub.close();
    await pub.publishAsync('news', ['short-lived'], { ttl: 50, qos: 1 });
    const start = Date.now(); // acknowledged: the broker received it (and started its ttl) before now
    await pub.publishAsync('news', ['lasting'], { qos: 1 });
    await pub.publishAsync('news', ['long-lived'], { ttl: 60_000, qos: 1 });
    await past(start + 50);
    const back = await scope.connect(b, 'away');
    const replayed = collect(back.subscribe$('news', { msgfrom: LastReceived }), 2);
    expect((await replayed.done).map((m) => m.args[0])).toEqual(['lasting', 'long-lived']);
    await roundTrip(back);
    expect(replayed.values).toHaveLength(2);
  });

  it('does not give an expired retained value to a new subscriber', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    await pub.publishAsync('flash', ['now'], { retain: true, ttl: 30 });
    await pub.publishAsync('steady', ['kept'], { retain: true, ttl: 60_000 });
    await roundTrip(pub); // QoS0 resolves when sent: after this answer the broker has received both
    await past(Date.now() + 30);
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('*'), 1);
    await roundTrip(sub);
    expect((await got.done).map((m) => m.topic)).toEqual(['steady']);
    await roundTrip(sub);
    expect(got.values).toHaveLength(1);
  });

  it('refuses a ttl that is not a positive integer of ms at the call site', async () => {
    const b = await scope.broker();
    const pub = await scope.connect(b);
    for (const ttl of [0, -5, 1.5, Number.NaN]) {
      expect(() => pub.publish$('t', [], { ttl })).toThrow(InvalidOptionError);
    }
  });
});

describe('expiry in a subscriber\'s outbox', () => {
  it('does not send a QoS1 message whose ttl passed while it waited behind an unacknowledged one', async () => {
    const b = await scope.broker({ maxInflight: 1 });
    const raw = await scope.raw(b);
    let id = 1n;
    expect((await rawRequest(raw, { type: 'identity', id: id++, cid: 'slow' } as never)).status).toBe(0);
    expect((await rawRequest(raw, { type: 'admin', id: id++, topic: 't', cmd: { cmd: 'subscribe' } } as never)).status).toBe(0);
    const pub = await scope.connect(b, 'pub');
    const nextPub = async (): Promise<PubMsg> => {
      for (;;) {
        const msg = decodeCbor(await raw.next(5_000) as Uint8Array);
        if (msg.type === 'pub') return msg;
      }
    };
    await pub.publishAsync('t', ['first'], { qos: 1 });
    const first = await nextPub(); // in flight, not acknowledged: what follows waits in the outbox
    await pub.publishAsync('t', ['short-lived'], { qos: 1, ttl: 50 });
    await pub.publishAsync('t', ['long-lived'], { qos: 1, ttl: 60_000 });
    const deadline = Date.now() + 50;
    await waitFor(() => Date.now() > deadline + 20, { timeout: 5_000, what: 'the ttl to pass' });
    raw.sendBinary(encodeCbor({ type: 'ack', id: first.id! }));
    expect((await nextPub()).args).toEqual(['long-lived']);
  });
});

describe('message metadata', () => {
  it('gives a component that asked every message its id, receive time and publisher', async () => {
    const b = await scope.broker();
    const sub = await scope.connect(b, 'reader', { metadata: true });
    const got = collect(sub.subscribe$('m/*'), 3);
    const plain = await scope.connect(b, 'plain');
    const plainGot = collect(plain.subscribe$('m/*'), 1);
    await roundTrip(sub, plain);
    const named = await scope.connect(b, 'writer');
    const anonymous = await scope.connect(b);
    const before = Date.now();
    named.publish('m/a', 1);
    await roundTrip(named);
    anonymous.publish('m/b', 2);
    await named.publishAsync('m/c', [3], { qos: 2 });
    const [a, bb, c] = await got.done;
    expect([a!.from, bb!.from, c!.from]).toEqual(['writer', undefined, 'writer']);
    expect(a!.id! < bb!.id! && bb!.id! < c!.id!).toBe(true); // the broker's ids increase
    expect(a!.receivedAt!).toBeGreaterThanOrEqual(before - 1);
    expect(a!.retained).toBeUndefined();
    // A component that did not ask gets the plain Message (no per-delivery cost at the broker).
    const [p] = await plainGot.done;
    expect(p).toEqual({ topic: 'm/a', args: [1], pattern: 'm/*', qos: 0 });
  });

  it('hides publisher names when the broker says so (publisherNames: false)', async () => {
    const b = await scope.broker({ publisherNames: false });
    const sub = await scope.connect(b, 'reader', { metadata: true });
    const got = collect(sub.subscribe$('x'), 1);
    await roundTrip(sub);
    const pub = await scope.connect(b, 'writer');
    pub.publish('x', 1);
    const [m] = await got.done;
    expect(m!.from).toBeUndefined();
    expect(typeof m!.id).toBe('bigint');
  });

  it('keeps the same id on a retained copy and on the live delivery of one publish', async () => {
    const b = await scope.broker();
    const early = await scope.connect(b, 'early', { metadata: true });
    const live = firstValueFrom(early.subscribe$('state'));
    await roundTrip(early);
    const pub = await scope.connect(b);
    await pub.publishAsync('state', ['on'], { retain: true });
    const liveMsg: Message = await live;
    const late = await scope.connect(b);
    const retained: Message = await firstValueFrom(late.subscribe$('state'));
    expect(retained.retained).toBe(true);
    expect(retained.id).toBe(liveMsg.id);
  });
});
