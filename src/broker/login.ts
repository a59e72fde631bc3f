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
  /** Is the session still served (open and not detached)? */
  isLive(session: Session): boolean;
  /** Null to admit a login as `cid`; else why not (the twin cap, twin-registry.ts). */
  admit?(cid: string): string | null;
  /** Bind the session to the named twin `cid` (spec §3.1 step 4). */
  bindName(session: Session, cid: string): void;
  reply(session: Session, id: MsgId, status: number, data: unknown): void;
}

export class Login {
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
   * the mode or tenant admits no unproven name), 60 already connected, 11 challenge, or bind + 0.
   */
  identity(session: Session, msg: IdentityMsg): Promise<void> | void {
    const { host } = this;
    if (msg.cid === '') return host.reply(session, msg.id, STATUS.ERROR, 'empty cid');
    if (!session.twin.anonymous) return host.reply(session, msg.id, STATUS.ERROR, 'already identified');
    if (host.isConnected(msg.cid)) return host.reply(session, msg.id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
    return this.answer(session, msg.id, host.auth.onIdentity(session.login, msg.cid), (reply) => {
      if (reply.status === STATUS.OK) this.bind(session, msg.id, msg.cid);
      else host.reply(session, msg.id, reply.status, reply.data);
    });
  }

  /** ATTESTATION: bind + 0 when the signature proves the key; else 10 and the link closes (JL). */
  attestation(session: Session, msg: AttestationMsg): Promise<void> | void {
    const { host } = this;
    if (!session.twin.anonymous) return host.reply(session, msg.id, STATUS.ERROR, 'already identified');
    return this.answer(session, msg.id, host.auth.onAttestation(session.login, msg.cid, msg.signature), (reply) => {
      if (reply.status === STATUS.OK) return this.bind(session, msg.id, msg.cid);
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
    return this.answer(session, msg.id, this.host.auth.onRegister(msg.cid, msg.pin, msg.pubkey, msg.keyType, by),
      (reply) => {
        this.host.log.info({ cid: msg.cid, status: reply.status }, 'register');
        this.host.reply(session, msg.id, reply.status, reply.data);
      });
  }

  /** UNREGISTER the connection's own name: only once it proved its key (JL), else 10. */
  unregister(session: Session, msg: UnregisterMsg): Promise<void> | void {
    const twin = session.twin;
    if (twin.anonymous) return this.host.reply(session, msg.id, STATUS.ERROR, 'invalid operation');
    return this.answer(session, msg.id, this.host.auth.onUnregister(twin.name, session.login.authenticated),
      (reply) => this.host.reply(session, msg.id, reply.status, reply.data));
  }

  private bind(session: Session, id: MsgId, cid: string): void {
    const { host } = this;
    // Re-checked: the name may have been taken while the store was read.
    if (!session.twin.anonymous) return host.reply(session, id, STATUS.ERROR, 'already identified');
    if (host.isConnected(cid)) return host.reply(session, id, STATUS.NAME_ALREADY_TAKEN, 'already connected');
    const refusal = host.admit?.(cid) ?? null;
    if (refusal !== null) return host.reply(session, id, STATUS.ERROR, refusal);
    host.bindName(session, cid);
    // Proven: the login deadline of auth 'required' (opened) no longer applies.
    if (session.login.authenticated) session.closeTimer?.();
    host.reply(session, id, STATUS.OK, null);
  }

  /** Await the authenticator; act on its reply only if the connection is still served. */
  private async answer(session: Session, id: MsgId, pending: Promise<AuthReply>, act: (reply: AuthReply) => void): Promise<void> {
    let reply: AuthReply;
    try {
      reply = await pending;
    } catch (err) {
      this.host.log.error({ err: errorText(err) }, 'login step failed');
      reply = { status: STATUS.ERROR, data: 'internal error' };
    }
    if (this.host.isLive(session)) act(reply);
  }
}
