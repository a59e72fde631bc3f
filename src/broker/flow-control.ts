/**
 * The broker's one policy for peers that read slower than they are written to: slow consumers
 * are cut, and a publisher is paused only when every reader it feeds is behind. Modelled on
 * nats-server (a pending-bytes limit and a write deadline cut a slow consumer within seconds;
 * nothing it does slows anyone else) with publisher back-pressure for the common case of a
 * publisher faster than all of its readers.
 *
 * A link's *unread* bytes are what the broker queued for it and the kernel has not taken yet
 * (`Link.bufferedAmount`), and the frames parked for it. Every frame sent to a peer is judged on
 * that figure:
 *
 * - **Park.** A link with more than `highWater` unread is *behind*: nothing more is written to
 *   it. Its frames are parked in order (copied into large chunks, parked-frames.ts: no socket
 *   write, no object kept per frame), and written out, oldest first, as its link drains to
 *   `highWater / 2` (looked at every `checkInterval` ms), up to `highWater` at a time; once none
 *   is left, frames go straight to the link again. So a reader that stopped reading costs each
 *   publish a copy of its frame, not a write request and the garbage of a growing socket
 *   backlog, and a reader that stalls and resumes before it is cut gets every message in order.
 * - **Cut.** A peer is a slow consumer, and its link is dropped at once, when (a) it has more
 *   than `maxBuffered` bytes unread (parked included) as a frame is sent to it, or (b) it has had
 *   more than `highWater` unread for `stallTimeout` ms without any of it being written (a write
 *   deadline: it reads nothing), or (c) nothing of it is written for `stallTimeout / 4` while
 *   `stallBytes` more are parked for it (a stalled reader of a fast stream: cut before it holds
 *   much; a reader that reads in bursts shows progress at every burst); its parked
 *   frames are dropped with it. Progress is seen byte
 *   by byte where the link tells (`writeQueueSize`), so a reader that reads, however slowly, is cut by (a) only. No closing handshake: the close
 *   frame would wait behind the unread bytes and keep them in memory. Each cut is logged and
 *   counted (`stats().slowConsumers`); the component reconnects, and a named one subscribed
 *   with `msgfrom` is replayed what it missed from the log.
 * - **Pause.** A publish whose every delivery left its link above `highWater` stops the reading
 *   of its publisher's link: that publisher is faster than all of its readers, and slowing it
 *   down costs no one. It is read again as soon as one of those links drains to `highWater / 2`
 *   or closes, or after `maxPause` ms. A publish that found room at one reader pauses nothing:
 *   fast readers keep their pace and the reader behind runs into (a) or (b). A publisher is
 *   never paused for a reader it did not just feed.
 *
 * So the broker holds at most `maxBuffered` (+ one frame) per link, and a stalled reader costs
 * its publishers nothing but a parked copy per message until it is cut.
 */
import type { SchedulerLike } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { every, type Cancel } from '../internal/clock.js';
import type { Logger } from '../types.js';
import { ParkedFrames, type WritableFrame } from './parked-frames.js';
import { SLOW_CONSUMER_CLOSE, type Session } from './twin.js';

/** Options of {@link FlowControl}; every field documents its default. */
export interface FlowControlOptions {
  /** Unread bytes per link past which the link counts as behind. Default 1 MiB. */
  readonly highWater?: number;
  /** Longest single pause of a publisher, ms. Default 1_000. */
  readonly maxPause?: number;
  /**
   * A link behind (past `highWater`) of which nothing is written for this long is cut as a slow
   * consumer, ms. Default 2_000.
   */
  readonly stallTimeout?: number;
  /** How often links behind are looked at while any is, ms. Default 5. */
  readonly checkInterval?: number;
  /**
   * A link behind of which nothing is written for a quarter of `stallTimeout` while this many
   * bytes more are parked for it is cut then, without waiting for the whole `stallTimeout`: a
   * stalled reader of a fast stream costs a parked copy per message and about this much memory
   * at most. Default 8 MiB.
   */
  readonly stallBytes?: number;
}

/**
 * A link above high water: the most of its bytes seen written, the OS write queue at the last
 * look, since when neither moved, and the bytes parked for it then.
 */
interface Behind { written: number; queue: number; since: number; parked: number }

export class FlowControl {
  private readonly highWater: number;
  private readonly maxPause: number;
  private readonly stallTimeout: number;
  private readonly checkInterval: number;
  private readonly stallBytes: number;
  private readonly behind = new Map<Session, Behind>();
  /** Paused publishers: when, and the links whose draining resumes them. */
  private readonly paused = new Map<Session, { at: number; waiting: readonly Session[] }>();
  private timer: Cancel | undefined;
  /** The tally of the publish being routed (between `routing` and `published`). */
  private tallying = false;
  private roomy = false;
  /**
   * The links behind that this publish was parked on: `fullCount` of `full`. Emptied slot by
   * slot, never by `length = 0`, which drops the array's backing store and made every publish
   * to a link behind allocate a new one (~150 bytes per message while a reader is parked).
   */
  private readonly full: (Session | undefined)[] = [];
  private fullCount = 0;
  /** Links cut as slow consumers since start. */
  private cuts = 0;

  /** `maxBuffered`: unread bytes per link past which it is cut (`BrokerOptions.maxBufferedBytes`). */
  constructor(options: FlowControlOptions, private readonly maxBuffered: number, private readonly log: Logger,
    private readonly now = Date.now, private readonly scheduler?: SchedulerLike) {
    this.highWater = options.highWater ?? 1024 * 1024;
    this.maxPause = options.maxPause ?? 1_000;
    this.stallTimeout = options.stallTimeout ?? 2_000;
    this.checkInterval = options.checkInterval ?? 5;
    this.stallBytes = options.stallBytes ?? 8 * 1024 * 1024;
  }

  /** Was the link above high water when last written to? (a full member of a group, groups.ts) */
  isBehind(session: Session): boolean {
    return this.behind.has(session);
  }

  /** Links above high water now, publishers paused now, links cut as slow consumers since start. */
  get counts(): { congested: number; paused: number; slowConsumers: number } {
    return { congested: this.behind.size, paused: this.paused.size, slowConsumers: this.cuts };
  }

  /** A publish is about to be routed: its deliveries are tallied until `published`. */
  routing(): void {
    this.tallying = true;
    this.roomy = false;
    for (let i = 0; i < this.fullCount; i++) this.full[i] = undefined;
    this.fullCount = 0;
  }

  /**
   * A frame is about to be sent on `session`'s link (none parked), which has `buffered` bytes
   * unread. False when it is not to be written: the link is behind (it starts parking: hand the
   * frame to {@link park}), or closed.
   */
  admit(session: Session, buffered: number): boolean {
    if (buffered <= this.highWater) {
      this.roomy = true;
      return true;
    }
    if (!session.link.isOpen) return false;
    session.parked = new ParkedFrames();
    if (!this.behind.has(session)) {
      this.behind.set(session, { written: session.queued - buffered, queue: session.link.writeQueueSize ?? 0, since: this.now(), parked: 0 });
      this.watch();
    }
    return false;
  }

  /**
   * A frame for a link that `admit` did not let write: parked behind the others, or dropped
   * when the link is closed, or with the link when this frame takes it past `maxBuffered`. A
   * frame in parts (`WritableFrame`) is written straight into the parked chunks: a link behind
   * costs no frame made for it.
   */
  park(session: Session, frame: Frame | WritableFrame): void {
    const parked = session.parked;
    if (parked === null || !session.link.isOpen) return;
    const unread = session.link.bufferedAmount + parked.bytes + (frame instanceof Uint8Array ? frame.byteLength : frame.length);
    if (unread > this.maxBuffered) {
      this.cut(session, unread, `more than ${this.maxBuffered} bytes unread`);
      return;
    }
    if (this.tallying) this.full[this.fullCount++] = session;
    parked.push(frame);
  }

  /** After a publish from `publisher` was routed: pause it when every delivery found its link full. */
  published(publisher: Session | null): void {
    this.tallying = false;
    if (this.roomy || this.fullCount === 0 || publisher === null || this.paused.has(publisher)) return;
    const link = publisher.link;
    if (link.pause === undefined || link.resume === undefined) return;
    link.pause();
    this.paused.set(publisher, { at: this.now(), waiting: this.full.slice(0, this.fullCount) as Session[] });
    this.watch();
  }

  /** A session is gone: forget it and its parked frames, resume what it held. */
  forget(session: Session): void {
    unpark(session);
    this.paused.delete(session);
    if (this.behind.delete(session)) this.check();
  }

  close(): void {
    this.timer?.();
    this.timer = undefined;
    for (const session of this.paused.keys()) session.link.resume?.();
    for (const session of this.behind.keys()) unpark(session);
    this.paused.clear();
    this.behind.clear();
  }

  private cut(session: Session, buffered: number, why: string): void {
    this.cuts++;
    session.lose(); // before the abort drops what the OS has not taken
    this.behind.delete(session);
    unpark(session);
    const link = session.link;
    this.log.warn({ cid: session.twin.name, remote: link.remote, buffered, slowConsumers: this.cuts },
      `slow consumer cut: ${why}`);
    if (link.abort !== undefined) link.abort();
    else link.close(SLOW_CONSUMER_CLOSE, `slow consumer: ${why}`);
  }

  /**
   * Write `session`'s parked frames, oldest first, until its link has `highWater` unread. True
   * when none is left (frames go straight to the link again).
   */
  private drain(session: Session): boolean {
    const parked = session.parked;
    if (parked === null) return true;
    const link = session.link;
    let bytes = 0;
    while (parked.size > 0 && link.bufferedAmount <= this.highWater) {
      const frame = parked.shift()!;
      link.send(frame);
      bytes += typeof frame === 'string' ? frame.length : frame.byteLength;
    }
    session.queued += bytes;
    if (parked.size === 0) {
      unpark(session);
      return true;
    }
    return false;
  }

  /** Some of `session`'s bytes went out: its stall deadlines start again. */
  private moved(state: Behind, now: number, session: Session): void {
    state.since = now;
    state.parked = session.parked?.bytes ?? 0;
  }

  private watch(): void {
    if (this.timer !== undefined) return;
    this.timer = every(this.scheduler, this.checkInterval, () => this.check());
  }

  private check(): void {
    const now = this.now();
    for (const [session, state] of this.behind) {
      const buffered = session.link.bufferedAmount;
      const written = session.queued - buffered;
      // A large write drains inside the OS queue long before `bufferedAmount` shows it.
      const queue = session.link.writeQueueSize ?? 0;
      const draining = queue < state.queue;
      state.queue = queue;
      if (!session.link.isOpen) {
        this.behind.delete(session);
        unpark(session);
      } else if (buffered <= this.highWater / 2) {
        if (this.drain(session)) this.behind.delete(session);
        else this.moved(state, now, session); // it read half of what it had: not stalled
        state.written = Math.max(written, state.written);
      } else if (written > state.written || draining) {
        state.written = Math.max(written, state.written); // some of it went out: not stalled
        this.moved(state, now, session);
      } else if (now - state.since >= this.stallTimeout) {
        this.cut(session, buffered, `nothing written for ${this.stallTimeout} ms`);
      } else if (now - state.since >= this.stallTimeout / 4 && (session.parked?.bytes ?? 0) - state.parked > this.stallBytes) {
        this.cut(session, buffered + session.parked!.bytes,
          `nothing written for ${now - state.since} ms while ${this.stallBytes} bytes more were parked`);
      }
    }
    for (const [session, { at, waiting }] of this.paused) {
      if (now - at >= this.maxPause || !session.link.isOpen || waiting.some((s) => !this.behind.has(s))) {
        this.paused.delete(session);
        session.link.resume?.();
      }
    }
    if (this.behind.size === 0 && this.paused.size === 0) {
      this.timer?.();
      this.timer = undefined;
    }
  }
}

/** Frames go straight to the link again; what was parked is forgotten. */
function unpark(session: Session): void {
  session.parked = null;
}
