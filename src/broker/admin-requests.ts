/**
 * The broker's answer to an ADMIN message (spec §6): authorization commands go to the security
 * store, the admin-only broker commands to the broker's control, declarations (subscribe,
 * expose, setup, …) to the router (admin.ts). A named twin's declaration is durable before it
 * is confirmed; a subscription's retained values and replay follow its reply.
 */
import { STATUS, type AdminMsg, type MsgId } from '../protocol/messages.js';
import { SECURITY_ADMIN_COMMANDS, securityAdminCommand } from '../security/admin-commands.js';
import type { Authenticator } from '../security/authenticator.js';
import { BROKER_ADMIN_COMMANDS, brokerAdminCommand, handleAdmin, isGroupCommand, type BrokerControl } from './admin.js';
import { identityOf, type Guard } from './guard.js';
import type { MessageLog } from './message-log.js';
import { negotiateMeta, type MetaPolicy } from './meta-frames.js';
import type { Presence } from './presence.js';
import type { Replays } from './replay.js';
import type { RetainedValues } from './retained.js';
import type { Router } from './router.js';
import type { TwinPersistence } from './twin-persistence.js';
import type { Session } from './twin.js';

/** What {@link AdminRequests} acts on. */
export interface AdminRequestsDeps {
  readonly auth: Authenticator;
  readonly guard: Guard;
  readonly router: Router;
  readonly messageLog: MessageLog;
  readonly retained: RetainedValues;
  readonly presence: Presence;
  readonly replays: Replays;
  readonly twins: TwinPersistence;
  readonly metaPolicy: MetaPolicy;
  readonly control: BrokerControl;
  readonly reply: (session: Session, id: MsgId, status: number, data: unknown) => void;
}

export class AdminRequests {
  constructor(private readonly deps: AdminRequestsDeps) {}

  onAdmin(session: Session, msg: AdminMsg): Promise<void> | void {
    const { auth, control, router, guard, metaPolicy, messageLog, presence, replays, twins, reply } = this.deps;
    const twin = session.twin;
    const cmd = msg.cmd['cmd'];
    if (typeof cmd === 'string' && SECURITY_ADMIN_COMMANDS.has(cmd)) {
      return securityAdminCommand(auth, identityOf(twin), msg.topic, msg.cmd)
        .then((answer = { status: STATUS.UNKNOWN_ADMIN_CMD, data: null }) => reply(session, msg.id, answer.status, answer.data));
    }
    if (typeof cmd === 'string' && BROKER_ADMIN_COMMANDS.has(cmd)) {
      const [status, data] = brokerAdminCommand(control, twin, cmd);
      return reply(session, msg.id, status, data);
    }
    const existed = twin.subscriptions.has(msg.topic);
    const [status, answer] = handleAdmin(router, twin, msg,
      (action, topic) => guard.mayDeclare(twin, action, topic));
    // TS extensions: publish metadata (pub-meta.ts); a subscription's retained values right after its reply (retained.ts).
    const data = negotiateMeta(session, msg.cmd, status, answer, metaPolicy);
    const retained = status === STATUS.OK && cmd === 'subscribe' ? this.deps.retained.sender(twin, msg.topic, messageLog.head,
      (out) => router.deliverTo(twin, out)) : undefined;
    if (status === STATUS.OK && (cmd === 'expose' || cmd === 'unexpose')) presence.declared(twin, cmd, msg.topic);
    if (status === STATUS.OK && !twin.anonymous && !isGroupCommand(msg)) {
      // Replays (replay.ts): a subscription's own replay starts once its reply has left.
      const replay = replays.afterAdmin(twin, msg.cmd, msg.topic, existed);
      if (cmd === 'subscribe' || cmd === 'unsubscribe' || cmd === 'expose' || cmd === 'unexpose' || cmd === 'setup') {
        // Declarations of a named twin are durable (one key each, with the next commit) before they are
        // confirmed; a subscription's own replay starts once its reply has left.
        twins.declared(twin, cmd, msg.topic);
        messageLog.afterCommit(() => {
          reply(session, msg.id, status, data);
          retained?.();
          replay?.();
        });
        return;
      }
    }
    reply(session, msg.id, status, data);
    retained?.();
  }
}
