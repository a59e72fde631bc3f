/**
 * Admin from code (spec §6): typed helpers for every admin command a component may send —
 * the authorization commands (`private_topic`, `public_topic`, `authorize`, `unauthorize`,
 * `private_topics_config`, `load_config`, `save_config`) and the broker commands
 * (`broker_config`, `shutdown`, `enable_debug`, `disable_debug`). Refusals are typed errors.
 * Browser-safe: it only sends ADMIN messages on the component's link.
 */
import { newMsgId } from '../codec/msgid.js';
import { RembusError } from '../errors.js';
import { CONFIG_TOPIC, STATUS } from '../protocol/messages.js';
import { ComponentImpl } from './component-impl.js';
import type { Component } from './types.js';

/** The broker refused an admin command: the sender is not an admin (status 10 "unauthorized"). */
export class AdminUnauthorizedError extends RembusError {
  readonly code = 'ADMIN_UNAUTHORIZED';
  constructor(readonly command: string, options?: ErrorOptions) {
    super(`admin command '${command}' refused: not an admin`, options);
    this.name = 'AdminUnauthorizedError';
  }
}

/** The broker does not know the admin command (status 47). */
export class UnknownAdminCommandError extends RembusError {
  readonly code = 'ADMIN_UNKNOWN_COMMAND';
  constructor(readonly command: string, options?: ErrorOptions) {
    super(`admin command '${command}' is not known to the broker`, options);
    this.name = 'UnknownAdminCommandError';
  }
}

/** The broker failed the admin command for another reason (`status`, `details` from its answer). */
export class AdminCommandError extends RembusError {
  readonly code = 'ADMIN_FAILED';
  constructor(readonly command: string, readonly status: number, readonly details: unknown, options?: ErrorOptions) {
    super(`admin command '${command}' failed (status ${status}): ${typeof details === 'string' ? details : JSON.stringify(details)}`,
      options);
    this.name = 'AdminCommandError';
  }
}

/** `broker_config`: who exposes and who subscribes to what. */
export interface BrokerConfig {
  exposers: Record<string, string[]>;
  subscribers: Record<string, string[]>;
}

/** The admin commands of one component; get it with {@link admin}. */
export interface Admin {
  /** Make `topic` private: only admins and authorized names may use it (spec §6.2). */
  privateTopic(topic: string): Promise<void>;
  /** Make `topic` public again. */
  publicTopic(topic: string): Promise<void>;
  /** Allow component `cid` on the private `topic` (making it private if it was not). */
  authorize(cid: string, topic: string): Promise<void>;
  /** Withdraw `cid`'s access to `topic`. */
  unauthorize(cid: string, topic: string): Promise<void>;
  /** `{ topic: [names] }` of every private topic. */
  privateTopics(): Promise<Record<string, string[]>>;
  /** Who exposes and who subscribes to what. */
  brokerConfig(): Promise<BrokerConfig>;
  /** Re-read the broker's provisioning files. */
  loadConfig(): Promise<void>;
  /** Write the broker's provisioning files. */
  saveConfig(): Promise<void>;
  /** Switch the broker's debug logging on or off. */
  debug(on: boolean): Promise<void>;
  /** Stop the broker (it answers first). */
  shutdown(): Promise<void>;
  /** Any admin command: `{ cmd, ...fields }` on `topic` (default `__config__`); resolves with its data. */
  command(cmd: string, fields?: Record<string, unknown>, topic?: string): Promise<unknown>;
}

/**
 * The admin commands of a connected component. The broker runs them only for admins
 * (`admins.json` or `broker({ admins })`); anyone else gets AdminUnauthorizedError.
 *
 * @example
 * ```ts
 * import { admin, connect } from 'rembus';
 * await using node = await connect('ws://127.0.0.1:8338/root');
 * await admin(node).privateTopic('payroll');
 * await admin(node).authorize('hr', 'payroll');
 * console.log(await admin(node).brokerConfig());
 * ```
 * @param node a component made by `connect()` or `component()` on a Rembus broker
 * @returns the admin helpers; each rejects with AdminUnauthorizedError, UnknownAdminCommandError,
 * AdminCommandError, or the request's ConnectionClosedError / RpcTimeoutError
 * @throws AdminCommandError (status -1) for a component that cannot send admin commands (MQTT)
 */
export function admin(node: Component): Admin {
  if (!(node instanceof ComponentImpl)) throw new AdminCommandError('admin', -1, 'this component cannot send admin commands');
  const command = async (cmd: string, fields: Record<string, unknown> = {}, topic = CONFIG_TOPIC): Promise<unknown> => {
    const reply = await node.adminRequest({ type: 'admin', id: newMsgId(), topic, cmd: { ...fields, cmd } });
    if (reply.status === STATUS.OK) return reply.data;
    if (reply.status === STATUS.UNKNOWN_ADMIN_CMD) throw new UnknownAdminCommandError(cmd);
    if (reply.status === STATUS.ERROR && reply.data === 'unauthorized') throw new AdminUnauthorizedError(cmd);
    throw new AdminCommandError(cmd, reply.status, reply.data);
  };
  const run = (cmd: string, fields?: Record<string, unknown>, topic?: string) => command(cmd, fields, topic).then(() => undefined);
  return {
    privateTopic: (topic) => run('private_topic', {}, topic),
    publicTopic: (topic) => run('public_topic', {}, topic),
    authorize: (cid, topic) => run('authorize', { cid }, topic),
    unauthorize: (cid, topic) => run('unauthorize', { cid }, topic),
    privateTopics: async () => (await command('private_topics_config') ?? {}) as Record<string, string[]>,
    brokerConfig: async () => (await command('broker_config')) as BrokerConfig,
    loadConfig: () => run('load_config'),
    saveConfig: () => run('save_config'),
    debug: (on) => run(on ? 'enable_debug' : 'disable_debug'),
    shutdown: () => run('shutdown'),
    command,
  };
}
