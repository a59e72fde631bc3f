/**
 * Admin commands (spec §6): subscribe, unsubscribe, expose, unexpose, reactive, setup.
 * Returns the RESPONSE status and data; authorization commands arrive with security.
 */
import { errorText } from '../internal/logger.js';
import { CONFIG_TOPIC, STATUS, type AdminMsg } from '../protocol/messages.js';
import { validatePattern, validateTopic } from '../topic/validate.js';
import type { Router } from './router.js';
import type { Twin } from './twin.js';

export type AdminReply = [status: number, data: unknown];

const OK: AdminReply = [STATUS.OK, null];

export function handleAdmin(router: Router, twin: Twin, msg: AdminMsg): AdminReply {
  const cmd = msg.cmd['cmd'];
  if (typeof cmd !== 'string') return [STATUS.ERROR, 'admin message without cmd'];
  try {
    switch (cmd) {
      case 'subscribe': {
        const msgFrom = msg.cmd['msg_from'];
        router.subscribe(twin, validatePattern(msg.topic), typeof msgFrom === 'number' ? msgFrom : 0);
        return OK;
      }
      case 'unsubscribe':
        router.unsubscribe(twin, msg.topic);
        return OK;
      case 'expose':
        router.expose(twin, validateTopic(msg.topic));
        return OK;
      case 'unexpose':
        router.unexpose(twin, msg.topic);
        return OK;
      case 'reactive':
        twin.reactive = msg.cmd['status'] !== false;
        return OK;
      case 'setup': return setup(router, twin, msg.cmd);
      case 'private_topic': case 'public_topic': case 'authorize': case 'unauthorize':
      case 'private_topics_config': case 'broker_config': case 'load_config': case 'save_config':
      case 'shutdown': case 'enable_debug': case 'disable_debug':
        return [STATUS.ERROR, 'unauthorized'];
      default:
        return [STATUS.UNKNOWN_ADMIN_CMD, null];
    }
  } catch (err) {
    return [STATUS.ERROR, errorText(err)];
  }
}

/** JL bulk re-registration after a reconnect; then acts like `reactive` (spec §6). */
function setup(router: Router, twin: Twin, cmd: Record<string, unknown>): AdminReply {
  const exposers = Array.isArray(cmd['exposers']) ? cmd['exposers'] : [];
  const subscribers = Array.isArray(cmd['subscribers']) ? cmd['subscribers'] : [];
  for (const m of exposers) router.expose(twin, validateTopic(m));
  for (const t of subscribers) router.subscribe(twin, validatePattern(t), 0);
  twin.reactive = true;
  return OK;
}

export { CONFIG_TOPIC };
