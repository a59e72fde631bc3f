/**
 * One timer for every pending call of a component (issue 20, W4's tail): calls are kept in
 * deadline order in an intrusive list, and a single scheduled action fires at the earliest
 * deadline, expires what is due and re-arms for the next. A call costs no scheduled action
 * of its own — no `setInterval`, no AsyncAction — unless its deadline comes before every
 * other one's; a call that ends just leaves the list (O(1)) and the timer, armed for a
 * deadline that may have left, finds nothing due when it fires and re-arms or stops.
 *
 * Time goes through an RxJS scheduler (`asyncScheduler` by default), so marble and virtual
 * time apply. Pure bookkeeping: no I/O.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';

/** What the wheel holds: the links are the wheel's, `expire` is called once when due. */
export interface Timed {
  deadline: number;
  prevTimed: Timed | null;
  nextTimed: Timed | null;
  inWheel: boolean;
  expire(): void;
}

export class TimeoutWheel {
  private head: Timed | null = null;
  private tail: Timed | null = null;
  private count = 0;
  private timer: Subscription | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly scheduler: SchedulerLike = asyncScheduler) {}

  /** Entries waiting for their deadline. */
  get size(): number {
    return this.count;
  }

  /** Whether the wheel's one timer is scheduled. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Expire `entry` `timeoutMs` from now unless it is removed first; nothing for an infinite timeout. */
  add(entry: Timed, timeoutMs: number): void {
    if (!Number.isFinite(timeoutMs)) return;
    const deadline = this.scheduler.now() + Math.max(0, timeoutMs);
    entry.deadline = deadline;
    entry.inWheel = true;
    // Usually the latest deadline (calls share a timeout): appended in O(1).
    let after = this.tail;
    while (after !== null && after.deadline > deadline) after = after.prevTimed;
    entry.prevTimed = after;
    entry.nextTimed = after === null ? this.head : after.nextTimed;
    if (entry.nextTimed === null) this.tail = entry;
    else entry.nextTimed.prevTimed = entry;
    if (after === null) this.head = entry;
    else after.nextTimed = entry;
    this.count++;
    if (deadline < this.armedFor) this.arm(deadline);
  }

  /** Take `entry` out (it ended); a no-op when it is not in the wheel. */
  remove(entry: Timed): void {
    if (!entry.inWheel) return;
    entry.inWheel = false;
    const { prevTimed: prev, nextTimed: next } = entry;
    if (prev === null) this.head = next;
    else prev.nextTimed = next;
    if (next === null) this.tail = prev;
    else next.prevTimed = prev;
    entry.prevTimed = null;
    entry.nextTimed = null;
    this.count--;
  }

  /** Forget every entry without expiring it and release the timer (the component closes). */
  clear(): void {
    while (this.head !== null) this.remove(this.head);
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(at: number): void {
    this.timer?.unsubscribe();
    this.armedFor = at;
    this.timer = this.scheduler.schedule(fire, Math.max(0, at - this.scheduler.now()), this);
  }

  /** The timer fired: expire what is due, in deadline order, then re-arm for the next deadline. */
  tick(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    try {
      // An expiry may add or remove entries (a caller's error handler calls again): re-read head.
      while (this.head !== null && this.head.deadline <= now) {
        const due = this.head;
        this.remove(due);
        due.expire();
      }
    } finally {
      if (this.head !== null && this.head.deadline < this.armedFor) this.arm(this.head.deadline);
    }
  }
}

function fire(this: SchedulerAction<TimeoutWheel>, wheel?: TimeoutWheel): void {
  wheel?.tick();
}
