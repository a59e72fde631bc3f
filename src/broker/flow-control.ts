/**
 * Publisher flow control: when a delivery leaves a subscriber's link with more than
 * `highWater` bytes unread, the link that published it stops being read until every congested
 * link is below `highWater / 2` again. Publishers then go at the pace of their readers and the
 * fan-out waits in their TCP buffers, not in the broker's memory; nothing is dropped.
 *
 * Two bounds keep one peer from stalling the others for long: a publisher is resumed after
 * `maxPause` ms whatever the congestion (its next congested delivery pauses it again), and a
 * subscriber that reads nothing for `stallTimeout` ms while bytes wait for it is dropped as a
 * slow consumer (no closing handshake: it would never read the close frame).
 */
import type { Logger } from '../types.js';
import { SLOW_CONSUMER_CLOSE, type Session } from './twin.js';

/** Options of {@link FlowControl}; every field documents its default. */
export interface FlowControlOptions {
  /** Unread bytes per link past which its publishers are paused. Default 1 MiB. */
  readonly highWater?: number;
  /** Longest single pause of a publisher, ms. Default 1_000. */
  readonly maxPause?: number;
  /** A congested link that reads nothing this long is closed as a slow consumer, ms. Default 30_000. */
  readonly stallTimeout?: number;
  /** How often congested links are looked at while any is, ms. Default 5. */
  readonly checkInterval?: number;
}

interface Congested { buffered: number; since: number }

export class FlowControl {
  private readonly highWater: number;
  private readonly maxPause: number;
  private readonly stallTimeout: number;
  private readonly checkInterval: number;
  private readonly congested = new Map<Session, Congested>();
  /** Paused publishers and when they were paused. */
  private readonly paused = new Map<Session, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Set by a delivery that left its link congested; read and cleared per publish. */
  hit = false;

  constructor(options: FlowControlOptions, private readonly log: Logger, private readonly now = Date.now) {
    this.highWater = options.highWater ?? 1024 * 1024;
    this.maxPause = options.maxPause ?? 1_000;
    this.stallTimeout = options.stallTimeout ?? 30_000;
    this.checkInterval = options.checkInterval ?? 5;
  }

  /** Links above high water now, and publishers paused now. */
  get counts(): { congested: number; paused: number } {
    return { congested: this.congested.size, paused: this.paused.size };
  }

  /**
   * A frame was queued on `session`'s link, which had `buffered` bytes unread: note the link
   * when that is past high water.
   */
  sent(session: Session, buffered: number): void {
    if (buffered <= this.highWater || !session.link.isOpen) return;
    this.hit = true;
    if (!this.congested.has(session)) {
      this.congested.set(session, { buffered, since: this.now() });
      this.watch();
    }
  }

  /** After a publish from `session` was routed: pause its link if a delivery congested one. */
  published(session: Session | null): void {
    if (!this.hit) return;
    this.hit = false;
    if (session === null || this.paused.has(session) || this.congested.size === 0) return;
    const link = session.link;
    if (link.pause === undefined || link.resume === undefined) return;
    link.pause();
    this.paused.set(session, this.now());
    this.watch();
  }

  /** A session is gone: forget it, resume what it held. */
  forget(session: Session): void {
    this.paused.delete(session);
    if (this.congested.delete(session)) this.check();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const session of this.paused.keys()) session.link.resume?.();
    this.paused.clear();
    this.congested.clear();
  }

  private watch(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), this.checkInterval);
    this.timer.unref();
  }

  private check(): void {
    const now = this.now();
    for (const [session, state] of this.congested) {
      const buffered = session.link.bufferedAmount;
      if (!session.link.isOpen || buffered <= this.highWater / 2) {
        this.congested.delete(session);
      } else if (buffered < state.buffered) {
        state.buffered = buffered; // it reads: not stalled
        state.since = now;
      } else if (now - state.since >= this.stallTimeout) {
        this.log.warn({ cid: session.twin.name, buffered }, `slow consumer: nothing read for ${this.stallTimeout} ms, link dropped`);
        this.congested.delete(session);
        // It reads nothing, so a close frame would wait behind the unread bytes: drop the link.
        if (session.link.abort !== undefined) session.link.abort();
        else session.link.close(SLOW_CONSUMER_CLOSE, `slow consumer: nothing read for ${this.stallTimeout} ms`);
      }
    }
    for (const [session, since] of this.paused) {
      if (this.congested.size === 0 || now - since >= this.maxPause || !session.link.isOpen) {
        this.paused.delete(session);
        session.link.resume?.();
      }
    }
    if (this.congested.size === 0 && this.paused.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
