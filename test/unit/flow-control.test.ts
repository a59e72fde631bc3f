import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlowControl } from '../../src/broker/flow-control.js';
import { Session, Twin } from '../../src/broker/twin.js';
import { silentLogger } from '../../src/internal/logger.js';
import type { Link } from '../../src/transport/link.js';
import { NEVER } from 'rxjs';

/** A link whose unread bytes the test sets, recording pause/resume/abort. */
class FakeLink implements Link {
  readonly frames$ = NEVER;
  bufferedAmount = 0;
  isOpen = true;
  paused = false;
  aborted = 0;
  sent = 0;
  /** Frames sent, and whether each adds its bytes to `bufferedAmount` (a reader that reads nothing). */
  readonly frames: Uint8Array[] = [];
  grows = false;
  readonly remote = 'fake';
  send(frame: unknown): void {
    this.sent++;
    this.frames.push(frame as Uint8Array);
    if (this.grows) this.bufferedAmount += (frame as Uint8Array).byteLength;
  }
  close(): void { this.isOpen = false; }
  pause(): void { this.paused = true; }
  resume(): void { this.paused = false; }
  abort(): void { this.aborted++; this.isOpen = false; }
}

type Peer = { link: FakeLink; session: Session };

function peer(flow: FlowControl): Peer {
  const link = new FakeLink();
  return { link, session: new Session(link, new Twin(`t${Math.random()}`, true), silentLogger, flow) };
}

/** A publish from `pub` delivered to each reader, which had `unread` bytes waiting. */
function publishInto(flow: FlowControl, pub: Session, readers: [Peer, number][]): void {
  flow.routing();
  for (const [reader, unread] of readers) {
    reader.link.bufferedAmount = unread;
    reader.session.sendFrame(Uint8Array.of(1));
  }
  flow.published(pub);
}

describe('FlowControl', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });
  const make = (maxBuffered = 1_000_000): FlowControl =>
    new FlowControl({ highWater: 1000, maxPause: 500, stallTimeout: 2000, checkInterval: 5 }, maxBuffered, silentLogger, () => Date.now());

  it('pauses the publisher of a delivery past high water and resumes it once the reader drains to half', () => {
    const flow = make();
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 1500]]);
    expect(pub.link.paused).toBe(true);
    expect(flow.counts).toEqual({ congested: 1, paused: 1, slowConsumers: 0 });
    sub.link.bufferedAmount = 600; // still above half
    vi.advanceTimersByTime(20);
    expect(pub.link.paused).toBe(true);
    sub.link.bufferedAmount = 400;
    vi.advanceTimersByTime(10);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0, slowConsumers: 0 });
    flow.close();
  });

  it('leaves publishers alone when their deliveries stay under high water', () => {
    const flow = make();
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 1000]]);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0, slowConsumers: 0 });
  });

  it('never pauses a publisher that one of its readers keeps up with', () => {
    const flow = make();
    const fast = peer(flow);
    const stuck = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[stuck, 50_000], [fast, 0]]);
    publishInto(flow, pub.session, [[fast, 10], [stuck, 50_000]]);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts.congested).toBe(1);
    flow.close();
  });

  it('never pauses a publisher for a reader it did not feed, nor for sends outside a publish', () => {
    const flow = make();
    const stuck = peer(flow);
    const other = peer(flow);
    const pub = peer(flow);
    stuck.link.bufferedAmount = 50_000;
    stuck.session.sendFrame(Uint8Array.of(1)); // an RPC reply, say
    publishInto(flow, pub.session, [[other, 0]]);
    flow.routing();
    flow.published(pub.session); // a publish nobody subscribes to
    expect(pub.link.paused).toBe(false);
    flow.close();
  });

  it('resumes a publisher as soon as one of the readers that held it drains', () => {
    const flow = make();
    const slow = peer(flow);
    const stuck = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[slow, 5000], [stuck, 5000]]);
    expect(pub.link.paused).toBe(true);
    slow.link.bufferedAmount = 100;
    vi.advanceTimersByTime(10);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts.congested).toBe(1); // the stuck one
    flow.close();
  });

  it('waits for the readers of the last publish only, not those an earlier publish was parked on', () => {
    const flow = make();
    const slow = peer(flow);
    const stuck = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[slow, 5000], [stuck, 5000]]);
    slow.link.bufferedAmount = 100;
    vi.advanceTimersByTime(10);
    expect(pub.link.paused).toBe(false); // slow drained
    // Parked on the stuck reader alone: the slow one, no longer behind, must not resume it.
    publishInto(flow, pub.session, [[stuck, 5000]]);
    expect(pub.link.paused).toBe(true);
    vi.advanceTimersByTime(100);
    expect(pub.link.paused).toBe(true);
    vi.advanceTimersByTime(500); // maxPause
    expect(pub.link.paused).toBe(false);
    // A publish that found room somewhere pauses nothing, whatever was tallied before.
    publishInto(flow, pub.session, [[stuck, 5000], [slow, 0]]);
    expect(pub.link.paused).toBe(false);
    flow.close();
  });

  it('resumes a publisher after maxPause even while its reader stays behind', () => {
    const flow = make();
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 5000]]);
    vi.advanceTimersByTime(400);
    sub.link.bufferedAmount = 4000; // reading, slowly
    vi.advanceTimersByTime(50);
    expect(pub.link.paused).toBe(true);
    vi.advanceTimersByTime(60);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 1, paused: 0, slowConsumers: 0 });
    flow.close();
  });

  it('cuts a reader behind of which nothing is written for stallTimeout, but not one that reads while it is fed', () => {
    const flow = make();
    const reading = peer(flow);
    const stuck = peer(flow);
    reading.link.bufferedAmount = stuck.link.bufferedAmount = 5000;
    reading.session.sendFrame(Uint8Array.of(1, 2, 3));
    stuck.session.sendFrame(Uint8Array.of(1, 2, 3));
    for (let t = 0; t < 2100; t += 100) {
      // More is sent to both than the reader takes: its backlog grows, yet bytes go out.
      for (const p of [reading, stuck]) p.session.sendFrame(new Uint8Array(100));
      reading.link.bufferedAmount -= 50;
      vi.advanceTimersByTime(100);
    }
    expect(stuck.link.aborted).toBe(1);
    expect(reading.link.aborted).toBe(0);
    expect(reading.link.sent).toBe(0); // all parked: the link is still behind
    expect(reading.session.unread).toBe(5000 - 21 * 50 + 3 + 21 * 100);
    expect(flow.counts).toEqual({ congested: 1, paused: 0, slowConsumers: 1 });
    // A cut link gets nothing more, and is not cut twice.
    const sent = stuck.link.sent;
    stuck.session.sendFrame(Uint8Array.of(1));
    expect(stuck.link.sent).toBe(sent);
    expect(flow.counts.slowConsumers).toBe(1);
    flow.close();
  });

  it('cuts a reader behind at once when stallBytes more pile up with nothing written, not one that reads', () => {
    const flow = new FlowControl({ highWater: 1000, maxPause: 500, stallTimeout: 2000, checkInterval: 5, stallBytes: 1000 },
      1_000_000, silentLogger, () => Date.now());
    const reading = peer(flow);
    const stuck = peer(flow);
    reading.link.bufferedAmount = stuck.link.bufferedAmount = 5000;
    for (let t = 0; t < 490; t += 10) {
      for (const p of [reading, stuck]) p.session.sendFrame(new Uint8Array(100));
      reading.link.bufferedAmount -= 10; // reads slowly: bytes go out
      vi.advanceTimersByTime(10);
    }
    expect(stuck.link.aborted).toBe(0); // piled up fast, but not stalled for stallTimeout / 4 yet
    for (let t = 0; t < 30; t += 10) {
      for (const p of [reading, stuck]) p.session.sendFrame(new Uint8Array(100));
      reading.link.bufferedAmount -= 10;
      vi.advanceTimersByTime(10);
    }
    expect(stuck.link.aborted).toBe(1); // 500 ms, 1000 bytes more: long before stallTimeout
    expect(reading.link.aborted).toBe(0);
    expect(flow.counts.slowConsumers).toBe(1);
    flow.close();
  });

  it('sees a reader drain a large write through the OS write queue, and cuts it only once that stops', () => {
    const flow = make();
    const reader = peer(flow);
    reader.link.bufferedAmount = 50_000; // one write under way: bufferedAmount moves only when it is done
    Object.assign(reader.link, { writeQueueSize: 50_000 });
    reader.session.sendFrame(Uint8Array.of(1));
    for (let t = 0; t < 3000; t += 100) {
      (reader.link as unknown as { writeQueueSize: number }).writeQueueSize -= 1000;
      vi.advanceTimersByTime(100);
    }
    expect(reader.link.aborted).toBe(0);
    vi.advanceTimersByTime(2100); // it stops reading
    expect(reader.link.aborted).toBe(1);
    flow.close();
  });

  it('cuts a reader past maxBuffered at once, without sending it the frame', () => {
    const flow = make(10_000);
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 10_001]]);
    expect(sub.link.aborted).toBe(1);
    expect(sub.link.sent).toBe(0);
    expect(pub.link.paused).toBe(false); // a cut reader holds no publisher
    expect(flow.counts).toEqual({ congested: 0, paused: 0, slowConsumers: 1 });
    publishInto(flow, pub.session, [[sub, 20_000]]);
    expect(sub.link.aborted).toBe(1);
    expect(flow.counts.slowConsumers).toBe(1);
  });

  it('parks the frames of a link behind and writes them in order, highWater at a time, as it drains', () => {
    const flow = make();
    const sub = peer(flow);
    sub.link.grows = true;
    const frames = Array.from({ length: 30 }, (_, i) => new Uint8Array(100).fill(i));
    for (const f of frames.slice(0, 11)) sub.session.sendFrame(f); // the 11th finds 1100 > highWater
    expect(sub.link.sent).toBe(11);
    for (const f of frames.slice(11)) sub.session.sendFrame(f);
    expect(sub.link.sent).toBe(11); // parked: nothing more written, no copy
    expect(sub.session.unread).toBe(3000);
    expect(flow.counts.congested).toBe(1);
    sub.link.bufferedAmount = 600; // reads, but not yet down to half
    vi.advanceTimersByTime(10);
    expect(sub.link.sent).toBe(11);
    sub.link.bufferedAmount = 0; // read everything: up to highWater of the parked frames go out
    vi.advanceTimersByTime(5);
    expect(sub.link.sent).toBe(22);
    sub.session.sendFrame(Uint8Array.of(99)); // still behind: waits behind the parked ones
    sub.link.bufferedAmount = 0;
    vi.advanceTimersByTime(5);
    expect(sub.link.frames).toEqual([...frames, Uint8Array.of(99)]);
    expect(flow.counts.congested).toBe(0);
    expect(sub.session.parked).toBeNull();
    sub.session.sendFrame(Uint8Array.of(100)); // straight to the link again
    expect(sub.link.sent).toBe(32);
    expect(flow.counts).toEqual({ congested: 0, paused: 0, slowConsumers: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts parked frames as unread: past maxBuffered the link is cut and its parked frames dropped', () => {
    const flow = make(10_000);
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 5000]]);
    expect(pub.link.paused).toBe(true); // every delivery of that publish found its link behind
    for (let i = 0; i < 49; i++) sub.session.sendFrame(new Uint8Array(100));
    expect(sub.session.unread).toBe(5000 + 1 + 4900);
    expect(sub.link.aborted).toBe(0);
    sub.session.sendFrame(new Uint8Array(100));
    expect(sub.link.aborted).toBe(1);
    expect(sub.link.sent).toBe(0);
    expect(sub.session.parked).toBeNull();
    expect(flow.counts).toEqual({ congested: 0, paused: 1, slowConsumers: 1 });
    vi.advanceTimersByTime(5); // its cut releases the publisher it held
    expect(pub.link.paused).toBe(false);
    flow.close();
  });

  it('closes with 1008 a link that cannot be aborted', () => {
    const flow = make(10_000);
    const sub = peer(flow);
    const closed: number[] = [];
    Object.assign(sub.link, { abort: undefined, close: (code: number) => { closed.push(code); sub.link.isOpen = false; } });
    sub.link.bufferedAmount = 20_000;
    sub.session.sendFrame(Uint8Array.of(1));
    expect(closed).toEqual([1008]);
  });

  it('forgets a session that leaves and releases its publishers on close', () => {
    const flow = make();
    const sub = peer(flow);
    const pub = peer(flow);
    publishInto(flow, pub.session, [[sub, 5000]]);
    sub.session.sendFrame(Uint8Array.of(1));
    flow.forget(sub.session);
    expect(sub.session.parked).toBeNull();
    expect(sub.session.unread).toBe(5000);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0, slowConsumers: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
