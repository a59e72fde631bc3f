/**
 * Retroactive delivery (spec §4.7), whenever a subscription is declared. A named twin is sent
 * the logged messages it missed, oldest first, then what arrived live meanwhile (held from the
 * moment each window was fixed), so every subscription sees no gap and no duplicate:
 *
 * - `reactive` (PY/JL after login, TS at the end of its login): the spec replay, from the twin's
 *   mark, of the subscriptions that have not had their own replay in this session;
 * - `subscribe` with `replay: true` (TS components; a key the references never send and
 *   ignore): that subscription's replay, at once, whenever it is declared — from where the twin
 *   was when this session began, so declarations made at different times all see what the
 *   component missed while away;
 * - `reactive` after `reactive` false (a pause, JL `unreactive`): every subscription's messages
 *   from the pause on.
 *
 * The replays of one twin run one after the other; live deliveries wait until none is left.
 */
import type { SchedulerLike } from 'rxjs';
import { later, now as clockNow } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';
import type { MessageLog } from './message-log.js';
import { validMsgFrom } from './msg-from.js';
import { sendWindows, type ReplayAdmits, type Window } from './replay-send.js';
import type { Session, Twin } from './twin.js';

export { msgFromOf, validMsgFrom } from './msg-from.js';

/** Default replay window when the reactive command gives none: PY's fixed 3600 s (spec §4.7). */
export const DEFAULT_MAX_PERIOD_NS = 3_600_000_000_000;
interface Job { readonly windows: Map<string, Window>; ready: boolean }

/** Unsubscribed topics remembered per session (where a new subscription resumes); oldest forgotten past it. */
const MAX_LEFT = 10_000;

/** Replay state of one session of a named twin. */
class SessionReplay {
  readonly jobs: Job[] = [];
  running = false;
  /** A login hold waits for `reactive` (or `reactiveWait`). */
  awaitingReactive = false;
  /** Subscriptions that had their own replay in this session: `reactive` skips them. */
  readonly covered = new Set<string>();
  /** Subscriptions added while a hold ran: the log head then (their messages are held after it). */
  readonly heldFrom = new Map<string, bigint>();
  /** Subscriptions removed in this session: the mark then (a new one starts after it). */
  readonly left = new Map<string, bigint>();
  /** Subscriptions added while paused: the log head then. */
  readonly addedPaused = new Map<string, bigint>();
  /** Where the login hold began: the first `reactive` replays up to there. */
  loginUpTo: bigint | undefined;
  maxPeriod = BigInt(DEFAULT_MAX_PERIOD_NS);

  constructor(readonly session: Session, readonly floor: bigint) {}
}

export interface ReplayDeps {
  readonly log: MessageLog;
  readonly logger: Logger;
  /** How long a login hold waits for `reactive` before live messages flow anyway, ms. */
  readonly reactiveWait: number;
  /** What `twin` may receive on replay, by topic and publisher; undefined: all (private topics, spec §6.2; tenants). */
  admits(twin: Twin): ReplayAdmits | undefined;
  /** Virtual time (rembus/testing); default the real clock. */
  readonly scheduler?: SchedulerLike | undefined;
  /** What the twin missed that is not in this log (a cluster, src/cluster/stream-replay.ts): sent first, once. */
  gap?(twin: Twin, session: Session, admits: ReplayAdmits | undefined, maxPeriod: bigint): Promise<void> | undefined;
}

const nowNs = (scheduler: SchedulerLike | undefined): bigint => BigInt(clockNow(scheduler)) * 1_000_000n;
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

export class Replays {
  private readonly states = new WeakMap<Twin, SessionReplay>();
  /** The log head when each paused twin paused. */
  private readonly pauseHeads = new WeakMap<Twin, bigint>();

  constructor(private readonly deps: ReplayDeps) {}

  /** A named twin was bound to a new session; restored replaying subscriptions wait for `reactive`. */
  bound(twin: Twin): void {
    const state = new SessionReplay(twin.session!, twin.mark);
    this.states.set(twin, state);
    // A pause outlives the connection (the broker's memory): the twin comes back paused.
    twin.replayed = false;
    if (twin.wantsReplay()) {
      this.hold(twin);
      this.awaitReactive(twin, state);
    }
  }

  /** The twin's session ended: what was held or queued is in the log for the next replay. */
  unbound(twin: Twin): void {
    const state = this.states.get(twin);
    this.states.delete(twin);
    if (state !== undefined) state.jobs.length = 0;
    twin.holdTimer?.();
    twin.holdTimer = undefined;
    twin.held = null;
    twin.heldOverflow = undefined;
  }

  /**
   * After an admin command of a named twin succeeded (`existed`: the topic was subscribed
   * before a `subscribe`). Returns what to run once the reply has been sent: a subscription's
   * replay starts only then, so the component sees the reply before the replayed messages.
   */
  afterAdmin(twin: Twin, cmd: Record<string, unknown>, topic: string, existed: boolean): (() => void) | undefined {
    const state = this.states.get(twin);
    if (state === undefined) return undefined;
    switch (cmd['cmd']) {
      case 'subscribe': return this.subscribed(twin, state, topic, existed, cmd['replay'] === true);
      case 'unsubscribe':
        if (state.left.size >= MAX_LEFT) state.left.delete(state.left.keys().next().value!);
        state.left.set(topic, twin.mark);
        state.covered.delete(topic);
        state.heldFrom.delete(topic);
        return undefined;
      case 'reactive':
        if (cmd['status'] === false) this.pause(twin, state);
        else this.reactive(twin, state, cmd['msg_from'], false);
        return undefined;
      case 'setup':
        // JL re-registers with `setup` after a reconnect, which makes its twin reactive again (JL broker).
        // The resume runs once the reply has left (a durable broker answers after its commit), so
        // the component sees the answer before the replayed messages.
        return twin.paused ? () => this.reactive(twin, state, undefined, true) : undefined;
      default: return undefined;
    }
  }

  private subscribed(twin: Twin, state: SessionReplay, topic: string, existed: boolean, replay: boolean): (() => void) | undefined {
    const head = this.deps.log.head;
    if (twin.paused && !existed) state.addedPaused.set(topic, head);
    const msgFrom = twin.subscriptions.get(topic) ?? 0;
    if (msgFrom === 0) return undefined;
    if (!replay) {
      // A reference peer: its replay comes with `reactive`; until then this topic's live messages wait.
      if (twin.replayed) return undefined;
      if (twin.held === null) {
        this.hold(twin);
        this.awaitReactive(twin, state);
      } else if (!existed) state.heldFrom.set(topic, head);
      return undefined;
    }
    const since = this.since(state, topic, msgFrom);
    // An existing subscription's messages are held since the hold began; a new one's from now.
    const upTo = twin.held !== null && existed ? state.heldFrom.get(topic) ?? twin.holdStart : head;
    if (twin.held === null) this.hold(twin);
    else if (!existed) state.heldFrom.set(topic, head);
    state.covered.add(topic);
    if (since === null) return undefined;
    if (twin.paused) {
      // Nothing reaches a paused twin: its resume replays this topic from where this replay would start.
      state.addedPaused.set(topic, since);
      return undefined;
    }
    const job: Job = { windows: new Map([[topic, { since, upTo }]]), ready: false };
    state.jobs.push(job);
    return () => {
      job.ready = true;
      void this.drain(twin, state);
    };
  }

  /** Where a declared subscription's replay starts; null for a msg_from that cannot replay. */
  private since(state: SessionReplay, topic: string, msgFrom: number): bigint | null {
    if (!validMsgFrom(msgFrom)) return null;
    const now = nowNs(this.deps.scheduler);
    let since = max(state.floor, now - state.maxPeriod);
    if (msgFrom !== Infinity) since = max(since, now - BigInt(Math.floor(msgFrom)));
    const left = state.left.get(topic);
    return left === undefined ? since : max(since, left);
  }

  /** `reactive` false: no live delivery until `reactive` true, which replays what came meanwhile. */
  private pause(twin: Twin, state: SessionReplay): void {
    if (state.awaitingReactive) {
      // Paused at login: nothing to wait for; the resume replays.
      twin.holdTimer?.();
      twin.holdTimer = undefined;
      state.awaitingReactive = false;
      this.release(twin, state);
    }
    if (twin.paused) return;
    twin.paused = true;
    this.pauseHeads.set(twin, this.deps.log.head);
    state.addedPaused.clear();
  }

  private reactive(twin: Twin, state: SessionReplay, maxPeriod: unknown, resumeOnly: boolean): void {
    const head = this.deps.log.head;
    const pauseHead = this.pauseHeads.get(twin) ?? head;
    // The first replay ends where the login hold began; a later one where this command found the log.
    const upTo = !twin.replayed && state.loginUpTo !== undefined ? state.loginUpTo : twin.held !== null ? twin.holdStart : head;
    if (twin.held === null) this.hold(twin);
    twin.holdTimer?.(); // the queue releases the hold now, however long it takes
    twin.holdTimer = undefined;
    state.awaitingReactive = false;
    const period = typeof maxPeriod === 'number' && maxPeriod > 0 && Number.isFinite(maxPeriod)
      ? BigInt(Math.floor(maxPeriod)) : BigInt(DEFAULT_MAX_PERIOD_NS);
    state.maxPeriod = period;
    if (!resumeOnly && (!twin.paused || !twin.replayed)) {
      state.jobs.push({ windows: this.specWindows(twin, state, period, twin.paused && pauseHead < upTo ? pauseHead : upTo), ready: true });
    }
    if (twin.paused) {
      twin.paused = false;
      const windows = new Map<string, Window>();
      for (const topic of twin.subscriptions.keys()) {
        windows.set(topic, { since: state.addedPaused.get(topic) ?? pauseHead, upTo: head });
      }
      state.jobs.push({ windows, ready: true });
    }
    twin.replayed = true;
    void this.drain(twin, state);
  }

  /** The spec §4.7 replay of the subscriptions without their own: newer than the mark, inside msg_from and the period. */
  private specWindows(twin: Twin, state: SessionReplay, period: bigint, upTo: bigint): Map<string, Window> {
    const now = nowNs(this.deps.scheduler);
    const floor = max(now - period, twin.mark);
    const windows = new Map<string, Window>();
    for (const [topic, msgFrom] of twin.subscriptions) {
      if (msgFrom === 0 || state.covered.has(topic)) continue;
      if (!validMsgFrom(msgFrom)) {
        // A bad value from an old data dir: this subscription replays nothing, the others do.
        this.deps.logger.warn({ cid: twin.name, topic, msgFrom }, 'invalid stored msg_from: not replayed');
        continue;
      }
      const since = msgFrom === Infinity ? floor : max(now - BigInt(Math.floor(msgFrom)), floor);
      const until = state.heldFrom.get(topic) ?? upTo;
      windows.set(topic, { since, upTo: until });
    }
    return windows;
  }

  private hold(twin: Twin): void {
    twin.held = [];
    twin.holdStart = this.deps.log.head;
  }

  /** A component that never sends `reactive` (a PY app that never calls wait()) still gets its live messages. */
  private awaitReactive(twin: Twin, state: SessionReplay): void {
    state.awaitingReactive = true;
    state.loginUpTo ??= twin.holdStart;
    twin.holdTimer?.();
    twin.holdTimer = later(this.deps.scheduler, this.deps.reactiveWait, () => {
      this.deps.logger.debug({ cid: twin.name }, 'no reactive command: live delivery resumes without replay');
      state.awaitingReactive = false;
      this.release(twin, state);
    });
  }

  /** Run the ready jobs in order; a job failing costs that job only. */
  private async drain(twin: Twin, state: SessionReplay): Promise<void> {
    if (state.running) return;
    state.running = true;
    try {
      const gap = this.deps.gap?.(twin, state.session, this.deps.admits(twin), state.maxPeriod);
      if (gap !== undefined) await gap.catch((err: unknown) => this.deps.logger.warn({ cid: twin.name, err: errorText(err) }, 'replay of what this broker did not log failed'));
      while (state.jobs[0]?.ready === true && this.states.get(twin) === state) {
        // Ready jobs on distinct topics share one pass over the log (a login re-declaring many).
        const windows = new Map<string, Window>();
        let taken = 0;
        for (const job of state.jobs) {
          if (!job.ready || [...job.windows.keys()].some((t) => windows.has(t))) break;
          for (const [topic, w] of job.windows) windows.set(topic, w);
          taken++;
        }
        const batch = state.jobs.slice(0, taken);
        try {
          await sendWindows(twin, state.session, windows, this.deps.log, this.deps.admits(twin), this.deps.scheduler);
        } catch (err) {
          this.deps.logger.error({ cid: twin.name, err: errorText(err) }, 'replay failed');
        }
        if (state.jobs[0] === batch[0]) state.jobs.splice(0, taken);
      }
    } finally {
      state.running = false;
    }
    this.release(twin, state);
  }

  private release(twin: Twin, state: SessionReplay): void {
    if (this.states.get(twin) !== state || state.running || state.jobs.length > 0 || state.awaitingReactive) return;
    const held = twin.held;
    twin.held = null;
    if (held !== null) for (const deliver of held) deliver();
    const overflow = twin.heldOverflow;
    if (overflow === undefined) return;
    // The hold was full: what it dropped is in the log; send it (and what follows) before live again.
    twin.heldOverflow = undefined;
    this.hold(twin);
    const windows = new Map<string, Window>();
    for (const topic of twin.subscriptions.keys()) {
      // A subscription declared during the hold had its own replay up to where its messages were held.
      windows.set(topic, { since: max(overflow, state.heldFrom.get(topic) ?? 0n), upTo: twin.holdStart });
    }
    state.jobs.push({ windows, ready: true });
    void this.drain(twin, state);
  }
}
