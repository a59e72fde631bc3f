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
  aborted = false;
  readonly remote = 'fake';
  send(): void { /* bytes counted by the test */ }
  close(): void { this.isOpen = false; }
  pause(): void { this.paused = true; }
  resume(): void { this.paused = false; }
  abort(): void { this.aborted = true; this.isOpen = false; }
}

function session(flow: FlowControl): { link: FakeLink; session: Session } {
  const link = new FakeLink();
  return { link, session: new Session(link, new Twin(`t${Math.random()}`, true), Infinity, silentLogger, flow) };
}

/** A publish from `pub` whose delivery to `sub` leaves `unread` bytes on its link. */
function publishInto(flow: FlowControl, pub: Session, sub: { link: FakeLink; session: Session }, unread: number): void {
  flow.hit = false;
  sub.link.bufferedAmount = unread;
  sub.session.sendFrame(Uint8Array.of(1));
  flow.published(pub);
}

describe('FlowControl', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });
  const make = (): FlowControl =>
    new FlowControl({ highWater: 1000, maxPause: 500, stallTimeout: 2000, checkInterval: 5 }, silentLogger, () => Date.now());

  it('pauses the publisher of a delivery past high water and resumes it once the reader drains to half', () => {
    const flow = make();
    const sub = session(flow);
    const pub = session(flow);
    publishInto(flow, pub.session, sub, 1500);
    expect(pub.link.paused).toBe(true);
    expect(flow.counts).toEqual({ congested: 1, paused: 1 });
    sub.link.bufferedAmount = 600; // still above half
    vi.advanceTimersByTime(20);
    expect(pub.link.paused).toBe(true);
    sub.link.bufferedAmount = 400;
    vi.advanceTimersByTime(10);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0 });
    flow.close();
  });

  it('leaves publishers alone when their deliveries stay under high water', () => {
    const flow = make();
    const sub = session(flow);
    const pub = session(flow);
    publishInto(flow, pub.session, sub, 1000);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0 });
  });

  it('resumes a publisher after maxPause even while its reader stays behind', () => {
    const flow = make();
    const sub = session(flow);
    const pub = session(flow);
    publishInto(flow, pub.session, sub, 5000);
    vi.advanceTimersByTime(400);
    sub.link.bufferedAmount = 4000; // reading, slowly
    vi.advanceTimersByTime(50);
    expect(pub.link.paused).toBe(true);
    vi.advanceTimersByTime(60);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 1, paused: 0 });
    flow.close();
  });

  it('drops a congested reader that reads nothing for stallTimeout, but not one that reads', () => {
    const flow = make();
    const reading = session(flow);
    const stuck = session(flow);
    reading.link.bufferedAmount = stuck.link.bufferedAmount = 5000;
    reading.session.sendFrame(Uint8Array.of(1));
    stuck.session.sendFrame(Uint8Array.of(1));
    for (let t = 0; t < 2100; t += 100) {
      reading.link.bufferedAmount -= 10;
      vi.advanceTimersByTime(100);
    }
    expect(stuck.link.aborted).toBe(true);
    expect(reading.link.aborted).toBe(false);
    expect(flow.counts.congested).toBe(1);
    flow.close();
  });

  it('forgets a session that leaves and releases its publishers on close', () => {
    const flow = make();
    const sub = session(flow);
    const pub = session(flow);
    publishInto(flow, pub.session, sub, 5000);
    flow.forget(sub.session);
    expect(pub.link.paused).toBe(false);
    expect(flow.counts).toEqual({ congested: 0, paused: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
