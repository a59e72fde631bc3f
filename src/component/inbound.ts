/**
 * The component's inbound frames, in the order they came: each decoded message goes to its
 * stage — a RESPONSE to the request waiting for it (else to the acknowledged publish it refuses,
 * or, a stream's cancel, to the call served), PUB and ACK2 to the subscriptions, RPC to the
 * calls served, ACK to the publisher. A frame that does not decode is dropped and logged.
 */
import type { Frame } from '../codec/wire.js';
import { errorText } from '../internal/logger.js';
import type { Msg } from '../protocol/messages.js';
import type { Handler, Logger } from '../types.js';
import type { ClientSession } from './connection.js';
import type { Publisher } from './publisher.js';
import { dataOrUndefined, type Requests } from './requests.js';
import type { Serving } from './serve.js';
import type { Subscriptions } from './subscriptions.js';

/** The stages {@link inbound} dispatches to. */
export interface InboundStages {
  readonly log: Logger;
  readonly requests: Requests;
  readonly serving: Serving;
  readonly publisher: Publisher;
  readonly subscriptions: Subscriptions;
  /** The methods this component exposes, by name. */
  readonly exposed: ReadonlyMap<string, Handler>;
}

/** The handler of a session's frames. */
export function inbound({ log, requests, serving, publisher, subscriptions, exposed }: InboundStages):
  (session: ClientSession, frame: Frame) => void {
  return (session, frame) => {
    let msg: Msg;
    try {
      msg = session.decode(frame);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'frame dropped');
      return;
    }
    switch (msg.type) {
      case 'response':
        if (msg.stream === 'cancel') return void serving.cancel(session, msg.id);
        if (requests.resolve(session, msg) || publisher.refused(msg.id, dataOrUndefined(msg))) return;
        log.debug({ id: msg.id.toString(16) }, 'response with unknown id ignored');
        return;
      case 'pub': return subscriptions.onPublish(session, msg);
      case 'rpc': return serving.serve(session, msg, exposed.get(msg.topic));
      case 'ack': return publisher.acks$.next(msg.id);
      case 'ack2': return subscriptions.onAck2(msg.id);
      default:
        log.debug({ type: msg.type }, 'unexpected message ignored');
    }
  };
}
