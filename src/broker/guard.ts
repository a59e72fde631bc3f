/**
 * The broker's authorization checks on its hot paths (spec §4.4, §5.2, §6.2): who may act at
 * all, who may publish, who receives a publish, who may call or serve a method. Rights rest on
 * proven identities (README "Security"): a twin's admin role and private-topic authorizations
 * count only while its connection proved the name. With no private topic, a single tenant and
 * `auth: 'optional'` — every broker without provisioning — each check is one boolean test and
 * the fan-out does no per-subscriber work at all.
 */
import type { Msg, MsgId } from '../protocol/messages.js';
import { COMPONENT_INFO_TOPIC, STATUS } from '../protocol/messages.js';
import { asksForRefusals } from '../protocol/refusals.js';
import type { Authenticator, Identity } from '../security/authenticator.js';
import type { RowExtras } from './log-row.js';
import { STATS_TOPIC } from './stats-topic.js';
import { isDelegate } from './trusted-links.js';
import type { Session, Twin } from './twin.js';

/**
 * Topics only the broker publishes on: its presence events and its stats snapshots. A component
 * publishing there would forge them for every `presence$()`/`whenAvailable$()` and dashboard.
 */
export function isReservedTopic(topic: string): boolean {
  return topic === COMPONENT_INFO_TOPIC || topic === STATS_TOPIC;
}

/** Which twins may receive (or serve) one message; undefined means all of them. */
export type Admits = ((twin: Twin) => boolean) | undefined;

/**
 * Who published a message, for the tenant checks: a twin of this broker; the name of a
 * component of another broker of the cluster ('' an anonymous one); null, the broker itself
 * (`broker.publish`, bridges, the stats topic), whose publishes reach every tenant.
 */
export type Publisher = Twin | string | null;

/** The name a log row keeps for `p` ('' anonymous; null the broker's own). */
export function publisherName(p: Publisher): string | null {
  return p === null || typeof p === 'string' ? p : p.anonymous ? '' : p.name;
}

/** Did the connection of `twin` prove its name (key signature or shared secret)? */
export function isProven(twin: Twin): boolean {
  return twin.session?.login.authenticated === true;
}

/** The name of `twin` and whether it is proven. */
export function identityOf(twin: Twin): Identity {
  return { name: twin.name, proven: isProven(twin) };
}

export class Guard {
  constructor(readonly auth: Authenticator) {}

  /** Are tenants isolated (more than one configured)? */
  get tenantsIsolated(): boolean {
    return this.auth.store.multiTenant;
  }

  /** True when any check can refuse anything: a private topic exists or tenants are isolated. */
  get active(): boolean {
    const store = this.auth.store;
    return store.hasPrivateTopics || store.multiTenant;
  }

  /**
   * The gate in front of every message of a connection. A connection that proved no name and
   * that the auth mode or its tenant does not admit unproven may log in, register and answer,
   * nothing else: an RPC or admin command gets 10 `"authentication required"`, a publish is
   * dropped (spec §4.2, with the TS refusal notice). Also notes a peer's request for refusal
   * notices ({@link asksForRefusals}). Returns false when the message was refused.
   */
  admits(session: Session, msg: Msg): boolean {
    if (msg.type === 'admin' && asksForRefusals(msg.cmd)) session.login.refusals = true;
    if (session.login.authenticated) return true;
    const twin = session.twin;
    if (this.auth.admitsUnproven(twin.anonymous ? undefined : twin.name)) return true;
    switch (msg.type) {
      case 'pub':
        this.refusePublish(session, msg.flags, msg.id, msg.topic, 'authentication required');
        return false;
      case 'rpc': case 'admin':
        if (session.link.isOpen) session.send({ type: 'response', id: msg.id, status: STATUS.ERROR, data: 'authentication required' });
        return false;
      default:
        return true;
    }
  }

  /**
   * A publish was refused: a QoS1/2 publisher that asked for it hears so at once (TS
   * extension, src/protocol/refusals.ts); every other peer gets nothing, as in spec §4.2.
   */
  refusePublish(session: Session, flags: number, id: MsgId | undefined, topic: string, reason = 'unauthorized'): void {
    if ((flags & 0x30) === 0 || id === undefined || !session.login.refusals || !session.link.isOpen) return;
    session.send({ type: 'response', id, status: STATUS.ERROR, data: `${reason}: ${topic}` });
  }

  /** Is `twin` a (proven) admin? (spec §6.1) */
  isAdmin(twin: Twin): boolean {
    return this.auth.isAdmin(twin.name, isProven(twin));
  }

  /**
   * May `twin` declare `action` on `topic`? A subscribe is always accepted: on a private topic
   * it delivers nothing until the name is authorized (spec §6.2, revised TS decision). Exposing
   * a private method needs an authorization (JL): else anyone could serve it and read the
   * arguments of authorized callers.
   */
  mayDeclare(twin: Twin, action: 'subscribe' | 'expose', topic: string): boolean {
    return action === 'subscribe' || !this.auth.store.hasPrivateTopics
      || this.auth.authorize(twin.name, action, topic, isProven(twin));
  }

  /**
   * May `twin` publish on `topic`? An unauthorized publish is dropped without ACK (spec §4.2);
   * so is one on a topic only the broker publishes on ({@link isReservedTopic}).
   */
  mayPublish(twin: Twin, topic: string): boolean {
    if (isReservedTopic(topic)) return false;
    return !this.auth.store.hasPrivateTopics || this.auth.authorize(twin.name, 'publish', topic, isProven(twin));
  }

  /**
   * May `twin` call `method`? (spec §5.2 step 1) A delegate calls for a caller whose right its
   * owner checked (trusted-links.ts).
   */
  mayCall(twin: Twin, method: string): boolean {
    return this.mayCallAs(twin.name, isProven(twin), method) || isDelegate(twin);
  }

  /** May the caller named `name` (`proven` or not) call `method`? Also for a caller on another broker of a cluster. */
  mayCallAs(name: string, proven: boolean, method: string): boolean {
    return !this.auth.store.hasPrivateTopics || this.auth.authorize(name, 'rpc', method, proven);
  }

  /**
   * The subscribers of a publish on `topic` by `origin` (null: the broker itself): authorized
   * for the topic when it is private, and in the publisher's tenant when tenants are isolated.
   * Then the stats snapshots, which name every tenant's components, topics and methods, reach
   * proven admins only (edges-http.test.ts).
   */
  receivers(origin: Publisher, topic: string): Admits {
    const store = this.auth.store;
    if (!store.hasPrivateTopics && !store.multiTenant) return undefined;
    if (store.multiTenant && topic === STATS_TOPIC) return (twin) => this.isAdmin(twin);
    const restricted = store.isPrivate(topic);
    const tenant = store.multiTenant && origin !== null ? typeof origin === 'string' ? origin : origin.name : undefined;
    if (!restricted && tenant === undefined) return undefined;
    return (twin) => (!restricted || this.auth.authorize(twin.name, 'deliver', topic, isProven(twin)))
      && (tenant === undefined || this.auth.sameTenant(tenant, twin.name));
  }

  /** The exposers that may serve `caller`'s call of `method`: same tenant, authorized to expose it. */
  servers(caller: Twin, method: string): Admits {
    const store = this.auth.store;
    if (!store.hasPrivateTopics && !store.multiTenant) return undefined;
    const restricted = store.isPrivate(method);
    if (!restricted && !store.multiTenant) return undefined;
    return (twin) => (!restricted || this.auth.authorize(twin.name, 'expose', method, isProven(twin)))
      && this.auth.sameTenant(caller.name, twin.name);
  }

  /** Is a direct-RPC target visible to `caller`? Another tenant's names are not (spec §5.3, 45). */
  sees(caller: Twin, target: string): boolean {
    return !this.auth.store.multiTenant || this.auth.sameTenant(caller.name, target);
  }

  /**
   * With isolated tenants, the publisher kept with a log row ('' anonymous: the default tenant;
   * null the broker's own), so that a replay stays in its tenant as a live delivery does; else
   * nothing (the hot path).
   */
  logOrigin(publisher: Publisher): RowExtras | undefined {
    if (!this.auth.store.multiTenant) return undefined;
    const origin = publisherName(publisher);
    return () => ({ origin });
  }

  /**
   * For replay: may `twin` receive a logged message on `topic` published by `origin`?
   * Undefined when all may (spec §4.7 with §6.2, tenants). With isolated tenants a row replays
   * to its publisher's tenant; the broker's own (origin null) to every tenant, as it was
   * delivered live; a row that kept no publisher (origin undefined: logged before the log kept
   * one, or while tenants were not isolated, or by another implementation) to no tenant, since
   * nothing says whose it is. The stats snapshots replay to proven admins only, as they are
   * delivered live ({@link Guard.receivers}).
   */
  replayable(twin: Twin): ((topic: string, origin?: string | null) => boolean) | undefined {
    const store = this.auth.store;
    if (!store.hasPrivateTopics && !store.multiTenant) return undefined;
    const admin = this.isAdmin(twin);
    return (topic, origin) => (!store.multiTenant || topic !== STATS_TOPIC || admin)
      && (!store.hasPrivateTopics || this.auth.authorize(twin.name, 'deliver', topic, isProven(twin)))
      && (!store.multiTenant || origin === null || (origin !== undefined && this.auth.sameTenant(origin, twin.name)));
  }
}
