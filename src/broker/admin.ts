/**
 * Admin commands (spec §6): subscribe, unsubscribe, expose, unexpose, reactive, setup, and the
 * admin-only broker commands (JL): broker_config, shutdown, enable_debug, disable_debug. The
 * authorization commands (private_topic, authorize, …) are answered by `securityAdminCommand`
 * before these. Each returns the RESPONSE status and data.
 */
import type { SchedulerLike } from 'rxjs';
import { soon } from '../internal/clock.js';
import { errorText } from '../internal/logger.js';
import { CONFIG_TOPIC, STATUS, type AdminMsg } from '../protocol/messages.js';
import { validatePattern, validateTopic } from '../topic/validate.js';
import type { Logger } from '../types.js';
import type { Guard } from './guard.js';
import { msgFromOf } from './msg-from.js';
import type { Router } from './router.js';
import { shareOf, type Share } from '../protocol/share.js';
import type { Twin } from './twin.js';

export type AdminReply = [status: number, data: unknown];

/** May the sender subscribe to / expose this topic? (private topics, spec §6.2) */
export type MayDeclare = (action: 'subscribe' | 'expose', topic: string) => boolean;

const OK: AdminReply = [STATUS.OK, null];
const UNAUTHORIZED: AdminReply = [STATUS.ERROR, 'unauthorized'];

/** The JL `__config__` commands only admins may run (spec §6.1). */
export const BROKER_ADMIN_COMMANDS: ReadonlySet<string> = new Set(['broker_config', 'shutdown', 'enable_debug', 'disable_debug']);

/** What the admin-only broker commands act on. */
export interface BrokerControl {
  /** Is `twin` an admin that proved its name? (README "Security") */
  isAdmin(twin: Twin): boolean;
  /** `{ exposers: { method: [names] }, subscribers: { topic: [names] } }`. */
  config(): unknown;
  /** Stop the broker after the reply has been sent. */
  shutdown(): void;
  /** Switch debug logging on or off (a no-op for a logger without a level). */
  debug(on: boolean): void;
}

export function handleAdmin(router: Router, twin: Twin, msg: AdminMsg, may: MayDeclare): AdminReply {
  const cmd = msg.cmd['cmd'];
  if (typeof cmd !== 'string') return [STATUS.ERROR, 'admin message without cmd'];
  try {
    if (cmd === 'subscribe' || cmd === 'unsubscribe') {
      const share = shareOf(msg.topic, msg.cmd);
      if (share !== undefined) return groupCommand(router, twin, cmd, share, msg.cmd['msg_from'], may);
    }
    switch (cmd) {
      case 'subscribe': {
        // A bad msg_from is refused, never stored (10, as both references answer a bad admin message).
        const msgFrom = msgFromOf(msg.cmd['msg_from']);
        if (typeof msgFrom !== 'number') return [STATUS.ERROR, msgFrom.refused];
        if (!may('subscribe', msg.topic)) return UNAUTHORIZED;
        router.subscribe(twin, validatePattern(msg.topic), msgFrom);
        return OK;
      }
      case 'unsubscribe':
        router.unsubscribe(twin, msg.topic);
        return OK;
      case 'expose':
        if (!may('expose', msg.topic)) return UNAUTHORIZED;
        router.expose(twin, validateTopic(msg.topic));
        return OK;
      case 'unexpose':
        router.unexpose(twin, msg.topic);
        return OK;
      case 'reactive':
        twin.reactive = msg.cmd['status'] !== false;
        return OK;
      case 'setup': return setup(router, twin, msg.cmd, may);
      default:
        return [STATUS.UNKNOWN_ADMIN_CMD, null];
    }
  } catch (err) {
    return [STATUS.ERROR, errorText(err)];
  }
}

/** Is this a group (shared) subscribe or unsubscribe? Those are not durable and never replay. */
export function isGroupCommand(msg: AdminMsg): boolean {
  const cmd = msg.cmd['cmd'];
  return (cmd === 'subscribe' || cmd === 'unsubscribe') && (msg.cmd['group'] != null || msg.topic.startsWith('$share/'));
}

/**
 * Join or leave a group (README "Shared subscriptions"). Authorized as a plain subscribe of the
 * pattern; a msg_from other than Now is refused: group messages are never replayed (each went
 * to one member), what no member could take waits in the group instead.
 */
function groupCommand(router: Router, twin: Twin, cmd: 'subscribe' | 'unsubscribe', share: Share, msgFrom: unknown,
  may: MayDeclare): AdminReply {
  const groups = router.groups;
  if (groups === undefined) return [STATUS.ERROR, 'shared subscriptions are not supported'];
  if (cmd === 'unsubscribe') {
    groups.leave(twin, share);
    return OK;
  }
  const from = msgFromOf(msgFrom);
  if (typeof from !== 'number') return [STATUS.ERROR, from.refused];
  if (from !== 0) return [STATUS.ERROR, 'a group subscription has no msg_from: group messages are not replayed'];
  if (!may('subscribe', share.pattern)) return UNAUTHORIZED;
  groups.join(twin, share);
  return OK;
}

/** An admin-only broker command: 10 "unauthorized" for anyone but an admin (spec §6.1). */
export function brokerAdminCommand(control: BrokerControl, twin: Twin, cmd: string): AdminReply {
  if (!control.isAdmin(twin)) return UNAUTHORIZED;
  switch (cmd) {
    case 'broker_config': return [STATUS.OK, control.config()];
    case 'shutdown':
      control.shutdown();
      return OK;
    default:
      control.debug(cmd === 'enable_debug');
      return OK;
  }
}

/** The control of a broker whose twins are `twins()`; `shutdown` runs once the command's reply has left. */
export function brokerControl(guard: Guard, twins: () => Iterable<Twin>, log: Logger, shutdown: () => void,
  scheduler: SchedulerLike | undefined): BrokerControl {
  return {
    isAdmin: (twin) => guard.isAdmin(twin),
    config: () => brokerConfig(new Set(twins())),
    shutdown: () => {
      log.warn('shutdown requested by an admin');
      // After the reply has left: the close would otherwise race it.
      soon(scheduler, shutdown);
    },
    debug: (on) => setDebug(log, on),
  };
}

/** JL `broker_config`: who exposes and who subscribes to what (spec §6). */
export function brokerConfig(twins: Iterable<Twin>): { exposers: Record<string, string[]>; subscribers: Record<string, string[]> } {
  const exposers: Record<string, string[]> = {};
  const subscribers: Record<string, string[]> = {};
  for (const twin of twins) {
    for (const method of twin.exposed) (exposers[method] ??= []).push(twin.name);
    for (const topic of twin.subscriptions.keys()) (subscribers[topic] ??= []).push(twin.name);
  }
  return { exposers, subscribers };
}

/** `enable_debug` / `disable_debug` on a pino logger (its `level`); loggers without one are left alone. */
export function setDebug(log: Logger, on: boolean): void {
  const leveled = log as Logger & { level?: unknown };
  if (typeof leveled.level === 'string') leveled.level = on ? 'debug' : 'info';
}

/** JL bulk re-registration after a reconnect; then acts like `reactive` (spec §6). All or nothing. */
function setup(router: Router, twin: Twin, cmd: Record<string, unknown>, may: MayDeclare): AdminReply {
  const exposers = (Array.isArray(cmd['exposers']) ? cmd['exposers'] : []).map((m) => validateTopic(m));
  const subscribers = (Array.isArray(cmd['subscribers']) ? cmd['subscribers'] : []).map((t) => validatePattern(t));
  if (!exposers.every((m) => may('expose', m)) || !subscribers.every((t) => may('subscribe', t))) return UNAUTHORIZED;
  for (const m of exposers) router.expose(twin, m);
  for (const t of subscribers) {
    const share = shareOf(t, {});
    if (share === undefined) router.subscribe(twin, t, 0);
    else router.groups?.join(twin, share);
  }
  twin.reactive = true;
  return OK;
}

export { CONFIG_TOPIC };
