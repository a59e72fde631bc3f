/**
 * The authorization admin commands (spec §6, §6.1, §6.2): `private_topic`, `public_topic`,
 * `authorize`, `unauthorize`, and JL's `private_topics_config`, `load_config`, `save_config`.
 * Admin only — a listed name that proved itself (README "Security"); anyone else gets status 10
 * `"unauthorized"`.
 */
import { STATUS } from '../protocol/messages.js';
import type { AuthReply, Authenticator, Identity } from './authenticator.js';

/** The admin commands {@link securityAdminCommand} answers. */
export const SECURITY_ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  'private_topic', 'public_topic', 'authorize', 'unauthorize', 'private_topics_config', 'load_config', 'save_config',
]);

/**
 * Run one authorization admin command for `sender`, or resolve undefined when `cmd.cmd` is not
 * one of {@link SECURITY_ADMIN_COMMANDS} (the broker handles it). Never rejects.
 * @param sender the sending connection's name and whether it proved it
 * @param topic the ADMIN message topic (the topic to change; `__config__` for broker-wide commands)
 * @param cmd the ADMIN message map, `{ cmd, cid? }`
 * @example
 * ```ts
 * const reply = await securityAdminCommand(auth, { name: 'ops', proven: true }, msg.topic, msg.cmd);
 * if (reply !== undefined) send({ type: 'response', id: msg.id, ...reply });
 * ```
 */
export async function securityAdminCommand(
  auth: Authenticator, sender: Identity, topic: string, cmd: Record<string, unknown>,
): Promise<AuthReply | undefined> {
  const name = cmd['cmd'];
  if (typeof name !== 'string' || !SECURITY_ADMIN_COMMANDS.has(name)) return undefined;
  if (!auth.isAdmin(sender.name, sender.proven)) return { status: STATUS.ERROR, data: 'unauthorized' };
  const store = auth.store;
  const cid = cmd['cid'];
  try {
    switch (name) {
      case 'private_topic': await store.makePrivate(topic); break;
      case 'public_topic': await store.makePublic(topic); break;
      case 'authorize': case 'unauthorize':
        if (typeof cid !== 'string' || cid === '') return { status: STATUS.ERROR, data: 'cid missing' };
        await (name === 'authorize' ? store.authorize(topic, cid) : store.unauthorize(topic, cid));
        break;
      case 'private_topics_config': return { status: STATUS.OK, data: store.privateTopics() };
      case 'load_config': await store.reload(); break;
      case 'save_config': await store.save(); break;
    }
    return { status: STATUS.OK, data: null };
  } catch (err) {
    return { status: STATUS.ERROR, data: (err as Error).message };
  }
}
