/**
 * The login messages (spec §3.1, §3.3, §3.5): IDENTITY, ATTESTATION, REGISTER, UNREGISTER. The
 * authenticator decides what to answer; this stage binds the name and sends the RESPONSE.
 * Each step may await the security store, so the broker holds the connection's later frames
 * until the step settles (see `Session.backlog`), and every check that can change meanwhile —
 * the link is open, the name is free — is made again after the await.
 */
import type { SchedulerLike } from 'rxjs';
import { later } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import {
  STATUS, type AttestationMsg, type IdentityMsg, type MsgId, type RegisterMsg, type UnregisterMsg,
} from '../protocol/messages.js';
import type { Authenticator, AuthReply } from '../security/authenticator.js';
import type { Logger } from '../types.js';
import { isTrustedLink } from './trusted-links.js';
import type { Session } from './twin.js';

/** A connection whose attestation failed is closed this long after the answer (JL ~0.5 s, spec §3.3). */
export const FAILED_LOGIN_CLOSE_MS = 500;

/**
 * How long a link holding a name may take to answer the probe (a WebSocket ping) when a
 * connection that proved the name's key claims it, ms: no answer, and the claimant takes the
 * name over. A peer that answers pings within this keeps its name.
 */
export const TAKEOVER_PROBE_MS = 2_000;

/** Default of `loginTimeout`: how long a connection may stay unproven under `auth: 'required'`, ms. */
export const DEFAULT_LOGIN_TIMEOUT = 10_000;

/** What the login stage needs from the broker. */
export interface LoginHost {
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Under `auth: 'required'`, a connection that has not proven a name after this long is closed, ms. */
  readonly loginTimeout: number;
  /** Virtual time (rembus/testing); default the real clock. */
  readonly scheduler?: SchedulerLike | undefined;
  /** Is a live connection bound to `cid`? */
  isConnected(cid: string): boolean;
  /** The connection bound to `cid`, if any. */
  holder(cid: string): Session | undefined;
  /**
   * End `session` to give its name to a connection that proved the key: its link dropped (`dead`:
   * at once, no closing handshake that would wait on it) or closed (1008), and detached at once,
   * as if it had closed — its twin keeps its state for the new connection.
   */
  evict(session: Session, dead: boolean): void;
  /** Is the session still served (open and not detached)? */
  isLive(session: Session): boolean;
  /** Null to admit a login as `cid`; else why not (the twin cap, twin-registry.ts). */
  admit?(cid: string): string | null;
  /** Bind the session to the named twin `cid` (spec §3.1 step 4). */
  bindName(session: Session, cid: string): void;
  reply(session: Session, id: MsgId, status: number, data: unknown): void;
}

export class Login {
  /** Names whose holder is being probed for a proven claimant: one claim at a time. */
  private readonly probing = new Set<string>();

  constructor(private readonly host: LoginHost) {}

  /**
   * A new connection; one the broker opened to itself is trusted (trusted-links.ts). Otherwise,
   * under `auth: 'required'` it must prove a name within `loginTimeout` or
   * be closed (1008), as JL's authenticated mode does (spec §3.4): an unproven connection may
   * only register and log in, so keeping it open longer serves nobody.
   */
  opened(session: Session): void {
    if (isTrustedLink(session.link)) session.login.trusted = true;
    if (this.host.auth.mode !== 'required' || session.login.trusted) return;
    session.closeTimer = later(this.host.scheduler, this.host.loginTimeout, () => {
      if (session.login.authenticated) return;
      this.host.log.info({ remote: session.link.remote }, 'no authentication in time: link closed');
      session.link.close(1008, 'authentication required');
    });
  }

  /**
   * IDENTITY: 10 empty cid / already identified / authentication required (no key on file and
   * the mode or tenant admits no unproven name), 11 challenge, 60 already connected, or bind + 0.
   * A name held by another connection is challenged too when it has a key: its key holder may
   * take it over (see {@link takeOver}); a name without one answers 60.
   */
  identity(session: Session, msg: IdentityMsg): Promise<void> | void {
    const { host } = this;
    if (msg.cid === '') return host.reply(session, msg.id, STATUS.ERROR, 'empty cid');
    if (!session.twin.anonymous) return host.reply(session, msg.id, STATUS.ERROR, 'already identified');
    return this.answer(session, host.auth.onIdentity(session.login, msg.cid), (reply) => {
      if (reply.status === STATUS.OK) return this.bind(session, msg.id, msg.cid, false);
      host.reply(session, msg.id, reply.status, reply.data);
    });
  }

  /** ATTESTATION: bind + 0 when the signature proves the key; else 10 and the link closes (JL). */
  attestation(session: Session, msg: AttestationMsg): Promise<void> | void {
    const { host } = this;
    if (!session.twin.anonymous) return host.reply(session, msg.id, STATUS.ERROR, 'already identified');
    return this.answer(session, host.auth.onAttestation(session.login, msg.cid, msg.signature), (reply) => {
      if (reply.status === STATUS.OK) return this.bind(session, msg.id, msg.cid, true);
      host.log.info({ cid: msg.cid, reason: reply.data }, 'attestation refused');
      host.reply(session, msg.id, reply.status, reply.data);
      session.closeTimer?.();
      session.closeTimer = later(host.scheduler, FAILED_LOGIN_CLOSE_MS, () => session.link.close(1008, 'authentication failed'));
    });
  }

  /** REGISTER a public key for a name (spec §3.5): 0, 10 (tenant, pin, key, reserved name) or 60 (name taken). */
  register(session: Session, msg: RegisterMsg): Promise<void> {
    // A proven admin's connection may register names that already hold rights (README "Security").
    const by = { name: session.twin.name, proven: session.login.authenticated };
    return this.answer(session, this.host.auth.onRegister(msg.cid, msg.pin, msg.pubkey, msg.keyType, by),
      (reply) => {
        this.host.log.info({ cid: msg.cid, status: reply.status }, 'register');
        this.host.reply(session, msg.id, reply.status, reply.data);
      });
  }

  /** UNREGISTER the connection's own name: only once it proved its key (JL), else 10. */
  unregister(session: Session, msg: UnregisterMsg): Promise<void> | void {
    const twin = session.twin;
    if (twin.anonymous) return this.host.reply(session, msg.id, STATUS.ERROR, 'invalid operation');
    return this.answer(session, this.host.auth.onUnregister(twin.name, session.login.authenticated),
      (reply) => this.host.reply(session, msg.id, reply.status, reply.data));
  }

  /** `proven`: the connection signed the challenge with the name's key (not a trusted link's free name). */
  private bind(session: Session, id: MsgId, cid: string, proven: boolean): Promise<void> | void {
    const { host } = this;
    // Re-checked: the name may have been taken while the store was read.
    if (!session.twin.anonymous) return host.reply(session, id, STATUS.ERROR, 'already identified');
    if (host.isConnected(cid)) {
      if (!proven) return host.reply(session, id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
      return this.takeOver(session, id, cid);
    }
    this.bound(session, id, cid);
  }

  /**
   * A connection that proved `cid`'s key claims it from the connection holding it. A holder that
   * never proved the key (it took the name before the key was on file) is a squatter: it goes at
   * once. A proven holder is probed: one that answers keeps the name (60, as the references
   * answer a second login: no two live owners flapping, each taking it back in turn); one that
   * does not — a path that died silently, which the broker's own pings find only after 30–60 s —
   * is dropped, and the claimant is bound to the same twin as a reconnect would be.
   */
  private async takeOver(session: Session, id: MsgId, cid: string): Promise<void> {
    const { host } = this;
    const holder = host.holder(cid)!;
    if (this.probing.has(cid)) return host.reply(session, id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
    let alive = false;
    if (holder.login.authenticated || holder.login.trusted) {
      this.probing.add(cid);
      try {
        alive = await (holder.link.probe?.(TAKEOVER_PROBE_MS) ?? Promise.resolve(true));
      } finally {
        this.probing.delete(cid);
      }
      if (!host.isLive(session)) return;
      if (!session.twin.anonymous) return host.reply(session, id, STATUS.ERROR, 'already identified');
    }
    const current = host.holder(cid);
    if (current !== undefined && (current !== holder || alive)) {
      return host.reply(session, id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
    }
    if (current !== undefined) {
      host.log.warn({ cid, old: holder.link.remote, new: session.link.remote, proven: holder.login.authenticated },
        'name taken over by a connection that proved its key');
      host.evict(holder, holder.login.authenticated || holder.login.trusted);
    }
    this.bound(session, id, cid);
  }

  private bound(session: Session, id: MsgId, cid: string): void {
    const { host } = this;
    const refusal = host.admit?.(cid) ?? null;
    if (refusal !== null) return host.reply(session, id, STATUS.ERROR, refusal);
    host.bindName(session, cid);
    // Proven: the login deadline of auth 'required' (opened) no longer applies.
    if (session.login.authenticated) session.closeTimer?.();
    host.reply(session, id, STATUS.OK, null);
  }

  /** Await the authenticator; act on its reply only if the connection is still served. */
  private async answer(session: Session, pending: Promise<AuthReply>,
    act: (reply: AuthReply) => Promise<void> | void): Promise<void> {
    let reply: AuthReply;
    try {
      reply = await pending;
    } catch (err) {
      this.host.log.error({ err: errorText(err) }, 'login step failed');
      reply = { status: STATUS.ERROR, data: 'internal error' };
    }
    if (this.host.isLive(session)) await act(reply);
  }
}
