/**
 * Shared subscriptions (README "Shared subscriptions"): each message published on a group's
 * pattern goes to one member of the group, round robin ({@link pickMember}) among the members
 * that can take it now — online, not paused nor replaying, admitted for the message (private topics,
 * tenants: a group never crosses tenants), not its publisher, and not *full* (as many messages
 * in its outbox as it may have in flight, or its link above flow control's high water).
 *
 * - No member can take a QoS0 message: dropped. A QoS1/2 one waits in the group (at most
 *   `capacity`, oldest dropped past it) for the first member that can: one that joins or
 *   rejoins, or acknowledges a group message.
 * - A member's link drops: its QoS1 messages not yet acknowledged, and its QoS2 ones not yet
 *   transmitted, go to another member. A QoS2 message transmitted and unacknowledged may have
 *   reached the application: it never goes to another member (MQTT 5 §4.8.2); it is sent again
 *   to the same named member when it rejoins (it drops the copy it already has, spec §4.2),
 *   and given up for an anonymous one.
 * - A member leaves (unsubscribes): the same, except that a transmitted QoS2 message stays with
 *   it until its ACK (it had it) or its expiry (it ignores copies for a group it left, so it
 *   never had it: another member gets it).
 *
 * Groups are not replayed from the log, and live in memory: a broker restart forgets them
 * and what waits in them. Costs nothing to publishes while no group exists (`size`).
 */
import { pickMember } from '../../operators/group-dispatch.js';
import type { PubMsg } from '../protocol/messages.js';
import type { Logger } from '../types.js';
import type { Admits } from './guard.js';
import { GroupIndex } from './group-index.js';
import { deliverNow, expiredWhenSent, Outgoing } from './outgoing.js';
import { GroupPub, shareTopic, type Share } from '../protocol/share.js';
import type { Session, Twin } from './twin.js';

/** Default bound of the messages waiting in one group for a member (QoS1/2). */
export const GROUP_CAPACITY = 10_000;

export interface GroupsConfig {
  /** Messages waiting per group for a member; oldest dropped past it. Default {@link GROUP_CAPACITY}. */
  readonly capacity?: number;
  /** A member with this many messages in its outbox is full (the broker's `maxInflight`). */
  readonly window: number;
  /** Is the link above flow control's high water? */
  readonly behind: (session: Session) => boolean;
  /** Deliver only to reactive twins (as the router). */
  readonly requireReactive: boolean;
  readonly log: Logger;
}

/** One message on its way to one member of a group; `attempt` is its current member's copy. */
interface Delivery {
  readonly msg: PubMsg;
  readonly recv: bigint;
  readonly origin: Twin | null;
  readonly admits: Admits;
  /** The router's copy: the publisher's name, retain bits and `ttl` expiry (retained.ts, pub-meta.ts). */
  readonly source: Outgoing | undefined;
  attempt: Attempt | undefined;
}

/** One copy in one member's outbox; `revoked` once taken back (it is then sent as nothing). */
interface Attempt { transmitted: boolean; revoked: boolean }

class Group {
  readonly spelling: string;
  readonly members: Twin[] = [];
  cursor = 0;
  /** QoS1/2 messages no member could take yet, oldest first. */
  readonly waiting: Delivery[] = [];
  /** By member name: QoS2 messages transmitted before its link dropped, for its return. */
  readonly pinned = new Map<string, Delivery[]>();
  readonly inflight = new Map<Twin, Set<Delivery>>();
  draining = false;

  constructor(readonly name: string, readonly pattern: string) {
    this.spelling = shareTopic(name, pattern);
  }
}

const qosOf = (d: Delivery): number => d.msg.flags & 0x30;

export class Groups {
  private readonly groups = new Map<string, Group>();
  private readonly index = new GroupIndex<Group>();
  private readonly ofTwin = new Map<Twin, Set<Group>>();
  private readonly capacity: number;
  /** Group messages dropped since start (QoS0 without a member, overflow, QoS2 given up). */
  dropped = 0;

  constructor(private readonly config: GroupsConfig) {
    this.capacity = config.capacity ?? GROUP_CAPACITY;
  }

  /** Told when a group comes or goes (the router's `changed`). */
  changed: (() => void) | undefined;

  /** The patterns of the groups with members. */
  patterns(): string[] {
    return [...this.groups.values()].map((g) => g.pattern);
  }

    /** Groups with at least one member: 0 means publishes skip this module entirely. */
  get size(): number {
    return this.groups.size;
  }

  /** Add `twin` to a group (idempotent); it gets its pinned QoS2 messages, then what waits. */
  join(twin: Twin, { group: name, pattern }: Share): void {
    const key = shareTopic(name, pattern);
    let group = this.groups.get(key);
    if (group === undefined) {
      this.groups.set(key, (group = new Group(name, pattern)));
      this.index.add(group);
      this.changed?.();
    }
    if (!group.members.includes(twin)) {
      // A named twin forgotten while offline comes back as a new object: it replaces the old one.
      const stale = twin.anonymous ? -1 : group.members.findIndex((m) => m.name === twin.name && !m.anonymous);
      if (stale >= 0) this.forget(group, group.members[stale]!);
      group.members.push(twin);
      let mine = this.ofTwin.get(twin);
      if (mine === undefined) this.ofTwin.set(twin, (mine = new Set()));
      mine.add(group);
    }
    const pinned = group.pinned.get(twin.name);
    if (pinned !== undefined && twin.session !== null) {
      group.pinned.delete(twin.name);
      for (const d of pinned) this.deliverTo(group, twin, d);
    }
    this.drain(group);
  }

  /** Remove `twin` from a group; false when it was not a member. */
  leave(twin: Twin, { group: name, pattern }: Share): boolean {
    const group = this.groups.get(shareTopic(name, pattern));
    if (group === undefined || !group.members.includes(twin)) return false;
    this.forget(group, twin);
    return true;
  }

  /** Remove `twin` from every group (an anonymous twin that is dropped). */
  leaveAll(twin: Twin): void {
    const mine = this.ofTwin.get(twin);
    if (mine !== undefined) for (const group of [...mine]) this.forget(group, twin);
  }

  /** The twin's link dropped (its outbox was cleared): take back what it had not acknowledged. */
  offline(twin: Twin): void {
    const mine = this.ofTwin.get(twin);
    if (mine === undefined) return;
    for (const group of mine) {
      const inflight = group.inflight.get(twin);
      if (inflight === undefined) continue;
      group.inflight.delete(twin);
      for (const d of inflight) {
        const transmitted = d.attempt?.transmitted === true;
        d.attempt = undefined;
        if (qosOf(d) === 0x10 || !transmitted) this.again(group, d);
        else if (!twin.anonymous) this.pin(group, twin.name, d);
        else this.drop(d, 'QoS2 message in flight to an anonymous member whose link dropped: given up (MQTT 5 §4.8.2)');
      }
    }
  }

  /** Give a publish to one member of each group whose pattern matches its topic. */
  publish(origin: Twin | null, msg: PubMsg, recv: bigint, admits: Admits, source?: Outgoing): void {
    this.index.match(msg.topic, (group) => this.dispatch(group, msg, recv, origin, admits, source));
  }

  private dispatch(group: Group, msg: PubMsg, recv: bigint, origin: Twin | null, admits: Admits, source: Outgoing | undefined): void {
    const d: Delivery = { msg, recv, origin, admits, source, attempt: undefined };
    if (qosOf(d) === 0) {
      if (!this.send(group, d)) this.drop(d, undefined);
      return;
    }
    // Waiting messages go first: a QoS1/2 message never overtakes one that waits.
    if (group.waiting.length > 0) this.drain(group);
    if (group.waiting.length > 0 || !this.send(group, d)) this.wait(group, d);
  }

  /** Send to the next member that can take it; false when none can. */
  private send(group: Group, d: Delivery): boolean {
    // Expired (TS publish `ttl`) while it waited for a member: given to nobody, consumed.
    const expires = d.source?.expires ?? 0;
    if (expires !== 0 && expires <= Date.now()) return true;
    const at = pickMember(group.members, group.cursor, (twin) => this.eligible(twin, d));
    if (at < 0) return false;
    group.cursor = at + 1;
    this.deliverTo(group, group.members[at]!, d);
    return true;
  }

  private eligible(twin: Twin, d: Delivery): boolean {
    const session = twin.session;
    // A twin whose replay runs (`held`) waits: a group delivery would move its mark past held messages.
    if (session === null || twin === d.origin || twin.paused || twin.held !== null
      || (this.config.requireReactive && !twin.reactive)) return false;
    if (d.admits !== undefined && !d.admits(twin)) return false;
    return (twin.outbox?.size ?? 0) < this.config.window && !this.config.behind(session);
  }

  private deliverTo(group: Group, twin: Twin, d: Delivery): void {
    const src = d.source;
    const out = new Outgoing(GroupPub.of(group.spelling, group.pattern, d.msg), null, d.recv, src?.origin, src?.extra, src?.expires);
    const outbox = twin.outbox;
    const session = twin.session!;
    const qos = qosOf(d);
    if (qos === 0 || outbox === undefined) return deliverNow(twin, out);
    const attempt: Attempt = { transmitted: false, revoked: false };
    const gone = expiredWhenSent(out);
    d.attempt = attempt;
    let inflight = group.inflight.get(twin);
    if (inflight === undefined) group.inflight.set(twin, (inflight = new Set()));
    inflight.add(d);
    outbox.push({
      recv: d.recv, qos,
      // A copy taken back before it left is sent as nothing, awaiting no ACK (the outbox keys ACKs by id).
      get id() { return (attempt.revoked && !attempt.transmitted) || gone() ? undefined : d.msg.id; },
      send: () => {
        if (attempt.revoked || gone()) return;
        attempt.transmitted = true;
        out.sendTo(session);
      },
      settled: (outcome) => this.settled(group, twin, d, attempt, outcome),
    });
  }

  private settled(group: Group, twin: Twin, d: Delivery, attempt: Attempt, outcome: 'acked' | 'sent' | 'expired' | 'dropped'): void {
    if (d.attempt !== attempt) return; // taken back already
    d.attempt = undefined;
    group.inflight.get(twin)?.delete(d);
    if (outcome === 'dropped' || (outcome === 'expired' && (qosOf(d) === 0x10 || !group.members.includes(twin)))) this.again(group, d);
    else if (outcome === 'expired') this.drop(d, 'member did not acknowledge a QoS2 group message: given up');
    // The member made room: what waits may go now (after this outbox event, not inside it).
    if (group.waiting.length > 0 && !group.draining) {
      group.draining = true;
      queueMicrotask(() => { group.draining = false; this.drain(group); });
    }
  }

  private again(group: Group, d: Delivery): void {
    if (this.groups.get(group.spelling) !== group) this.drop(d, 'group gone');
    else if (!this.send(group, d)) this.wait(group, d);
  }

  private wait(group: Group, d: Delivery): void {
    if (group.waiting.length >= this.capacity) this.drop(group.waiting.shift()!, 'group queue full: oldest message dropped');
    group.waiting.push(d);
  }

  private pin(group: Group, name: string, d: Delivery): void {
    let list = group.pinned.get(name);
    if (list === undefined) group.pinned.set(name, (list = []));
    if (list.length >= this.capacity) this.drop(list.shift()!, 'too many QoS2 messages pinned to an offline member: oldest given up');
    list.push(d);
  }

  private drain(group: Group): void {
    while (group.waiting.length > 0 && this.send(group, group.waiting[0]!)) group.waiting.shift();
  }

  private drop(d: Delivery, why: string | undefined): void {
    if (++this.dropped === 1 || this.dropped % 1000 === 0) {
      this.config.log.warn({ dropped: this.dropped, topic: d.msg.topic }, why ?? 'no group member can take a QoS0 message: dropped');
    }
  }

  /** Remove a member: take back what it had not been sent (and QoS1 it had), delete an empty group. */
  private forget(group: Group, twin: Twin): void {
    group.members.splice(group.members.indexOf(twin), 1);
    this.ofTwin.get(twin)?.delete(group);
    if (this.ofTwin.get(twin)?.size === 0) this.ofTwin.delete(twin);
    const inflight = group.inflight.get(twin);
    for (const d of inflight ?? []) {
      const attempt = d.attempt!;
      if (attempt.transmitted && qosOf(d) === 0x30) continue; // stays: acked (it had it) or expired (it did not)
      inflight!.delete(d);
      attempt.revoked = true;
      d.attempt = undefined;
      // Settle a transmitted QoS1 copy now: the member ignores copies for groups it left.
      if (attempt.transmitted && d.msg.id !== undefined) { const id = d.msg.id; queueMicrotask(() => twin.outbox?.ack(id)); }
      this.again(group, d);
    }
    if (group.members.length > 0) return;
    for (const d of group.waiting) this.drop(d, 'last member left the group: waiting message dropped');
    for (const list of group.pinned.values()) for (const d of list) this.drop(d, 'last member left the group: pinned message dropped');
    this.groups.delete(group.spelling);
    this.index.remove(group);
    this.changed?.();
  }
}
